import { Config } from '@backstage/config';
import { UserInfoService } from '@backstage/backend-plugin-api';
import { PolicyDecision } from '@backstage/plugin-permission-common';
import {
  PermissionPolicy,
  PolicyQuery,
  PolicyQueryUser,
} from '@backstage/plugin-permission-node';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';

/**
 * KMP's permission policy: decides every `kmp.*` permission from the
 * caller's personas (their identity-provider groups mapped by
 * `kmp.personas`, per environment group) and the persona matrix, with
 * conditional decisions on `kmp-cluster` resources where an environment
 * group, an action or a namespace scope applies. Permissions of other
 * plugins (catalog, scaffolder, search, …) are allowed, as before.
 *
 * @public
 */
export class KmpPermissionPolicy implements PermissionPolicy {
  private constructor(
    private readonly personas: KmpPersonaPolicy,
    private readonly userInfo: UserInfoService,
  ) {}

  static fromConfig(
    config: Config,
    options: { userInfo: UserInfoService },
  ): KmpPermissionPolicy {
    return new KmpPermissionPolicy(
      KmpPersonaPolicy.fromConfig(config),
      options.userInfo,
    );
  }

  async handle(
    request: PolicyQuery,
    user?: PolicyQueryUser,
  ): Promise<PolicyDecision> {
    if (!request.permission.name.startsWith('kmp.')) {
      return this.personas.decide(request.permission, undefined);
    }
    const info = user
      ? await this.userInfo.getUserInfo(user.credentials)
      : undefined;
    return this.personas.decide(request.permission, info);
  }
}
