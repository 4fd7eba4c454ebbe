import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import {
  environmentSchema,
  kmpPolicyManagePermission,
  kmpPolicyReadPermission,
  policyDistributionModeSchema,
  policyEvaluateRequestSchema,
  PolicyTarget,
  dnsLabelSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';
import { readGitopsConfig } from '@kmp/plugin-kmp-node';
import { MAX_CLUSTER_FILTER, queryList } from '../schema/fragments';
import { ClusterReadGuard } from '../registry/ClusterReadGuard';
import { KmpDomainContext } from '../types';
import { actorOf, RouteGuard } from '../service/RouteGuard';
import { describeConfigIssue } from '../registry/config';
import { PolicyBundleError } from './bundle/BundleSource';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { readPolicyConfig } from './config';
import { PolicyRegistry, PolicyService } from './PolicyService';
import { PolicyStore } from './PolicyStore';
import { renderBundle, toYaml } from './render/renderPolicies';

function parse<T extends z.ZodType>(
  schema: T,
  value: unknown,
  what: string,
): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new InputError(
      describeConfigIssue(what, result.error).replace(
        'Invalid configuration at ',
        'Invalid request ',
      ),
    );
  }
  return result.data;
}

const bundleQuerySchema = z
  .object({
    cluster: dnsLabelSchema.optional(),
    environment: environmentSchema.optional(),
    environmentGroup: dnsLabelSchema.optional(),
    render: z.enum(['vap', 'gatekeeper', 'kyverno']).optional(),
  })
  .strict()
  .refine(q => !!q.cluster !== !!q.environment, {
    message: 'give either cluster or environment',
  })
  .refine(q => !(q.cluster && q.environmentGroup), {
    message: 'environmentGroup goes with environment, not with cluster',
  });

const distributeSchema = z
  .object({
    cluster: dnsLabelSchema,
    mode: policyDistributionModeSchema.optional(),
  })
  .strict();

const pageSchema = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

/**
 * Policy governance: the bundle (loaded and validated at start-up), the
 * in-process evaluator behind `POST /policies/evaluate`, renderers,
 * distribution to clusters and compliance reports.
 */
