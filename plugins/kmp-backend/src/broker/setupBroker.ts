import { KmpAuditService } from '@kmp/plugin-kmp-node';
import express, { Router } from 'express';
import { ClusterRegistry } from '../registry/ClusterRegistry';
import { ClusterStore } from '../registry/ClusterStore';
import { ClusterUrlPolicy } from '../registry/ClusterUrlPolicy';
import { KmpDomainContext } from '../types';
import { NamespaceDirectory } from '../personas/NamespaceDirectory';
import {
  AdmissionPreflight,
  PolicyBundlePreflight,
  PolicyEvaluator,
  PrivilegedContainerPreflight,
} from './AdmissionPreflight';
import { BreakGlassGrants, BrokerAuthorizer } from './BrokerAuthorizer';
import { BrokerProxy } from './BrokerProxy';
import { ClusterConnections } from './ClusterConnections';
import { readBrokerConfig } from './config';
import { PersonaResolver } from './identity';
import { mountTenantNamespacesRoute } from './tenantNamespacesRoute';
import { mountKubeconfigRoutes } from './kubeconfigRoutes';
import { mountOperationRoutes } from './operations';
import { BrokerTokenStore } from './TokenStore';

/** The path prefix of the proxy, relative to `/api/kmp`. */
export const BROKER_PROXY_PATH = '/proxy';

/**
 * The access broker: the one path into a cluster. Returns the router that
 * carries the Kubernetes-API-compatible proxy. It must be mounted before the
 * plugin's OpenAPI router, whose JSON body parser would otherwise consume
 * (and cap at 100 kB) the bodies the proxy forwards, and its path must be
 * exempt from the default credentials barrier: the broker authenticates
 * every request itself and answers 401 as a Kubernetes `Status`.
 */
export async function setupBroker(
  ctx: KmpDomainContext,
  options: {
    audit: KmpAuditService;
    registry: {
      registry: ClusterRegistry;
      clusters: ClusterStore;
      policy: ClusterUrlPolicy;
    };
    /**
     * The policy domain's evaluator: writes are checked against the
     * cluster's effective policy bundle before they are forwarded.
     */
    policy?: PolicyEvaluator;
    /**
     * Replaces the admission pre-flight. Default: the policy bundle when
     * `policy` is given, else the built-in no-privileged-containers rule.
     */
    preflight?: AdmissionPreflight;
    /** Approved break-glass grants; default: none. */
    breakGlass?: BreakGlassGrants;
  },
): Promise<{ proxyRouter: Router; connections: ClusterConnections }> {
  const config = readBrokerConfig(ctx.config);
  const connections = new ClusterConnections(options.registry.policy, config);
  const tokens = BrokerTokenStore.create({ db: ctx.db });
  // The persona RBAC mapper's mapping (`kmp.personas`).
  const personas = PersonaResolver.fromConfig(ctx.config);
  const namespaces = NamespaceDirectory.create({
    connections,
    registry: options.registry.registry,
  });
  const proxy = BrokerProxy.create({
    httpAuth: ctx.httpAuth,
    userInfo: ctx.userInfo,
    audit: options.audit,
    clusters: options.registry.clusters,
    registry: options.registry.registry,
    connections,
    authorizer: BrokerAuthorizer.create({
      permissions: ctx.permissions,
      breakGlass: options.breakGlass,
      personas,
      namespaces,
      permissionsRegistry: ctx.permissionsRegistry,
    }),
    personas,
    preflight:
      options.preflight ??
      (options.policy
        ? new PolicyBundlePreflight(options.policy)
        : new PrivilegedContainerPreflight()),
    tokens,
    config,
    logger: ctx.logger.child({ domain: 'broker' }),
    urlPolicy: options.registry.policy,
  });

  mountOperationRoutes(ctx, proxy);
  mountTenantNamespacesRoute(ctx, {
    clusters: options.registry.clusters,
    namespaces,
    config,
  });
  mountKubeconfigRoutes(ctx, {
    audit: options.audit,
    clusters: options.registry.clusters,
    tokens,
    personas,
    config,
  });
  await ctx.scheduler.scheduleTask({
    id: 'kmp-broker-token-prune',
    scope: 'global',
    frequency: { hours: 1 },
    timeout: { minutes: 5 },
    initialDelay: { minutes: 1 },
    // Expired tokens stay listed for a week, then go.
    fn: async () => {
      await tokens.prune(new Date(Date.now() - 7 * 24 * 3600 * 1000));
    },
  });

  const proxyRouter = express.Router();
  proxyRouter.use((req, res, next) => {
    if (
      req.path !== BROKER_PROXY_PATH &&
      !req.path.startsWith(`${BROKER_PROXY_PATH}/`)
    ) {
      next();
      return;
    }
    proxy.handle(req, res).catch(next);
  });
  return { proxyRouter, connections };
}
