import { NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  ClusterCredentials,
  kmpClusterReadPermission,
} from '@kmp/plugin-kmp-common';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AuditSinkRunner } from '../audit/sinks/AuditSinkRunner';
import { SinkCursorStore } from '../audit/sinks/SinkCursorStore';
import { PolicyStore } from '../policy/PolicyStore';
import { ClusterReadGuard } from '../registry/ClusterReadGuard';
import { ClusterStore } from '../registry/ClusterStore';
import { MAX_CLUSTER_FILTER, queryList } from '../schema/fragments';
import { parseInput, RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { AlertEvaluator } from './AlertEvaluator';
import {
  AlertEvent,
  AlertStore,
  ALERT_SEVERITIES,
  KmpAlert,
} from './AlertStore';
import { prometheusMetrics } from './metrics';
import { readAlertsConfig } from './config';
import { createAlertReceiver, ReceiverUrlPolicy } from './receivers';

export const ALERT_RECEIVER_CURSORS = 'kmp_alert_receiver_cursors';

const listQuerySchema = z.object({
  cluster: z.array(z.string().max(63)).max(MAX_CLUSTER_FILTER).optional(),
  status: z
    .array(z.enum(['firing', 'resolved']))
    .max(2)
    .optional(),
  severity: z.array(z.enum(ALERT_SEVERITIES)).max(2).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(999_999_999).default(0),
});

function parseListQuery(query: Record<string, unknown>) {
  return parseInput(
    listQuerySchema,
    {
      ...query,
      cluster: queryList(query.cluster),
      status: queryList(query.status),
      severity: queryList(query.severity),
    },
    'query',
  );
}

const iso = (ms: number | undefined) =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * Structural alerts: rules evaluated on the scheduler over what the
 * registry and the policy domain already observe, an alert store with a
 * transition outbox, out-of-band receivers (Alertmanager webhook v4,
 * PagerDuty Events v2, CloudEvents 1.0) delivered from the outbox at least
 * once and in order, and read APIs scoped to the clusters a caller sees.
 */
export async function setupAlerts(
  ctx: KmpDomainContext,
  deps: {
    clusters: ClusterStore;
    /** The registry's decryption of a cluster's credentials. */
    credentialsOf: (name: string) => Promise<ClusterCredentials | undefined>;
    personas: KmpPersonaPolicy;
  },
) {
  const {
    config,
    db,
    router,
    httpAuth,
    permissions,
    auditor,
    scheduler,
    logger,
    discovery,
  } = ctx;
  const alertsConfig = readAlertsConfig(config);
  const store = AlertStore.create({ db });
  const cursors = SinkCursorStore.create({ db, table: ALERT_RECEIVER_CURSORS });
  const evaluator = AlertEvaluator.create({
    alerts: store,
    clusters: deps.clusters,
    policies: PolicyStore.create({ db }),
    rules: alertsConfig.rules,
    certificates: alertsConfig.certificates,
    credentialsOf: deps.credentialsOf,
    logger,
  });

  // Receivers: each gets its own outbox cursor and delivery loop, the same
  // loop that streams audit events to SIEM sinks.
  const policy = ReceiverUrlPolicy.fromConfig(alertsConfig);
  const backendUrl = await discovery.getExternalBaseUrl('kmp');
  const links = {
    externalUrl: config.getOptionalString('app.baseUrl') ?? backendUrl,
    clusterAlertsUrl: (cluster: string) =>
      `${backendUrl}/clusters/${encodeURIComponent(cluster)}/alerts`,
  };
  const listeners = new Set<() => void>();
  const instanceId = randomUUID();
  const head = await store.head();
  const receiverNames = alertsConfig.receivers.map(r => r.name);
  for (const [index, receiverConfig] of alertsConfig.receivers.entries()) {
    const receiver = await createAlertReceiver(receiverConfig, {
      index,
      policy,
      links,
    });
    // A new receiver starts at the end of the outbox: it is told about
    // transitions from now on, not replayed history.
    await cursors.ensure(receiver.name, receiver.type, head);
    const runner = AuditSinkRunner.create<AlertEvent>({
      name: receiver.name,
      kind: receiver.type,
      label: 'Alert receiver',
      sink: receiver,
      store,
      cursors,
      logger,
      instanceId,
      batchSize: receiverConfig.batchSize,
      timeoutMs: receiverConfig.timeoutMs,
      minBackoffMs: receiverConfig.minBackoffMs,
      maxBackoffMs: receiverConfig.maxBackoffMs,
      onAppended: listener => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    });
    await scheduler.scheduleTask({
      id: `kmp-alert-receiver-${receiver.name}`,
      scope: 'global',
      frequency: { seconds: 1 },
      timeout: { minutes: 10 },
      initialDelay: { seconds: 1 },
      fn: signal => runner.run(signal, 9 * 60 * 1000),
    });
  }

  if (alertsConfig.enabled) {
    await scheduler.scheduleTask({
      id: 'kmp-alerts-evaluate',
      scope: 'global',
      frequency: { seconds: alertsConfig.intervalSeconds },
      timeout: { seconds: Math.max(60, alertsConfig.intervalSeconds * 5) },
      initialDelay: { seconds: Math.min(10, alertsConfig.intervalSeconds) },
      fn: async () => {
        const { fired, resolved } = await evaluator.evaluate();
        if (fired.length + resolved.length > 0) {
          for (const listener of [...listeners]) listener();
        }
        // The outbox keeps what every receiver has for a while, then goes.
        const delivered = await cursors.list(receiverNames);
        const upTo =
          delivered.length > 0
            ? Math.min(...delivered.map(c => c.cursor))
            : await store.head();
        await store.prune(
          upTo,
          new Date(Date.now() - alertsConfig.outboxRetentionDays * 86_400_000),
        );
      },
    });
  }

  const evaluation = async () => {
    const last = await store.lastEvaluation();
    return {
      enabled: alertsConfig.enabled,
      intervalSeconds: alertsConfig.intervalSeconds,
      receivers: alertsConfig.receivers.length,
      ...(last ? { lastEvaluatedAt: last.evaluatedAt } : {}),
    };
  };

  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const readGuard = ClusterReadGuard.create({
    permissions,
    permissionsRegistry: ctx.permissionsRegistry,
    userInfo: ctx.userInfo,
    personas: deps.personas,
  });

  router.get('/alerts', async (req, res) => {
    const criteria = await readGuard.listCriteria(await guard.caller(req));
    const query = parseListQuery(req.query as Record<string, unknown>);
    const page = await store.list({ ...query, criteria });
    res.json({ ...page, evaluation: await evaluation() });
  });

  router.get('/alerts/summary', async (req, res) => {
    const criteria = await readGuard.listCriteria(await guard.caller(req));
    const { cluster } = parseListQuery(req.query as Record<string, unknown>);
    res.json({
      ...(await store.summary({ criteria, clusters: cluster })),
      evaluation: await evaluation(),
    });
  });

  /** Fleet-wide views need an unconditional `kmp.cluster.read`. */
  const assertFleetReader = async (req: Request) => {
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
  };

  const receiverStates = async () => {
    const rows = new Map(
      (await cursors.list(receiverNames)).map(c => [c.name, c]),
    );
    const outboxHead = await store.head();
    return alertsConfig.receivers.map(r => {
      const row = rows.get(r.name);
      return {
        name: r.name,
        type: r.type,
        state: row?.state ?? 'idle',
        consecutiveFailures: row?.consecutiveFailures ?? 0,
        ...(row?.lastError ? { lastError: row.lastError } : {}),
        ...(row?.lastErrorAt ? { lastErrorAt: iso(row.lastErrorAt) } : {}),
        ...(row?.lastSuccessAt
          ? { lastSuccessAt: iso(row.lastSuccessAt) }
          : {}),
        delivered: row?.deliveredCount ?? 0,
        pending: Math.max(0, outboxHead - (row?.cursor ?? outboxHead)),
      };
    });
  };

  router.get('/alerts/receivers', async (req, res) => {
    await assertFleetReader(req);
    res.json({ items: await receiverStates() });
  });

  router.get('/alerts/metrics', async (req, res) => {
    await assertFleetReader(req);
    const firing: KmpAlert[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await store.list({
        status: ['firing'],
        limit: 1000,
        offset,
      });
      firing.push(...page.items);
      if (page.items.length < 1000) break;
    }
    res
      .status(200)
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(
        prometheusMetrics({
          firing,
          evaluation: await store.lastEvaluation(),
          receivers: await receiverStates(),
        }),
      );
  });

  router.get('/clusters/:name/alerts', async (req, res) => {
    const credentials = await guard.caller(req);
    const cluster = await deps.clusters.getOrThrow(req.params.name);
    await readGuard.assertReadable(credentials, cluster);
    const query = parseListQuery(req.query as Record<string, unknown>);
    const page = await store.list({ ...query, cluster: [cluster.name] });
    res.json({ ...page, evaluation: await evaluation() });
  });

  return { store, evaluator };
}