export async function setupPolicy(
  ctx: KmpDomainContext,
  deps: {
    registry: PolicyRegistry;
    /** Which clusters a caller sees (the persona policy's kmp.cluster.read). */
    readGuard: Pick<ClusterReadGuard, 'assertReadable' | 'listCriteria'>;
  },
) {
  const { config, db, router, httpAuth, permissions, logger, auditor } = ctx;
  const policyConfig = readPolicyConfig(config);

  let bundles: PolicyBundleSet;
  try {
    bundles = PolicyBundleSet.load(policyConfig.bundleDir, {
      enforcement: policyConfig.enforcement,
    });
  } catch (error) {
    if (error instanceof PolicyBundleError) {
      // Fail start-up: a broken bundle is never half-enforced.
      throw new Error(
        `${error.message}\n(bundle directory ${policyConfig.bundleDir}, kmp.policy.bundleDir)`,
      );
    }
    throw error;
  }
  logger.info(
    `Policy bundle loaded from ${policyConfig.bundleDir}: overlays ${bundles
      .overlayNames()
      .join(', ')}; group overlays ${
      bundles.groupNames().join(', ') || 'none'
    }`,
  );

  const store = PolicyStore.create({ db });
  const service = PolicyService.create({
    bundles,
    registry: deps.registry,
    store,
    logger,
    gitopsDir: policyConfig.distribution.gitopsDir,
    gitops: {
      config: readGitopsConfig(config),
      folder: policyConfig.distribution.gitopsPath,
    },
    maxManifests: policyConfig.maxManifests,
    timeoutSeconds: policyConfig.compliance.timeoutSeconds,
  });

  const guard = RouteGuard.create({ httpAuth, permissions, auditor });

  /**
   * A registered cluster the caller may read: 404 when it is not
   * registered, else 403 naming the persona rule when it is not theirs.
   */
  const readable = async (credentials: BackstageCredentials, name: string) => {
    const cluster = await service.clusterOrThrow(name);
    await deps.readGuard.assertReadable(credentials, cluster);
    return cluster;
  };

  /** Names of the clusters the caller may read, or undefined for all. */
  const visibleClusters = async (credentials: BackstageCredentials) => {
    const criteria = await deps.readGuard.listCriteria(credentials);
    if (!criteria) return undefined;
    const { items } = await deps.registry.clusters.list({
      criteria,
      limit: 10_000,
    });
    return items.map(c => c.name);
  };

  router.post('/policies/evaluate', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyReadPermission);
    const body = parse(policyEvaluateRequestSchema, req.body, 'body');
    if ('cluster' in body.target) {
      await readable(credentials, body.target.cluster);
    }
    res.json(await service.evaluate(body));
  });

  router.get('/policies/bundle', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyReadPermission);
    const q = parse(bundleQuerySchema, req.query, 'query');
    let target: PolicyTarget;
    if (q.cluster) {
      await readable(credentials, q.cluster);
      target = { cluster: q.cluster };
    } else {
      target = {
        environment: q.environment!,
        ...(q.environmentGroup ? { environmentGroup: q.environmentGroup } : {}),
      };
    }
    const bundle = await service.bundleFor(target);
    res.setHeader('ETag', `"${bundle.version}"`);
    if (q.render) {
      res
        .type('application/yaml')
        .send(
          toYaml(
            renderBundle(bundle, q.render),
            `KMP policy bundle ${bundle.name}@${bundle.version} (${q.render})`,
          ),
        );
      return;
    }
    res.json(bundle);
  });

  router.get('/policies/installations', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyReadPermission);
    const page = parse(pageSchema, req.query, 'query');
    const visible = await visibleClusters(credentials);
    res.json(
      await store.listInstallations({
        ...page,
        ...(visible ? { clusters: visible } : {}),
      }),
    );
  });

  router.post('/policies/distribute', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyManagePermission);
    const body = parse(distributeSchema, req.body, 'body');
    await readable(credentials, body.cluster);
    const mode = body.mode ?? policyConfig.distribution.mode;
    const installation = await guard.audited(
      req,
      credentials,
      'policy-distribute',
      { cluster: body.cluster, mode },
      () => service.distribute(body.cluster, mode, actorOf(credentials)),
    );
    res.json(installation);
  });

  router.get('/policies/compliance', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyReadPermission);
    const cluster = req.query.cluster;
    if (typeof cluster === 'string') {
      await readable(credentials, cluster);
      res.json(await service.report(await service.clusterOrThrow(cluster)));
      return;
    }
    const { name, ...page } = parse(
      pageSchema.extend({
        name: z.array(dnsLabelSchema).max(MAX_CLUSTER_FILTER).optional(),
      }),
      { ...req.query, name: queryList(req.query.name) },
      'query',
    );
    // A caller without a persona sees no clusters: an empty page.
    const { items, totalCount } = await deps.registry.clusters.list({
      ...page,
      ...(name ? { filter: { name } } : {}),
      criteria: await deps.readGuard.listCriteria(credentials),
    });
    const summaries = await service.summaries(items);
    res.json({ items: summaries, totalCount });
  });

  router.post('/policies/compliance/scan', async (req, res) => {
    const credentials = await guard.caller(req);
    await guard.authorize(credentials, kmpPolicyManagePermission);
    const { cluster } = parse(
      z.object({ cluster: dnsLabelSchema }).strict(),
      req.body,
      'body',
    );
    await readable(credentials, cluster);
    res.json(
      await guard.audited(
        req,
        credentials,
        'policy-compliance-scan',
        { cluster },
        () => service.scan(cluster),
      ),
    );
  });

  if (policyConfig.compliance.enabled) {
    await ctx.scheduler.scheduleTask({
      id: 'kmp-policy-compliance',
      frequency: { seconds: policyConfig.compliance.intervalSeconds },
      timeout: {
        seconds: Math.max(300, policyConfig.compliance.intervalSeconds * 4),
      },
      initialDelay: { seconds: 30 },
      fn: async () => {
        const { scanned, failed } = await service.scanAll(
          policyConfig.compliance.concurrency,
        );
        logger.debug(
          `Policy compliance: scanned ${scanned} clusters, ${failed} failed`,
        );
      },
    });
  }

  return service;
}
