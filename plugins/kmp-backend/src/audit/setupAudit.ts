import {
  BackstageCredentials,
  BackstageServicePrincipal,
  BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import { InputError, NotAllowedError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  AuditActor,
  decideAction,
  kmpAuditReadPermission,
} from '@kmp/plugin-kmp-common';
import {
  getKmpAuditForwarder,
  KmpAuditSinkFactory,
  KmpPersonaPolicy,
} from '@kmp/plugin-kmp-node';
import { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { KmpDomainContext } from '../types';
import { AuditService } from './AuditService';
import { AuditStore } from './AuditStore';
import { AuditWriter } from './AuditWriter';
import { readAuditConfig } from './config';
import { csvHeader, csvRow, ndjsonLine } from './exportFormats';
import { fromAuditorEvent } from './forwarding';
import { decodeCursor, encodeCursor, parseAuditFilter } from './query';
import { AuditRetention, checkpointChecker } from './retention';
import { AuditSinkRunner } from './sinks/AuditSinkRunner';
import { builtInSinkFactories } from './sinks';
import { SinkCursorStore } from './sinks/SinkCursorStore';

const FILTER_KEYS = [
  'actor',
  'actorType',
  'cluster',
  'namespace',
  'action',
  'decision',
  'outcome',
  'correlationId',
  'from',
  'to',
] as const;

function pickFilter(query: Record<string, unknown>) {
  const filter: Record<string, unknown> = {};
  for (const key of FILTER_KEYS) {
    if (query[key] !== undefined) filter[key] = query[key];
  }
  return parseAuditFilter(filter);
}

function orderOf(value: unknown, fallback: 'asc' | 'desc'): 'asc' | 'desc' {
  if (value === undefined) return fallback;
  if (value === 'asc' || value === 'desc') return value;
  throw new InputError('Invalid query parameter order: must be asc or desc');
}

const iso = (ms: number | undefined) =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/**
 * The audit trail: a hash-chained, append-only event store with query,
 * export and verify APIs, SIEM sinks fed through an outbox, retention with
 * signed checkpoints, and the forwarding of other plugins' auditor events.
 * Returns the service other domains record their events with.
 */
export async function setupAudit(
  ctx: KmpDomainContext,
  options: { sinkFactories: Map<string, KmpAuditSinkFactory> },
): Promise<AuditService> {
  const {
    config,
    logger,
    db,
    router,
    httpAuth,
    permissions,
    auditor,
    scheduler,
    userInfo,
  } = ctx;
  const personaPolicy = KmpPersonaPolicy.fromConfig(config);
  const factories = options.sinkFactories;
  for (const factory of builtInSinkFactories) {
    if (factories.has(factory.kind)) {
      throw new Error(
        `KMP audit sink kind '${factory.kind}' is built in and cannot be registered again`,
      );
    }
    factories.set(factory.kind, factory);
  }

  const auditConfig = readAuditConfig(config, [...factories.keys()]);
  await AuditStore.prepareDatabase(db);
  const store = AuditStore.create({ db });
  const writer = AuditWriter.create({
    store,
    maxBatchSize: auditConfig.maxBatchSize,
  });
  const cursors = SinkCursorStore.create({ db });
  const audit = AuditService.create({ writer, auditor, logger });
  const checkCheckpoint = checkpointChecker(auditConfig.checkpointKey);

  // Sinks: each one gets its own outbox cursor and delivery loop.
  const instanceId = randomUUID();
  const head = await store.head();
  const firstAvailable = (await store.latestCheckpoint())?.seq ?? 0;
  for (const [index, sinkConfig] of auditConfig.sinks.entries()) {
    let sink;
    try {
      sink = factories.get(sinkConfig.kind)!.create({
        config: sinkConfig.config,
        logger: logger.child({ auditSink: sinkConfig.name }),
        name: sinkConfig.name,
      });
    } catch (error) {
      throw new InputError(
        `Invalid configuration at kmp.audit.sinks[${index}]: ${
          error instanceof Error ? error.message : error
        }`,
      );
    }
    await cursors.ensure(
      sinkConfig.name,
      sinkConfig.kind,
      sinkConfig.startFrom === 'end' ? head.seq : firstAvailable,
    );
    const runner = AuditSinkRunner.create({
      name: sinkConfig.name,
      kind: sinkConfig.kind,
      sink,
      store,
      cursors,
      logger,
      instanceId,
      batchSize: sinkConfig.batchSize,
      timeoutMs: sinkConfig.timeoutMs,
      minBackoffMs: sinkConfig.minBackoffMs,
      maxBackoffMs: sinkConfig.maxBackoffMs,
      onAppended: listener => writer.onAppended(listener),
    });
    // A global task runs on one instance at a time; the loop inside it
    // runs for nine minutes, then the scheduler starts the next run.
    await scheduler.scheduleTask({
      id: `kmp-audit-sink-${sinkConfig.name}`,
      scope: 'global',
      frequency: { seconds: 1 },
      timeout: { minutes: 10 },
      initialDelay: { seconds: 1 },
      fn: signal => runner.run(signal, 9 * 60 * 1000),
    });
  }

  if (auditConfig.retention) {
    const retention = AuditRetention.create({
      store,
      cursors,
      logger,
      maxAgeMs: auditConfig.retention.maxAgeMs,
      checkpointKey: auditConfig.retention.checkpointKey,
      exportDirectory: auditConfig.retention.exportDirectory,
      sinkNames: auditConfig.sinks.map(s => s.name),
    });
    await scheduler.scheduleTask({
      id: 'kmp-audit-retention',
      scope: 'global',
      frequency: { milliseconds: auditConfig.retention.frequencyMs },
      timeout: { hours: 1 },
      initialDelay: { minutes: 1 },
      fn: async () => {
        await retention.prune();
      },
    });
  }

  // Other plugins' auditor events, when the backend installs
  // kmpAuditorServiceFactory from @kmp/plugin-kmp-node.
  const forwarder = getKmpAuditForwarder(auditor);
  if (forwarder && auditConfig.forwardAuditorEvents) {
    const forwarded = AuditService.create({ writer, logger });
    forwarder.subscribe(async event => {
      await forwarded.record(fromAuditorEvent(event));
    });
    logger.info('KMP audit: forwarding Backstage auditor events');
  }

  /**
   * Whether a user the permission policy refuses `kmp.audit.read` may
   * still read the trail of their own actions: the persona matrix's
   * "own actions" cell (developers). A basic permission cannot express
   * that scope, so it is applied here, as a forced actor filter.
   */
  const ownActionsReader = async (
    credentials: BackstageCredentials<
      BackstageUserPrincipal | BackstageServicePrincipal
    >,
  ): Promise<string | undefined> => {
    if (credentials.principal.type !== 'user') return undefined;
    const info = await userInfo.getUserInfo(credentials);
    const ownOnly = personaPolicy
      .assignments(info.ownershipEntityRefs)
      .some(({ persona, environment }) => {
        const d = decideAction({ persona, environment, action: 'read-audit' });
        return d.allowed && d.ownActionsOnly;
      });
    return ownOnly ? credentials.principal.userEntityRef : undefined;
  };

  /**
   * `kmp.audit.read`, or (with `ownActions`) the caller's own actions
   * only: then `ownActor` is the only actor the caller may filter on.
   */
  const authorizeRead = async (
    req: Request,
    scope: { ownActions?: boolean } = {},
  ) => {
    const credentials = await httpAuth.credentials(req, {
      allow: ['user', 'service'],
    });
    const [decision] = await permissions.authorize(
      [{ permission: kmpAuditReadPermission }],
      { credentials },
    );
    if (decision.result === AuthorizeResult.ALLOW) {
      return { credentials, ownActor: undefined };
    }
    const ownActor = scope.ownActions
      ? await ownActionsReader(credentials)
      : undefined;
    if (!ownActor) {
      throw new NotAllowedError(
        `not allowed to ${kmpAuditReadPermission.name}`,
      );
    }
    return { credentials, ownActor };
  };

  /** The request's filter, limited to the caller's own actions if need be. */
  const filterFor = (
    query: Record<string, unknown>,
    ownActor: string | undefined,
  ) => {
    const filter = pickFilter(query);
    if (!ownActor) return filter;
    if (filter.actor !== undefined && filter.actor !== ownActor) {
      throw new NotAllowedError(
        `you may read the audit trail of your own actions only (${ownActor})`,
      );
    }
    return { ...filter, actor: ownActor };
  };

  const actorOf = (
    req: Request,
    credentials: BackstageCredentials<
      BackstageUserPrincipal | BackstageServicePrincipal
    >,
  ): AuditActor => {
    const principal = credentials.principal;
    const userAgent = req.get('user-agent');
    return {
      type: principal.type === 'user' ? 'human' : 'service',
      ref:
        principal.type === 'user' ? principal.userEntityRef : principal.subject,
      ...(req.ip ? { ip: req.ip.slice(0, 64) } : {}),
      ...(userAgent ? { userAgent: userAgent.slice(0, 512) } : {}),
    };
  };

  router.get('/audit/events', async (req, res) => {
    const { ownActor } = await authorizeRead(req, { ownActions: true });
    const query = req.query as Record<string, unknown>;
    const filter = filterFor(query, ownActor);
    const order = orderOf(query.order, 'desc');
    const limit = query.limit === undefined ? 100 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new InputError(
        'Invalid query parameter limit: must be an integer from 1 to 1000',
      );
    }
    const afterSeq =
      typeof query.cursor === 'string'
        ? decodeCursor(query.cursor, order)
        : undefined;
    const page = await store.query({ ...filter, order, limit, afterSeq });
    res.json({
      items: page.items,
      ...(page.nextSeq !== undefined
        ? { nextCursor: encodeCursor(order, page.nextSeq) }
        : {}),
    });
  });

  router.get('/audit/events/export', async (req, res) => {
    const { credentials, ownActor } = await authorizeRead(req, {
      ownActions: true,
    });
    const query = req.query as Record<string, unknown>;
    const filter = filterFor(query, ownActor);
    const order = orderOf(query.order, 'asc');
    const format = query.format ?? 'ndjson';
    if (format !== 'ndjson' && format !== 'csv') {
      throw new InputError(
        'Invalid query parameter format: must be ndjson or csv',
      );
    }
    await audit.record({
      actor: actorOf(req, credentials),
      action: 'audit.export',
      target: {},
      decision: { result: 'allow' },
      outcome: 'success',
      request: { method: req.method, path: req.originalUrl },
      details: { format },
    });
    res.status(200);
    res.setHeader(
      'content-type',
      format === 'csv'
        ? 'text/csv; charset=utf-8'
        : 'application/x-ndjson; charset=utf-8',
    );
    res.setHeader(
      'content-disposition',
      `attachment; filename="kmp-audit.${format}"`,
    );
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    try {
      if (format === 'csv') res.write(csvHeader());
      for await (const page of store.scan({ ...filter, order })) {
        if (closed) break;
        const chunk = page.map(format === 'csv' ? csvRow : ndjsonLine).join('');
        if (!res.write(chunk)) {
          await Promise.race([once(res, 'drain'), once(res, 'close')]);
        }
      }
      res.end();
    } catch (error) {
      logger.error(`KMP audit export failed mid-stream: ${error}`);
      res.destroy(error instanceof Error ? error : undefined);
    }
  });

  router.get('/audit/verify', async (req, res) => {
    // Chain integrity holds no event content: own-action readers see it too.
    const { credentials } = await authorizeRead(req, { ownActions: true });
    const result = await store.verify({ checkCheckpoint });
    if (!result.valid) {
      logger.error(`KMP audit chain does not verify: ${result.reason}`);
    }
    await audit.record({
      actor: actorOf(req, credentials),
      action: 'audit.verify',
      target: {},
      decision: { result: 'allow' },
      outcome: result.valid ? 'success' : 'failure',
      request: { method: req.method, path: req.originalUrl },
      details: {
        valid: result.valid,
        checked: result.checked,
        ...(result.firstInvalidSeq !== undefined
          ? { firstInvalidSeq: result.firstInvalidSeq }
          : {}),
      },
    });
    res.json(result);
  });

  router.get('/audit/sinks', async (req, res) => {
    await authorizeRead(req);
    const names = auditConfig.sinks.map(s => s.name);
    const [rows, current] = await Promise.all([
      cursors.list(names),
      store.head(),
    ]);
    const items = await Promise.all(
      rows.map(async row => {
        const lag = Math.max(0, current.seq - row.cursor);
        const oldestPending =
          lag > 0 ? await store.timeOf(row.cursor + 1) : undefined;
        return {
          name: row.name,
          kind: row.kind,
          state: row.state,
          cursor: row.cursor,
          lag,
          consecutiveFailures: row.consecutiveFailures,
          deliveredCount: row.deliveredCount,
          ...(oldestPending !== undefined
            ? { oldestPendingTime: iso(oldestPending) }
            : {}),
          ...(row.lastError ? { lastError: row.lastError } : {}),
          ...(row.lastErrorAt ? { lastErrorAt: iso(row.lastErrorAt) } : {}),
          ...(row.lastSuccessAt
            ? { lastSuccessAt: iso(row.lastSuccessAt) }
            : {}),
        };
      }),
    );
    res.json({ items });
  });

  logger.info(
    `KMP audit: chain head at seq ${head.seq}; sinks: ${
      auditConfig.sinks.map(s => `${s.name} (${s.kind})`).join(', ') || 'none'
    }`,
  );
  return audit;
}
