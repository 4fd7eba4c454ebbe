import { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isResourcePermission,
  Permission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  decideAction,
  Environment,
  ENVIRONMENTS,
  environmentSchema,
  KmpAction,
  KmpScope,
  KMP_CLUSTER_RESOURCE_TYPE,
  KMP_CLUSTER_SCOPE,
  KmpClusterScope,
  KUBE_ACTIONS,
  Persona,
  PersonaGrant,
  personaGrantsOf,
  PersonaMapping,
  personaMappingsSchema,
  personasIn,
  READ_ACTIONS,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';
import {
  createKmpClusterConditionalDecision,
  KmpClusterCriteria,
  kmpClusterConditions as c,
} from './conditions';

/** The caller as the permission framework describes it. */
export interface KmpPolicyUser {
  userEntityRef: string;
  ownershipEntityRefs: string[];
}

/** What the persona policy is configured with. */
export interface KmpPersonaSettings {
  /** `kmp.personas`. */
  mappings: PersonaMapping[];
  /** `kmp.environmentGroups`: the environment of each group. */
  environmentGroups: Array<{ name: string; environment: Environment }>;
  /** `kmp.broker.gitopsIdentities`: the writers of production. */
  gitopsIdentities: string[];
}

/** One persona a caller holds in one environment group. */
export interface KmpPersonaAssignment {
  environmentGroup: string;
  environment: Environment;
  persona: Persona;
}

const groupsSchema = z.array(
  z.object({ name: z.string(), environment: environmentSchema }),
);

function configIssue(root: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const key = issue.path.reduce<string>(
    (acc, part) =>
      typeof part === 'number' ? `${acc}[${part}]` : `${acc}.${String(part)}`,
    root,
  );
  return `Invalid configuration at ${key}: ${issue.message}`;
}

/**
 * Reads `kmp.personas` (with the environment of each `kmp.environmentGroups`
 * entry and `kmp.broker.gitopsIdentities`); a malformed mapping fails
 * start-up with one line naming the key.
 */
export function readKmpPersonaSettings(config: Config): KmpPersonaSettings {
  const mappings = personaMappingsSchema.safeParse(
    config.getOptional('kmp.personas') ?? [],
  );
  if (!mappings.success) {
    throw new Error(configIssue('kmp.personas', mappings.error));
  }
  // The registry validates environment groups strictly; only name and
  // environment matter here.
  const groups = groupsSchema.safeParse(
    config.getOptional('kmp.environmentGroups') ?? [],
  );
  if (!groups.success) {
    throw new Error(configIssue('kmp.environmentGroups', groups.error));
  }
  return {
    mappings: mappings.data,
    environmentGroups: groups.data.map(g => ({
      name: g.name,
      environment: g.environment,
    })),
    gitopsIdentities:
      config.getOptionalStringArray('kmp.broker.gitopsIdentities') ?? [],
  };
}

/** Where a grant applies: named groups of one environment, or everywhere. */
type Place =
  | { environment: Environment; environmentGroups: string[] }
  | { environment: Environment; environmentGroups?: undefined };

const lower = (ref: string) => ref.toLocaleLowerCase('en-US');

/**
 * The persona RBAC mapper: identity-provider groups (a user's ownership
 * refs) → personas per environment group (`kmp.personas`) → permission
 * decisions from the persona matrix (PERSONAS.md, `decideAction`), with
 * conditions on the `kmp-cluster` resource where a scope applies.
 *
 * The permission policy module asks it for decisions; the KMP backend asks
 * it for a caller's personas (impersonation group, audit, `/me`) and, for
 * KMP-issued kubeconfig tokens whose bearer has no Backstage token, for the
 * conditions of the token's owner.
 */
export class KmpPersonaPolicy {
  private readonly gitops: Set<string>;
  private readonly environmentOf: Map<string, Environment>;

  private constructor(private readonly settings: KmpPersonaSettings) {
    this.gitops = new Set(settings.gitopsIdentities.map(lower));
    this.environmentOf = new Map(
      settings.environmentGroups.map(g => [g.name, g.environment]),
    );
  }

  static create(settings: KmpPersonaSettings): KmpPersonaPolicy {
    return new KmpPersonaPolicy(settings);
  }

  static fromConfig(config: Config): KmpPersonaPolicy {
    return new KmpPersonaPolicy(readKmpPersonaSettings(config));
  }

  /** The configured GitOps identity: the only writer of production. */
  isGitops(ref: string): boolean {
    return this.gitops.has(lower(ref));
  }

  grantsOf(ownershipRefs: readonly string[]): PersonaGrant[] {
    return personaGrantsOf(this.settings.mappings, ownershipRefs);
  }

  /** The caller's personas in one environment group, most privileged first. */
  personasIn(
    ownershipRefs: readonly string[],
    environmentGroup: string,
  ): Persona[] {
    return personasIn(this.grantsOf(ownershipRefs), environmentGroup);
  }

  /** Every persona the caller holds, per configured environment group. */
  assignments(ownershipRefs: readonly string[]): KmpPersonaAssignment[] {
    const grants = this.grantsOf(ownershipRefs);
    return this.settings.environmentGroups.flatMap(group =>
      personasIn(grants, group.name).map(persona => ({
        environmentGroup: group.name,
        environment: group.environment,
        persona,
      })),
    );
  }

  /**
   * The decision on a KMP permission (`kmp.*`); other permissions are not
   * KMP's to decide and are allowed.
   */
  decide(
    permission: Permission,
    user: KmpPolicyUser | undefined,
  ): PolicyDecision {
    if (!permission.name.startsWith('kmp.')) {
      return { result: AuthorizeResult.ALLOW };
    }
    if (!user) return { result: AuthorizeResult.DENY };
    if (this.isGitops(user.userEntityRef)) {
      return { result: AuthorizeResult.ALLOW };
    }
    const refs = user.ownershipEntityRefs;
    const grants = this.grantsOf(refs);
    switch (permission.name) {
      case 'kmp.cluster.read':
        return this.clusterReadDecision(permission, grants, teamsOf(refs));
      case 'kmp.environment-group.read':
      case 'kmp.policy.read':
        // Environment groups, profiles and the policy bundle are for
        // everybody signed in; which clusters one sees is decided above.
        return { result: AuthorizeResult.ALLOW };
      case 'kmp.cluster.access.read':
        return this.accessDecision(permission, grants, teamsOf(refs), [
          ...READ_ACTIONS,
        ]);
      case 'kmp.cluster.access.write':
        return this.accessDecision(permission, grants, teamsOf(refs), [
          ...KUBE_ACTIONS,
        ]);
      case 'kmp.kubeconfig.issue':
        return this.placeDecision(permission, grants, 'kubeconfig');
      case 'kmp.cluster.update':
      case 'kmp.cluster.decommission':
        return this.placeDecision(permission, grants, 'manage-platform');
      case 'kmp.break-glass.request':
        return this.placeDecision(permission, grants, 'break-glass-request');
      case 'kmp.break-glass.approve':
        // Basic permission; "never one's own" is the break-glass domain's.
        return this.anywhere(grants, 'break-glass-approve');
      case 'kmp.audit.read':
        // Developers may read their own actions only, which the basic
        // permission cannot express: they are refused it here, and the
        // audit API serves them their own actions (a forced actor filter).
        return this.anywhere(grants, 'read-audit', d => !d.ownActionsOnly);
      case 'kmp.cluster.register':
      case 'kmp.policy.manage':
      default:
        // Registering clusters, policy bundles and anything KMP adds later:
        // platform engineers.
        return this.anywhere(grants, 'manage-platform');
    }
  }

  /**
   * The conditions on broker access (`kmp.cluster.access.*`) for a set of
   * grants: per persona and environment, the actions the matrix allows
   * directly (not through Git), within the persona's namespace scope, and
   * under an active break-glass grant the break-glass cells and the changes
   * that otherwise go through Git.
   */
  accessCriteria(
    grants: readonly PersonaGrant[],
    teams: readonly string[],
    actions: readonly KmpAction[] = KUBE_ACTIONS,
  ): KmpClusterCriteria[] {
    const criteria: KmpClusterCriteria[] = [];
    for (const grant of grants) {
      for (const place of this.placesOf(grant)) {
        const where = this.whereOf(place, grant.persona);
        const buckets = new Map<string, KmpAction[]>();
        for (const action of actions) {
          const d = decideAction({
            persona: grant.persona,
            environment: place.environment,
            action,
          });
          let kind: 'direct' | 'break-glass';
          if (d.allowed && d.via !== 'gitops') kind = 'direct';
          else if (d.via) kind = 'break-glass';
          else continue;
          const key = `${kind} ${d.scope ?? 'all'}`;
          buckets.set(key, [...(buckets.get(key) ?? []), action]);
        }
        for (const [key, bucket] of buckets) {
          const [kind, scope] = key.split(' ') as [string, KmpScope];
          criteria.push({
            allOf: [
              where,
              c.actionIn({ actions: bucket }),
              ...(kind === 'break-glass'
                ? [c.breakGlassActive(undefined)]
                : []),
              ...this.scopeCriteria(scope, teams),
            ],
          });
          if (scope !== 'all' && bucket.includes('read')) {
            // Discovery (`kubectl api-resources`, `auth can-i`) is a read
            // with no namespace: every persona may discover the API.
            criteria.push({
              allOf: [
                where,
                c.actionIn({ actions: ['read'] }),
                c.discoveryRequest(undefined),
              ],
            });
          }
        }
      }
    }
    return criteria;
  }

  /**
   * The conditions of `kmp.cluster.read` for a set of grants (PERSONAS.md,
   * "which clusters", as `KMP_CLUSTER_SCOPE` says): the clusters of the
   * environment groups where the caller holds a persona; for developers only
   * those where one of their teams has a tenant namespace, for edge
   * operators only the edge clusters; `undefined` when the caller sees every
   * cluster (a grant in every environment group of a persona that sees all
   * of them). The registry applies them to its list query as a database
   * filter.
   */
  clusterReadCriteria(
    grants: readonly PersonaGrant[],
    teams: readonly string[],
  ): KmpClusterCriteria[] | undefined {
    const byScope: Record<KmpClusterScope, Set<string>> = {
      'environment-groups': new Set(),
      'team-tenants': new Set(),
      'edge-clusters': new Set(),
    };
    const everywhere = new Set<KmpClusterScope>();
    for (const grant of grants) {
      const scope = KMP_CLUSTER_SCOPE[grant.persona];
      if (!grant.environmentGroups) {
        if (scope === 'environment-groups') return undefined;
        everywhere.add(scope);
        continue;
      }
      for (const group of grant.environmentGroups) {
        byScope[scope].add(group);
      }
    }
    const whole = byScope['environment-groups'];
    const criteria: KmpClusterCriteria[] = [];
    if (whole.size > 0) {
      criteria.push(
        c.inEnvironmentGroups({ environmentGroups: [...whole].sort() }),
      );
    }
    const narrowed: Array<[KmpClusterScope, KmpClusterCriteria]> = [
      ['team-tenants', c.hasTenantOfTeams({ teams: [...teams].sort() })],
      ['edge-clusters', c.edgeCluster(undefined)],
    ];
    for (const [scope, condition] of narrowed) {
      const groups = [...byScope[scope]].filter(g => !whole.has(g)).sort();
      if (everywhere.has(scope)) {
        criteria.push(condition);
      } else if (groups.length > 0) {
        criteria.push({
          allOf: [
            c.inEnvironmentGroups({ environmentGroups: groups }),
            condition,
          ],
        });
      }
    }
    return criteria;
  }

  private clusterReadDecision(
    permission: Permission,
    grants: PersonaGrant[],
    teams: readonly string[],
  ): PolicyDecision {
    const criteria = this.clusterReadCriteria(grants, teams);
    if (!criteria) return { result: AuthorizeResult.ALLOW };
    if (criteria.length === 0) return { result: AuthorizeResult.DENY };
    if (!isResourcePermission(permission, KMP_CLUSTER_RESOURCE_TYPE)) {
      return { result: AuthorizeResult.DENY };
    }
    return createKmpClusterConditionalDecision(
      permission,
      criteria.length === 1
        ? criteria[0]
        : {
            anyOf: criteria as [KmpClusterCriteria, ...KmpClusterCriteria[]],
          },
    );
  }

  private accessDecision(
    permission: Permission,
    grants: PersonaGrant[],
    teams: string[],
    actions: KmpAction[],
  ): PolicyDecision {
    if (!isResourcePermission(permission, KMP_CLUSTER_RESOURCE_TYPE)) {
      return { result: AuthorizeResult.DENY };
    }
    const criteria = this.accessCriteria(grants, teams, actions);
    if (criteria.length === 0) return { result: AuthorizeResult.DENY };
    return createKmpClusterConditionalDecision(permission, {
      anyOf: criteria as [KmpClusterCriteria, ...KmpClusterCriteria[]],
    });
  }

  private scopeCriteria(
    scope: KmpScope,
    teams: readonly string[],
  ): KmpClusterCriteria[] {
    if (scope === 'all') return [];
    return [
      scope === 'own-namespaces'
        ? c.namespaceOwnedByTeams({ teams: [...teams] })
        : c.tenantNamespace(undefined),
    ];
  }

  /**
   * Cluster-level decision: allowed on the clusters of the environment
   * groups where one of the caller's personas may do `action` (at all, via
   * Git included).
   */
  private placeDecision(
    permission: Permission,
    grants: PersonaGrant[],
    action: KmpAction,
  ): PolicyDecision {
    if (!isResourcePermission(permission, KMP_CLUSTER_RESOURCE_TYPE)) {
      return this.anywhere(grants, action);
    }
    const criteria: KmpClusterCriteria[] = [];
    for (const grant of grants) {
      const places = this.placesOf(grant).filter(
        place =>
          decideAction({
            persona: grant.persona,
            environment: place.environment,
            action,
          }).allowed,
      );
      if (
        !grant.environmentGroups &&
        places.length === ENVIRONMENTS.length &&
        KMP_CLUSTER_SCOPE[grant.persona] !== 'edge-clusters'
      ) {
        return { result: AuthorizeResult.ALLOW };
      }
      criteria.push(...places.map(place => this.whereOf(place, grant.persona)));
    }
    if (criteria.length === 0) return { result: AuthorizeResult.DENY };
    return createKmpClusterConditionalDecision(permission, {
      anyOf: criteria as [KmpClusterCriteria, ...KmpClusterCriteria[]],
    });
  }

  /** Allowed when one persona may do `action` in one of its places. */
  private anywhere(
    grants: PersonaGrant[],
    action: KmpAction,
    accept: (d: ReturnType<typeof decideAction>) => boolean = () => true,
  ): PolicyDecision {
    const allowed = grants.some(grant =>
      this.placesOf(grant).some(place => {
        const d = decideAction({
          persona: grant.persona,
          environment: place.environment,
          action,
        });
        return d.allowed && accept(d);
      }),
    );
    return { result: allowed ? AuthorizeResult.ALLOW : AuthorizeResult.DENY };
  }

  /** The environments a grant covers, with its groups in each. */
  private placesOf(grant: PersonaGrant): Place[] {
    if (!grant.environmentGroups) {
      return ENVIRONMENTS.map(environment => ({ environment }));
    }
    const byEnvironment = new Map<Environment, string[]>();
    for (const group of grant.environmentGroups) {
      const environment = this.environmentOf.get(group);
      // A group that is not configured has no clusters.
      if (!environment) continue;
      byEnvironment.set(environment, [
        ...(byEnvironment.get(environment) ?? []),
        group,
      ]);
    }
    return [...byEnvironment].map(([environment, environmentGroups]) => ({
      environment,
      environmentGroups,
    }));
  }

  /**
   * The clusters of a place for a persona: its groups in its environment,
   * and for a persona scoped to edge clusters (edge operators) only the
   * edge clusters among them, as in `kmp.cluster.read`: what the fleet
   * hides from them, the broker, kubeconfigs and break-glass refuse too.
   */
  private whereOf(place: Place, persona: Persona): KmpClusterCriteria {
    const criteria: KmpClusterCriteria[] = [
      ...(place.environmentGroups
        ? [
            c.inEnvironmentGroups({
              environmentGroups: place.environmentGroups,
            }),
          ]
        : []),
      c.inEnvironments({ environments: [place.environment] }),
      ...(KMP_CLUSTER_SCOPE[persona] === 'edge-clusters'
        ? [c.edgeCluster(undefined)]
        : []),
    ];
    return criteria.length === 1
      ? criteria[0]
      : {
          allOf: criteria as [KmpClusterCriteria, ...KmpClusterCriteria[]],
        };
  }
}
