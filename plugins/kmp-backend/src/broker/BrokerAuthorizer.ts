import {
  PermissionsRegistryService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  actionDependsOnBody,
  checkAccessOfPersonas,
  classifyKubeRequest,
  decideAction,
  isDiscoveryRequest,
  KmpAccessRequest,
  KmpAction,
  kmpClusterAccessReadPermission,
  kmpClusterAccessWritePermission,
  KMP_RULES,
  RegisteredCluster,
  isSystemNamespace,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import {
  KmpClusterAccessResource,
  KmpPersonaPolicy,
} from '@kmp/plugin-kmp-node';
import type { NamespaceDirectory } from '../personas/NamespaceDirectory';
import {
  accessConditionAuthorizer,
  conditionsNeedNamespace,
  denialReason,
} from './accessConditions';
import { CallerIdentity, PersonaResolver } from './identity';
import { authorizationVerb, KubeRequestInfo } from './requestInfo';
import { BrokerError } from './status';

/** An approved, unexpired break-glass grant. */
export interface BreakGlassGrant {
  id: string;
  expiresAt: string;
}

/**
 * Where the broker asks whether a person holds an approved break-glass
 * grant for a cluster. The break-glass domain implements it; until then
 * {@link noBreakGlassGrants} answers "none", so production stays
 * GitOps-only for everybody but the GitOps identity.
 */
export interface BreakGlassGrants {
  activeGrant(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    /** The request, for grants scoped to a namespace. */
    info?: KubeRequestInfo,
  ): Promise<BreakGlassGrant | undefined>;
}

export const noBreakGlassGrants: BreakGlassGrants = {
  async activeGrant() {
    return undefined;
  },
};

/** The rule that refuses hand-made production changes. */
export const PRODUCTION_RULE = KMP_RULES.productionGitOps;

/** A Kubernetes-style "forbidden" message naming KMP's rule. */
export function forbiddenMessage(
  info: KubeRequestInfo,
  user: string,
  why: string,
): string {
  const verb = authorizationVerb(info);
  if (!info.isResourceRequest) {
    return `forbidden: User "${user}" cannot ${verb} path "${info.path}": ${why}`;
  }
  const resource = info.subresource
    ? `${info.resource}/${info.subresource}`
    : info.resource ?? '';
  const subject = `${info.resource}${info.name ? ` "${info.name}"` : ''}`;
  const scope = info.namespace
    ? `in the namespace "${info.namespace}"`
    : 'at the cluster scope';
  return `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${info.apiGroup}" ${scope}: ${why}`;
}

/** What the broker decided about one request, for the proxy and its audit. */
export interface BrokerAuthorization {
  /** The grant a request relies on, if a break-glass grant admits it. */
  breakGlass?: BreakGlassGrant;
  /** The request's action in the persona matrix. */
  action?: KmpAction;
}

type Details = { name?: string; group: string; kind?: string };

const MAX_PATCH_BYTES = 1024 * 1024;

/**
 * The broker's authorisation, by the persona RBAC mapper:
 *
 * 1. the request is classified into an action of the persona matrix
 *    (`classifyKubeRequest`: exec, logs, read-secrets, restart, scale, …);
 * 2. the permission framework decides `kmp.cluster.access.read` (get, list,
 *    watch) or `.write` (everything else) on the cluster: the KMP policy
 *    answers with conditions on environment group, action and namespace
 *    scope, applied here to the access request (cluster, namespace and its
 *    team label as the cluster has it, action, break-glass grant);
 * 3. the environment policy holds whatever the permission policy says:
 *    in production, changes are accepted only from the GitOps identity,
 *    under an approved break-glass grant, or where the caller's persona
 *    allows the operational action (restart, delete a pod).
 *
 * Every refusal is a 403 naming the rule ("production changes go through
 * GitOps", "namespace payments belongs to team team-payments"), which the
 * audit event records as the decision's reason.
 *
 * A KMP-issued kubeconfig token has no Backstage token to ask the
 * permission framework with; its owner's personas (groups recorded at issue
 * time) are decided by the same persona policy here, capped by the token's
 * access level.
 */
export class BrokerAuthorizer {
  private readonly applyConditions: (
    decision: PolicyDecision,
    resource: KmpClusterAccessResource,
  ) => boolean;

  private constructor(
    private readonly permissions: PermissionsService,
    private readonly breakGlass: BreakGlassGrants,
    private readonly personas: PersonaResolver,
    private readonly namespaces: Pick<NamespaceDirectory, 'lookup'> | undefined,
    permissionsRegistry: PermissionsRegistryService | undefined,
  ) {
    this.applyConditions = accessConditionAuthorizer(permissionsRegistry);
  }

  static create(options: {
    permissions: PermissionsService;
    breakGlass?: BreakGlassGrants;
    /** The persona mapping; default: none (`kmp.personas` unread). */
    personas?: PersonaResolver;
    /** Namespace team labels; without it namespaces have no team. */
    namespaces?: Pick<NamespaceDirectory, 'lookup'>;
    /** The plugin's rules for kmp-cluster conditions; default: KMP's own. */
    permissionsRegistry?: PermissionsRegistryService;
  }) {
    return new BrokerAuthorizer(
      options.permissions,
      options.breakGlass ?? noBreakGlassGrants,
      options.personas ??
        PersonaResolver.fromPolicy(
          KmpPersonaPolicy.create({
            mappings: [],
            environmentGroups: [],
            gitopsIdentities: [],
          }),
        ),
      options.namespaces,
      options.permissionsRegistry,
    );
  }

  /**
   * Throws a 403 BrokerError naming the rule when the request is refused;
   * returns the break-glass grant a request relies on, if any, and its
   * action. `options.body` reads the request body, for the requests whose
   * action depends on it (a patch of a workload may be a restart or a
   * scale); without it such a patch is a write.
   */
  async authorize(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    access: 'read' | 'write',
    options?: { body?: () => Promise<Buffer | undefined> },
  ): Promise<BrokerAuthorization> {
    const details: Details = {
      name: info.name,
      group: info.apiGroup,
      kind: info.resource,
    };
    const refuse = (why: string): never => {
      throw new BrokerError(
        403,
        forbiddenMessage(info, identity.ref, why),
        details,
        why,
      );
    };
    if (
      identity.token &&
      access === 'write' &&
      identity.token.access !== 'write'
    ) {
      refuse('the kubeconfig token is read-only');
    }

    const action = await this.classify(info, options?.body);
    const permission =
      access === 'read'
        ? kmpClusterAccessReadPermission
        : kmpClusterAccessWritePermission;

    let decision: PolicyDecision;
    if (identity.token && identity.kind === 'service') {
      // As for service credentials, the permission framework allows
      // services; the environment policy still applies.
      decision = { result: AuthorizeResult.ALLOW };
    } else if (identity.token) {
      decision = this.personas.policy.decide(permission, {
        userEntityRef: identity.ref,
        ownershipEntityRefs: PersonaResolver.ownershipRefs(identity),
      });
    } else {
      if (!identity.credentials) {
        throw new BrokerError(
          401,
          'Unauthorized',
          undefined,
          'not authenticated',
        );
      }
      [decision] = await this.permissions.authorizeConditional(
        [{ permission }],
        { credentials: identity.credentials },
      );
    }

    if (decision.result === AuthorizeResult.DENY) {
      refuse(denialReason(this.personas, identity, cluster, permission));
    }

    if (decision.result === AuthorizeResult.CONDITIONAL) {
      const request = await this.accessRequest(
        cluster,
        info,
        action,
        conditionsNeedNamespace(decision.conditions),
      );
      const resource = { ...cluster, request };
      if (!this.applyConditions(decision, resource)) {
        const grant = this.mayBreakGlass(identity, cluster, action)
          ? await this.breakGlass.activeGrant(identity, cluster, info)
          : undefined;
        if (
          grant &&
          this.applyConditions(decision, {
            ...resource,
            request: { ...request, breakGlass: true },
          })
        ) {
          return { breakGlass: grant, action };
        }
        refuse(
          this.reason(identity, cluster, request) ??
            `${permission.name} is not granted on cluster ${cluster.name} for this request`,
        );
      }
    }
    return this.environmentPolicy(
      identity,
      cluster,
      info,
      access,
      action,
      refuse,
    );
  }

  /**
   * The environment policy: production accepts changes only from the
   * GitOps identity, under an approved break-glass grant, or where one of
   * the caller's personas allows the action directly (restart, delete a
   * pod). It holds whatever the permission policy decided.
   */
  private async environmentPolicy(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    access: 'read' | 'write',
    action: KmpAction,
    refuse: (why: string) => never,
  ): Promise<BrokerAuthorization> {
    if (
      access !== 'write' ||
      cluster.environment !== 'production' ||
      identity.gitops
    ) {
      return { action };
    }
    const decisions = this.personas
      .personasOf(identity, cluster.environmentGroup)
      .map(persona =>
        decideAction({ persona, environment: cluster.environment, action }),
      );
    if (decisions.some(d => d.allowed && d.via !== 'gitops')) {
      return { action };
    }
    const grant = await this.breakGlass.activeGrant(identity, cluster, info);
    if (grant) return { breakGlass: grant, action };
    return refuse(
      decisions.find(d => !d.allowed && d.reason)?.reason ?? PRODUCTION_RULE,
    );
  }

  /** The request's action; a workload patch is read to tell its kind. */
  private async classify(
    info: KubeRequestInfo,
    readBody?: () => Promise<Buffer | undefined>,
  ): Promise<KmpAction> {
    if (!readBody || !actionDependsOnBody(info)) {
      return classifyKubeRequest(info);
    }
    const body = await readBody();
    let patch: unknown;
    if (body && body.length <= MAX_PATCH_BYTES) {
      try {
        patch = JSON.parse(body.toString('utf8'));
      } catch {
        // Not JSON (an apply patch in YAML): a write.
      }
    }
    return classifyKubeRequest(info, patch);
  }

  /** The access request the conditions are applied to. */
  private async accessRequest(
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    action: KmpAction,
    namespaceMatters: boolean,
  ): Promise<KmpAccessRequest> {
    const request: KmpAccessRequest = { action };
    if (isDiscoveryRequest(info)) request.discovery = true;
    if (info.namespace) {
      request.namespace = info.namespace;
      // Only conditions about namespaces need the cluster's labels (a
      // platform engineer's do not).
      const facts =
        this.namespaces && namespaceMatters
          ? await this.namespaces.lookup(cluster, info.namespace)
          : undefined;
      if (facts?.team) request.namespaceTeam = facts.team;
      // The cluster's label when it was read, else the name alone.
      request.systemNamespace =
        facts?.system ?? isSystemNamespace(info.namespace);
    }
    return request;
  }

  /** Whether a break-glass grant could admit the action for this caller. */
  private mayBreakGlass(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    action: KmpAction,
  ): boolean {
    return this.personas
      .personasOf(identity, cluster.environmentGroup)
      .some(persona => {
        const d = decideAction({
          persona,
          environment: cluster.environment,
          action,
        });
        return d.via === 'break-glass' || d.via === 'gitops';
      });
  }

  /** The rule of the persona matrix that refuses a request, if one does. */
  private reason(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    request: KmpAccessRequest,
  ): string | undefined {
    const check = checkAccessOfPersonas({
      personas: this.personas.personasOf(identity, cluster.environmentGroup),
      environmentGroup: cluster.environmentGroup,
      environment: cluster.environment,
      request,
      teams: teamsOf(identity.groups),
    });
    return check.allowed ? undefined : check.reason;
  }
}
