import { PermissionsService } from '@backstage/backend-plugin-api';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  kmpClusterAccessReadPermission,
  kmpClusterAccessWritePermission,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { CallerIdentity } from './identity';
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
  ): Promise<BreakGlassGrant | undefined>;
}

export const noBreakGlassGrants: BreakGlassGrants = {
  async activeGrant() {
    return undefined;
  },
};

/** The rule that refuses hand-made production changes. */
export const PRODUCTION_RULE = 'production changes go through GitOps';

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

/**
 * The broker's authorisation: the permission framework decides whether the
 * caller may read or write through the broker on this cluster (resource
 * permission on `kmp-cluster`), then the environment policy applies:
 * production accepts writes only from the GitOps identity or under an
 * approved break-glass grant.
 */
export class BrokerAuthorizer {
  private constructor(
    private readonly permissions: PermissionsService,
    private readonly breakGlass: BreakGlassGrants,
  ) {}

  static create(options: {
    permissions: PermissionsService;
    breakGlass?: BreakGlassGrants;
  }) {
    return new BrokerAuthorizer(
      options.permissions,
      options.breakGlass ?? noBreakGlassGrants,
    );
  }

  /**
   * Throws a 403 BrokerError naming the rule when the request is refused;
   * returns the break-glass grant a production write relies on, if any.
   */
  async authorize(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    access: 'read' | 'write',
  ): Promise<{ breakGlass?: BreakGlassGrant }> {
    const permission =
      access === 'read'
        ? kmpClusterAccessReadPermission
        : kmpClusterAccessWritePermission;
    const details = {
      name: info.name,
      group: info.apiGroup,
      kind: info.resource,
    };
    if (identity.token) {
      // A KMP-issued token carries the decision made when it was issued
      // (the permission framework needs the user's own Backstage token,
      // which its bearer does not have); it is short-lived and revocable.
      if (access === 'write' && identity.token.access !== 'write') {
        const why = 'the kubeconfig token is read-only';
        throw new BrokerError(
          403,
          forbiddenMessage(info, identity.ref, why),
          details,
          why,
        );
      }
    } else {
      await this.checkPermission(identity, permission, cluster, info, details);
    }
    return this.environmentPolicy(identity, cluster, info, access, details);
  }

  private async checkPermission(
    identity: CallerIdentity,
    permission:
      | typeof kmpClusterAccessReadPermission
      | typeof kmpClusterAccessWritePermission,
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    details: { name?: string; group: string; kind?: string },
  ) {
    if (!identity.credentials) {
      throw new BrokerError(
        401,
        'Unauthorized',
        undefined,
        'not authenticated',
      );
    }
    const [decision] = await this.permissions.authorize(
      [{ permission, resourceRef: cluster.name }],
      { credentials: identity.credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      const why = `${permission.name} is not granted on cluster ${cluster.name}`;
      throw new BrokerError(
        403,
        forbiddenMessage(info, identity.ref, why),
        details,
        why,
      );
    }
  }

  private async environmentPolicy(
    identity: CallerIdentity,
    cluster: RegisteredCluster,
    info: KubeRequestInfo,
    access: 'read' | 'write',
    details: { name?: string; group: string; kind?: string },
  ): Promise<{ breakGlass?: BreakGlassGrant }> {
    if (
      access === 'write' &&
      cluster.environment === 'production' &&
      !identity.gitops
    ) {
      const grant = await this.breakGlass.activeGrant(identity, cluster);
      if (!grant) {
        throw new BrokerError(
          403,
          forbiddenMessage(info, identity.ref, PRODUCTION_RULE),
          details,
          PRODUCTION_RULE,
        );
      }
      return { breakGlass: grant };
    }
    return {};
  }
}
