import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import {
  clusterRegistrationSchema,
  clusterSchema,
  clusterUpdateSchema,
  kmpClusterDecommissionPermission,
  kmpClusterReadPermission,
  kmpClusterRegisterPermission,
  kmpClusterUpdatePermission,
  kmpEnvironmentGroupReadPermission,
} from '@kmp/plugin-kmp-common';
import { Request } from 'express';
import { z } from 'zod';
import { KmpDomainContext } from '../types';
import { actorOf, parseInput, RouteGuard } from '../service/RouteGuard';
import { ClusterRegistry } from './ClusterRegistry';
import {
  clusterPermissionResourceRef,
  clusterPermissionRules,
} from './clusterPermissions';
import { ClusterReadGuard } from './ClusterReadGuard';
import { ClusterStore, ClusterOrderField } from './ClusterStore';
import { ClusterUrlPolicy } from './ClusterUrlPolicy';
import { readEnvironmentGroupsConfig, readRegistryConfig } from './config';
import { CredentialCipher } from './CredentialCipher';
import { EnvironmentGroupStore } from './EnvironmentGroupStore';
import { readKubeconfigContext } from './kubeconfig';
import { ProfileStore } from './ProfileStore';

const importSchema = z
  .object({
    kubeconfig: z
      .string()
      .min(1)
      .max(1024 * 1024),
    context: z.string().min(1).optional(),
    cluster: clusterSchema
      .omit({
        apiServerUrl: true,
        connectivity: true,
        lifecycleState: true,
        kubernetesVersion: true,
        environment: true,
      })
      .strict(),
  })
  .strict();

function asArray(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? value.map(String) : String(value).split(',');
}

/**
 * The cluster registry: environment groups, profiles, clusters, their
 * refresh loop, and the REST API over them. Which clusters a caller sees
 * is the persona policy's `kmp.cluster.read` decision (`ClusterReadGuard`).
 */
