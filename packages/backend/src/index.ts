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

// auth: guest sign-in for the local demo (an OIDC demo provider replaces it)
backend.add(import('@backstage/plugin-auth-backend'));
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
backend.add(
  import('@backstage/plugin-permission-backend-module-allow-all-policy'),
);

// search
backend.add(import('@backstage/plugin-search-backend'));
backend.add(import('@backstage/plugin-search-backend-module-catalog'));

// kubernetes: the stock plugin, pointed at KMP's access broker by the catalog
backend.add(import('@backstage/plugin-kubernetes-backend'));

// user settings
backend.add(import('@backstage/plugin-user-settings-backend'));

// KMP: registry, broker, audit, policy
backend.add(import('@kmp/plugin-kmp-backend'));

backend.start().catch(error => {
  // One clear line instead of a stack trace for configuration mistakes.
  process.stderr.write(`Backend failed to start: ${error?.message ?? error}\n`);
  process.exit(1);
});
