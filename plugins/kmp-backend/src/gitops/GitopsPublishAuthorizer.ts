import {
  PermissionsRegistryService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError, ServiceUnavailableError } from '@backstage/errors';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  decideAction,
  KmpAccessRequest,
  kmpClusterAccessWritePermission,
  KMP_RULES,
  RegisteredCluster,
  scopeRefusal,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import { KmpClusterAccessResource } from '@kmp/plugin-kmp-node';
import {
  accessConditionAuthorizer,
  conditionsNeedNamespace,
  denialReason,
} from '../broker/accessConditions';
import { CallerIdentity, PersonaResolver } from '../broker/identity';
import type { NamespaceDirectory } from '../personas/NamespaceDirectory';

const namespaceOf = (r: KmpAccessRequest) => r.namespace ?? '(none)';

/**
 * Who may publish objects of a namespace to a cluster's GitOps repository.
 *
 * Publishing is the "create / change / delete objects" row of the persona
 * matrix (PERSONAS.md) taken through Git, so it is decided as a `write` in
 * the target namespace:
 *
 * 1. the permission framework decides `kmp.cluster.access.write` on the
 *    cluster, and its conditions (environment group, action, namespace
 *    scope) are applied to a `write` in the namespace — the same decision
 *    the portal's "Apply" gets from the broker;
 * 2. in production the matrix refuses hand-made writes ("production changes
 *    go through GitOps") and a publication *is* that GitOps path: there it
 *    is allowed where one of the caller's personas has a Git cell for
 *    `write`, within that persona's namespace scope (a developer publishes
 *    to their team's namespaces, ops to tenant namespaces, platform
 *    engineers anywhere). The GitOps identity may always publish.
 *
 * Every refusal names the rule.
 */
export class GitopsPublishAuthorizer {
  private readonly applyConditions: (
    decision: PolicyDecision,
    resource: KmpClusterAccessResource,
  ) => boolean;

  private constructor(
    private readonly permissions: PermissionsService,
    private readonly personas: PersonaResolver,
    private readonly namespaces: Pick<NamespaceDirectory, 'lookup'>,
    permissionsRegistry: PermissionsRegistryService | undefined,
  ) {
    this.applyConditions = accessConditionAuthorizer(permissionsRegistry);
  }

  static create(options: {
    permissions: PermissionsService;
    personas: PersonaResolver;
    namespaces: Pick<NamespaceDirectory, 'lookup'>;
    /** The plugin's rules for kmp-cluster conditions; default: KMP's own. */
    permissionsRegistry?: PermissionsRegistryService;
  }) {
    return new GitopsPublishAuthorizer(
      options.permissions,
      options.personas,
      options.namespaces,
      options.permissionsRegistry,
    );
  }

  /** Resolves when the caller may publish; throws a NotAllowedError naming the rule. */
  async authorize(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    namespace: string,
  ): Promise<void> {
    if (!identity.credentials) {
      throw new NotAllowedError(
        'publishing to Git needs Backstage credentials',
      );
    }
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: kmpClusterAccessWritePermission }],
      { credentials: identity.credentials },
    );
    if (decision.result === AuthorizeResult.DENY) {
      throw new NotAllowedError(
        denialReason(
          this.personas,
          identity,
          cluster,
          kmpClusterAccessWritePermission,
        ),
      );
    }

    let request: Promise<KmpAccessRequest> | undefined;
    // The namespace's labels are read from the cluster only when a rule
    // depends on them.
    const withFacts = () => {
      request ??= this.writeRequest(cluster, namespace);
      return request;
    };
    const production = cluster.environment === 'production';

    if (decision.result === AuthorizeResult.CONDITIONAL) {
      const resource = {
        ...cluster,
        request: conditionsNeedNamespace(decision.conditions)
          ? await withFacts()
          : { action: 'write' as const, namespace },
      };
      if (
        !this.applyConditions(decision, resource) &&
        !(production && (await this.gitopsCell(identity, cluster, withFacts)))
      ) {
        throw await this.refusal(identity, cluster, withFacts);
      }
    }

    // The environment policy, whatever the permission policy said: in
    // production only through a Git cell of the caller's personas.
    if (
      production &&
      !identity.gitops &&
      !(await this.gitopsCell(identity, cluster, withFacts))
    ) {
      throw await this.refusal(identity, cluster, withFacts);
    }
  }

  /** A `write` in the namespace, with what the cluster says about it. */
  private async writeRequest(
    cluster: RegisteredCluster,
    namespace: string,
  ): Promise<KmpAccessRequest> {
    let facts;
    try {
      facts = await this.namespaces.lookup(cluster, namespace);
    } catch (error) {
      throw new ServiceUnavailableError(
        `who owns namespace ${namespace} on cluster '${
          cluster.name
        }' could not be read: ${(error as Error).message}`,
      );
    }
    return {
      action: 'write',
      namespace,
      ...(facts.team ? { namespaceTeam: facts.team } : {}),
      // By name or by the cluster's label, as the broker decides.
      systemNamespace: facts.system,
    };
  }

  /** The persona matrix's `write` cells of the caller that go directly or through Git. */
  private writeCells(identity: CallerIdentity, cluster: RegisteredCluster) {
    return this.personas
      .personasOf(identity, cluster.environmentGroup)
      .map(persona => ({
        persona,
        decision: decideAction({
          persona,
          environment: cluster.environment,
          action: 'write',
        }),
      }));
  }

  /** Whether one of the caller's personas changes this namespace (directly or through Git). */
  private async gitopsCell(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    request: () => Promise<KmpAccessRequest>,
  ): Promise<boolean> {
    const cells = this.writeCells(identity, cluster).filter(
      c => c.decision.allowed || c.decision.via === 'gitops',
    );
    if (cells.some(c => (c.decision.scope ?? 'all') === 'all')) return true;
    if (cells.length === 0) return false;
    const teams = teamsOf(identity.groups);
    const r = await request();
    return cells.some(
      c => !scopeRefusal(c.decision.scope ?? 'all', c.persona, r, teams),
    );
  }

  /** The refusal naming the rule of the persona matrix. */
  private async refusal(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    request: () => Promise<KmpAccessRequest>,
  ): Promise<NotAllowedError> {
    const cells = this.writeCells(identity, cluster);
    if (cells.length === 0) {
      return new NotAllowedError(KMP_RULES.noPersona(cluster.environmentGroup));
    }
    const teams = teamsOf(identity.groups);
    for (const { persona, decision: d } of cells) {
      const reason =
        d.allowed || d.via === 'gitops'
          ? scopeRefusal(d.scope ?? 'all', persona, await request(), teams)
          : d.reason;
      if (reason) return new NotAllowedError(reason);
    }
    return new NotAllowedError(
      `${kmpClusterAccessWritePermission.name} is not granted on cluster ${
        cluster.name
      } for namespace ${namespaceOf(await request())}`,
    );
  }
}