export async function setupRegistry(
  ctx: KmpDomainContext,
  deps: { personas: KmpPersonaPolicy },
) {
  const {
    config,
    db,
    router,
    httpAuth,
    permissions,
    logger,
    auditor,
    scheduler,
    userInfo,
  } = ctx;

  const environmentGroupsConfig = readEnvironmentGroupsConfig(config);
  const registryConfig = readRegistryConfig(config);
  const policy = ClusterUrlPolicy.fromConfig(config);
  const cipher = registryConfig.encryptionKey
    ? CredentialCipher.create({ secret: registryConfig.encryptionKey })
    : undefined;

  const environmentGroups = EnvironmentGroupStore.create({ db });
  const profiles = ProfileStore.create({ db });
  const clusters = ClusterStore.create({ db });
  const registry = ClusterRegistry.create({
    store: clusters,
    groups: environmentGroups,
    profiles,
    policy,
    cipher,
    refresh: registryConfig.refresh,
    logger,
    auditor,
  });

  await environmentGroups.syncFromConfig(environmentGroupsConfig);
  await profiles.syncFromConfig(registryConfig.profiles);
  await registry.syncFromConfig(registryConfig.clusters);
  await registry.scheduleRefresh(scheduler);

  ctx.permissionsRegistry.addResourceType({
    resourceRef: clusterPermissionResourceRef,
    permissions: [
      kmpClusterReadPermission,
      kmpClusterUpdatePermission,
      kmpClusterDecommissionPermission,
    ],
    rules: Object.values(clusterPermissionRules),
    getResources: async refs => Promise.all(refs.map(ref => clusters.get(ref))),
  });

  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const readGuard = ClusterReadGuard.create({
    permissions,
    permissionsRegistry: ctx.permissionsRegistry,
    userInfo,
    personas: deps.personas,
  });

  /** A registered cluster the caller may see: 404, or 403 naming the rule. */
  const readableCluster = async (req: Request, name: string) => {
    const credentials = await guard.caller(req);
    const cluster = await clusters.getOrThrow(name);
    await readGuard.assertReadable(credentials, cluster);
    return cluster;
  };

  router.get('/environment-groups', async (req, res) => {
    await guard.authorize(
      await guard.caller(req),
      kmpEnvironmentGroupReadPermission,
    );
    res.json({ items: await environmentGroups.list() });
  });

  router.get('/profiles', async (req, res) => {
    await guard.authorize(
      await guard.caller(req),
      kmpEnvironmentGroupReadPermission,
    );
    res.json({ items: await profiles.list() });
  });

  router.get('/clusters', async (req, res) => {
    const criteria = await readGuard.listCriteria(await guard.caller(req));
    const q = req.query as Record<string, unknown>;
    const result = await clusters.list({
      filter: {
        environment: asArray(q.environment),
        environmentGroup: asArray(q.environmentGroup),
        region: asArray(q.region),
        profile: asArray(q.profile),
        lifecycleState: asArray(q.state),
        connectivity: asArray(q.connectivity),
        text: q.q ? String(q.q) : undefined,
        includeDecommissioned: q.includeDecommissioned === 'true',
      },
      orderBy: (q.orderBy as ClusterOrderField) ?? 'name',
      order: (q.order as 'asc' | 'desc') ?? 'asc',
      limit: q.limit ? Number(q.limit) : 100,
      offset: q.offset ? Number(q.offset) : 0,
      criteria,
    });
    res.json(result);
  });

  router.get('/clusters/summary', async (req, res) => {
    const criteria = await readGuard.listCriteria(await guard.caller(req));
    res.json(await clusters.summary(criteria));
  });

  router.get('/clusters/changes', async (req, res) => {
    // The change feed (read by the catalog module) carries every cluster, so
    // it needs an unconditional read decision.
    const credentials = await guard.caller(req);
    const [decision] = await permissions.authorizeConditional(
      [{ permission: kmpClusterReadPermission }],
      { credentials },
    );
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(
        `not allowed to ${kmpClusterReadPermission.name} on every cluster`,
      );
    }
    const since = Number(req.query.since ?? 0);
    const limit = Number(req.query.limit ?? 1000);
    const items = await clusters.changesSince(since, limit);
    res.json({
      items,
      revision:
        items.length > 0
          ? items[items.length - 1].revision
          : Math.max(since, 0),
      currentRevision: await clusters.currentRevision(),
    });
  });

  router.get('/clusters/:name', async (req, res) => {
    res.json(await readableCluster(req, req.params.name));
  });

  router.get('/clusters/:name/history', async (req, res) => {
    const { name } = await readableCluster(req, req.params.name);
    res.json({ items: await clusters.history(name) });
  });

  router.post('/clusters', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpClusterRegisterPermission);
    const input = parseInput(clusterRegistrationSchema, req.body, 'body');
    const cluster = await guard.audited(
      req,
      credentials,
      'cluster-register',
      { cluster: input.name },
      () => registry.register(input, actorOf(credentials)),
    );
    res.status(201).json(cluster);
  });

  router.post('/clusters/import-kubeconfig', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpClusterRegisterPermission);
    const input = parseInput(importSchema, req.body, 'body');
    const { server, credentials: clusterCredentials } = readKubeconfigContext(
      input.kubeconfig,
      input.context,
    );
    const registration = parseInput(
      clusterRegistrationSchema,
      {
        ...input.cluster,
        apiServerUrl: server,
        connectivity: 'direct',
        credentials: clusterCredentials,
      },
      'body',
    );
    const cluster = await guard.audited(
      req,
      credentials,
      'cluster-register',
      { cluster: registration.name, source: 'kubeconfig' },
      () => registry.register(registration, actorOf(credentials), 'kubeconfig'),
    );
    res.status(201).json(cluster);
  });

  router.patch('/clusters/:name', async (req, res) => {
    const { name } = req.params;
    const credentials = await guard.caller(req);
    await guard.authorizeCluster(credentials, kmpClusterUpdatePermission, name);
    const update = parseInput(clusterUpdateSchema, req.body, 'body');
    const cluster = await guard.audited(
      req,
      credentials,
      'cluster-update',
      { cluster: name, fields: Object.keys(update) },
      () => registry.update(name, update, actorOf(credentials)),
    );
    res.json(cluster);
  });

  router.delete('/clusters/:name', async (req, res) => {
    const { name } = req.params;
    const credentials = await guard.caller(req);
    await guard.authorizeCluster(
      credentials,
      kmpClusterDecommissionPermission,
      name,
    );
    const cluster = await guard.audited(
      req,
      credentials,
      'cluster-decommission',
      { cluster: name },
      () => registry.decommission(name, actorOf(credentials)),
    );
    res.json(cluster);
  });

  return {
    environmentGroups,
    profiles,
    clusters,
    registry,
    policy,
    readGuard,
  };
}
