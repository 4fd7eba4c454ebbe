import { kmpClusterAccessRules, KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import { RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';

/**
 * The persona RBAC mapper's side in the KMP backend: registers the access
 * rules of the `kmp-cluster` resource type (so the permission backend can
 * evaluate the persona policy's conditions on clusters loaded by name, and
 * the broker on its access requests), and serves `GET /me`. Returns the
 * persona policy (`kmp.personas`), which the broker resolves personas with.
 */
export function setupPersonas(ctx: KmpDomainContext): {
  personas: KmpPersonaPolicy;
} {
  const { router, httpAuth, permissions, auditor, userInfo } = ctx;
  const personas = KmpPersonaPolicy.fromConfig(ctx.config);
  // The registry owns the kmp-cluster resource type (and loads clusters by
  // name); these rules add the request's action, namespace and break-glass.
  ctx.permissionsRegistry.addPermissionRules(
    Object.values(kmpClusterAccessRules),
  );

  const guard = RouteGuard.create({ httpAuth, permissions, auditor });

  router.get('/me', async (req, res) => {
    const credentials = await guard.caller(req);
    const principal = credentials.principal as {
      type: string;
      userEntityRef?: string;
      subject?: string;
    };
    if (principal.type === 'user' && principal.userEntityRef) {
      const user = principal.userEntityRef;
      const { ownershipEntityRefs } = await userInfo.getUserInfo(credentials);
      res.json({
        user,
        ownershipRefs: ownershipEntityRefs,
        gitops: personas.isGitops(user),
        personas: personas.assignments(ownershipEntityRefs),
      });
      return;
    }
    const subject = principal.subject ?? principal.type;
    res.json({
      user: subject,
      ownershipRefs: [],
      gitops: personas.isGitops(subject),
      personas: [],
    });
  });

  return { personas };
}
