import {
  BackstageCredentials,
  PermissionsRegistryService,
  PermissionsService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { NotAllowedError } from '@backstage/errors';
import {
  AuthorizeResult,
  PermissionCriteria,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import {
  createConditionAuthorizer,
  createConditionTransformer,
} from '@backstage/plugin-permission-node';
import {
  checkClusterVisibility,
  kmpClusterReadPermission,
  RegisteredCluster,
  teamsOf,
} from '@kmp/plugin-kmp-common';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import {
  ClusterQuery,
  clusterPermissionResourceRef,
  NO_CLUSTERS,
} from './clusterPermissions';

/**
 * Which clusters a caller sees (`kmp.cluster.read`): the persona policy
 * answers with conditions (the environment groups where the caller holds a
 * persona; developers only the clusters with a tenant namespace of their
 * team, edge operators only their edge clusters), which become the
 * list query's where-clause, so that paging and total counts are those of
 * the visible fleet, and which are applied to a cluster read by name.
 *
 * A cluster read by name that the caller may not see is refused with 403
 * naming the rule ("no KMP persona in environment group retail-edge"), as
 * every KMP refusal is; only a cluster that is not registered is a 404.
 * Cluster names are no secret: the catalog lists every cluster.
 */
export class ClusterReadGuard {
  private readonly toQuery: (
    conditions: PermissionCriteria<any>,
  ) => PermissionCriteria<ClusterQuery>;
  private readonly applies: (
    decision: PolicyDecision,
    cluster: RegisteredCluster,
  ) => boolean;

  private constructor(
    private readonly permissions: PermissionsService,
    private readonly userInfo: UserInfoService,
    private readonly personas: KmpPersonaPolicy,
    permissionsRegistry: PermissionsRegistryService,
  ) {
    // Every rule registered for kmp-cluster: the registry's and the
    // persona policy's (registered by the personas domain).
    const rules = permissionsRegistry.getPermissionRuleset(
      clusterPermissionResourceRef,
    );
    this.toQuery = createConditionTransformer<ClusterQuery>(rules);
    this.applies = createConditionAuthorizer(rules);
  }

  static create(options: {
    permissions: PermissionsService;
    permissionsRegistry: PermissionsRegistryService;
    userInfo: UserInfoService;
    personas: KmpPersonaPolicy;
  }) {
    return new ClusterReadGuard(
      options.permissions,
      options.userInfo,
      options.personas,
      options.permissionsRegistry,
    );
  }

  /**
   * The database filter of the clusters the caller sees: `undefined` for
   * every cluster, a filter matching nothing when the caller sees none (a
   * user without a persona sees an empty fleet, not an error).
   */
  async listCriteria(
    credentials: BackstageCredentials,
  ): Promise<PermissionCriteria<ClusterQuery> | undefined> {
    const decision = await this.decide(credentials);
    switch (decision.result) {
      case AuthorizeResult.ALLOW:
        return undefined;
      case AuthorizeResult.CONDITIONAL:
        return this.toQuery(decision.conditions);
      default:
        return NO_CLUSTERS;
    }
  }

  /** Throws a 403 naming the rule unless the caller may see the cluster. */
  async assertReadable(
    credentials: BackstageCredentials,
    cluster: RegisteredCluster,
  ): Promise<void> {
    const decision = await this.decide(credentials);
    if (this.applies(decision, cluster)) return;
    const reason = await this.reason(credentials, cluster);
    throw new NotAllowedError(
      `not allowed to ${kmpClusterReadPermission.name} on cluster '${
        cluster.name
      }'${reason ? `: ${reason}` : ''}`,
    );
  }

  private async decide(
    credentials: BackstageCredentials,
  ): Promise<PolicyDecision> {
    const [decision] = await this.permissions.authorizeConditional(
      [{ permission: kmpClusterReadPermission }],
      { credentials },
    );
    return decision;
  }

  /** The persona rule that hides the cluster from a user, if it is KMP's. */
  private async reason(
    credentials: BackstageCredentials,
    cluster: RegisteredCluster,
  ): Promise<string | undefined> {
    if ((credentials.principal as { type?: string }).type !== 'user') {
      return undefined;
    }
    const { ownershipEntityRefs } = await this.userInfo.getUserInfo(
      credentials,
    );
    const check = checkClusterVisibility({
      personas: this.personas.personasIn(
        ownershipEntityRefs,
        cluster.environmentGroup,
      ),
      teams: teamsOf(ownershipEntityRefs),
      cluster,
    });
    return check.allowed ? undefined : check.reason;
  }
}
