/*
 * The KMP Backstage backend: a stock Backstage backend with the catalog,
 * scaffolder, auth, permissions, search and the Kubernetes plugin, plus the
 * KMP plugins that turn it into a Kubernetes Management Platform.
 */

import { createBackend } from '@backstage/backend-defaults';
import { kmpAuditorServiceFactory } from '@kmp/plugin-kmp-node';

const backend = createBackend();

// Every plugin's auditor events also go to KMP's hash-chained audit trail
// (and from there to the configured SIEM sinks), besides the usual log.
backend.add(kmpAuditorServiceFactory);

backend.add(import('@backstage/plugin-app-backend'));

// auth: OIDC sign-in (scripts/start.sh runs the demo identity provider,
// packages/demo-idp, and configures auth.providers.oidc for it) and guest
// sign-in for the local demo
backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-oidc-provider'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

// catalog
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));
backend.add(import('@kmp/plugin-catalog-backend-module-kmp'));

// scaffolder
backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@kmp/plugin-scaffolder-backend-module-kmp'));

// permissions
backend.add(import('@backstage/plugin-permission-backend'));
// The persona RBAC mapper: kmp.* permissions by persona (kmp.personas);
// other plugins' permissions stay allowed.
backend.add(import('@kmp/plugin-permission-backend-module-kmp'));

// search
backend.add(import('@backstage/plugin-search-backend'));
backend.add(import('@backstage/plugin-search-backend-module-catalog'));

// kubernetes: the stock plugin, pointed at KMP's access broker by the catalog
backend.add(import('@backstage/plugin-kubernetes-backend'));
// …reading as the signed-in user (auth provider `kmp`)
backend.add(import('@kmp/plugin-kubernetes-backend-module-kmp'));

// user settings
backend.add(import('@backstage/plugin-user-settings-backend'));

// KMP: registry, broker, audit, policy
backend.add(import('@kmp/plugin-kmp-backend'));

backend.start().catch(error => {
  // One clear line instead of a stack trace for configuration mistakes.
  process.stderr.write(`Backend failed to start: ${error?.message ?? error}\n`);
  process.exit(1);
});
