import {
  BackstageCredentials,
  LoggerService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  NotAllowedError,
  NotFoundError,
} from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  AuditActor,
  AuditSeverity,
  BreakGlassRequest,
  breakGlassListQuerySchema,
  breakGlassRequestInputSchema,
  BreakGlassStepResult,
  kmpBreakGlassApprovePermission,
  kmpBreakGlassRequestPermission,
} from '@kmp/plugin-kmp-common';
import { KmpAuditService } from '@kmp/plugin-kmp-node';
import { Request, Response } from 'express';
import { z } from 'zod';
import { AUDIT_ID_HEADER } from '../broker/BrokerProxy';
import { readBrokerConfig } from '../broker/config';
import {
  auditActor,
  CallerIdentity,
  identify,
  PersonaResolver,
} from '../broker/identity';
import { ClusterStore } from '../registry/ClusterStore';
import { parseInput, RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { BreakGlassStore } from './BreakGlassStore';
import { BreakGlassConfig, readBreakGlassConfig } from './config';
import { StoredBreakGlassGrants } from './StoredBreakGlassGrants';

/** The rule behind every refused self-decision. */
export const FOUR_EYES_RULE =
  'break-glass needs a second person: nobody approves or denies their own request';

const reasonSchema = z.string().trim().min(1).max(2000);

/** The shared request body, capped at the configured longest grant. */
const createSchema = (config: BreakGlassConfig) =>
  breakGlassRequestInputSchema.extend({
    durationSeconds: breakGlassRequestInputSchema.shape.durationSeconds
      .unwrap()
      .max(
        config.maxDurationSeconds,
        `must be at most ${config.maxDurationSeconds} seconds (kmp.breakGlass.maxDurationSeconds)`,
      )
      .optional(),
  });

const decisionSchema = z.object({ comment: reasonSchema.optional() }).strict();
const revokeSchema = z.object({ reason: reasonSchema.optional() }).strict();

/** The shared list query, read from a query string: `limit` is coerced. */
const listSchema = breakGlassListQuerySchema.extend({
  limit: z.coerce
    .number()
    .pipe(breakGlassListQuerySchema.shape.limit.unwrap())
    .default(100),
});

const idSchema = z.object({ id: z.uuid() });

const sameActor = (a: string, b: string) =>
  a.toLocaleLowerCase('en-US') === b.toLocaleLowerCase('en-US');

/**
 * Break-glass with four eyes: a person asks for a time-boxed grant to change
 * a production cluster by hand, a different person holding
 * `kmp.break-glass.approve` approves or denies it, and while the grant lives
 * the broker lets the requester's writes through (audited as actor type
 * `break-glass` with the grant id). Grants expire, can be revoked, and every
 * step — refusals included — is written to the audit trail.
 */
export async function setupBreakGlass(
  ctx: KmpDomainContext,
  deps: { audit: KmpAuditService; clusters: ClusterStore },
): Promise<{ grants: StoredBreakGlassGrants; store: BreakGlassStore }> {
  const { router, httpAuth, permissions, auditor, userInfo, scheduler } = ctx;
  const { audit, clusters } = deps;
  const config = readBreakGlassConfig(ctx.config);
  const brokerConfig = readBrokerConfig(ctx.config);
  const gitops = new Set(brokerConfig.gitopsIdentities);
  // The persona RBAC mapper's mapping (`kmp.personas`), for the audit trail.
  const personas = PersonaResolver.fromConfig(ctx.config);
  const store = BreakGlassStore.create({ db: ctx.db });
  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const logger = ctx.logger.child({ domain: 'break-glass' });

  /** A person; break-glass is not for service principals. */
  const person = async (req: Request) => {
    const credentials = await guard.caller(req);
    const identity = await identify(credentials, userInfo, gitops);
    if (identity.kind !== 'user') {
      throw new NotAllowedError(
        'break-glass is for people: service callers change production through GitOps',
      );
    }
    return { credentials, identity };
  };

  const mayApprove = async (credentials: BackstageCredentials) => {
    const [decision] = await permissions.authorize(
      [{ permission: kmpBreakGlassApprovePermission }],
      { credentials },
    );
    return decision.result === AuthorizeResult.ALLOW;
  };

  /**
   * Runs one step inside an auditor event and records it in KMP's audit
   * trail: success, or a refusal (decision deny) naming the rule. The id of
   * the recorded event is the step's audit id, named in the
   * `kmp-audit-id` header — of refusals too — as the broker does.
   */
  const step = async (
    req: Request,
    res: Response,
    who: { credentials: BackstageCredentials; identity: CallerIdentity },
    action: string,
    target: { cluster: string; environmentGroup?: string; namespace?: string },
    details: Record<string, unknown>,
    fn: () => Promise<BreakGlassRequest>,
  ): Promise<BreakGlassStepResult> =>
    guard.audited(
      req,
      who.credentials,
      action.replace(/\./g, '-'),
      { cluster: target.cluster, ...details },
      async () => {
        const actor = auditActor(
          who.identity,
          target.environmentGroup
            ? personas.personasOf(who.identity, target.environmentGroup)
            : [],
          { ip: req.ip, userAgent: req.headers['user-agent'] },
          false,
        );
        const severity: AuditSeverity = 'high';
        const base = {
          action,
          source: 'kmp',
          actor,
          target: {
            cluster: target.cluster,
            ...(target.environmentGroup
              ? { environmentGroup: target.environmentGroup }
              : {}),
            ...(target.namespace ? { namespace: target.namespace } : {}),
          },
          severity,
        };
        let result: BreakGlassRequest;
        try {
          result = await fn();
        } catch (error) {
          if (error instanceof NotAllowedError) {
            const refusal = await audit.record({
              ...base,
              decision: { result: 'deny', reason: error.message },
              outcome: 'failure',
              details,
            });
            res.setHeader(AUDIT_ID_HEADER, refusal.id);
          }
          throw error;
        }
        const recorded = await audit.record({
          ...base,
          decision: { result: 'allow' },
          outcome: 'success',
          details: {
            ...details,
            requestId: result.id,
            state: result.state,
            ...(result.expiresAt ? { expiresAt: result.expiresAt } : {}),
          },
        });
        res.setHeader(AUDIT_ID_HEADER, recorded.id);
        return { ...result, auditId: recorded.id };
      },
    );

  const existing = async (id: string) => {
    const found = await store.get(id);
    if (!found) {
      throw new NotFoundError(`break-glass request '${id}' does not exist`);
    }
    return found;
  };

  const targetOf = (r: BreakGlassRequest) => ({
    cluster: r.cluster,
    environmentGroup: r.environmentGroup,
    namespace: r.namespace,
  });

  router.post('/break-glass/requests', async (req, res) => {
    const who = await person(req);
    const input = parseInput(createSchema(config), req.body ?? {}, 'body');
    const cluster = await clusters.get(input.cluster);
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${input.cluster}' is not registered`);
    }
    const durationSeconds =
      input.durationSeconds ?? config.defaultDurationSeconds;
    const created = await step(
      req,
      res,
      who,
      'break-glass.request',
      {
        cluster: cluster.name,
        environmentGroup: cluster.environmentGroup,
        namespace: input.namespace,
      },
      { reason: input.reason, durationSeconds },
      async () => {
        await guard.authorizeCluster(
          who.credentials,
          kmpBreakGlassRequestPermission,
          cluster.name,
        );
        if (cluster.environment === 'non-production') {
          throw new NotAllowedError(
            `cluster '${cluster.name}' is non-production: changes there need no break-glass`,
          );
        }
        return store.create({
          cluster: cluster.name,
          environmentGroup: cluster.environmentGroup,
          namespace: input.namespace,
          requester: who.identity.ref,
          reason: input.reason,
          durationSeconds,
          pendingSeconds: config.pendingSeconds,
        });
      },
    );
    res.status(201).json(created);
  });

  router.get('/break-glass/requests', async (req, res) => {
    const credentials = await guard.caller(req);
    const identity = await identify(credentials, userInfo, gitops);
    const query = parseInput(listSchema, req.query, 'query');
    const items = await store.list({
      requester: identity.ref,
      includeOpen: await mayApprove(credentials),
      state: query.state,
      cluster: query.cluster,
      limit: query.limit,
    });
    res.json({ items });
  });

  router.get('/break-glass/requests/:id', async (req, res) => {
    const credentials = await guard.caller(req);
    const { id } = parseInput(idSchema, req.params, 'params');
    const identity = await identify(credentials, userInfo, gitops);
    const found = await store.get(id);
    // Somebody else's request is as good as absent unless one may decide it.
    if (
      !found ||
      (!sameActor(found.requester, identity.ref) &&
        !(await mayApprove(credentials)))
    ) {
      throw new NotFoundError(`break-glass request '${id}' does not exist`);
    }
    res.json(found);
  });

  const decide = (approve: boolean) => async (req: Request, res: Response) => {
    const who = await person(req);
    const { id } = parseInput(idSchema, req.params, 'params');
    const { comment } = parseInput(decisionSchema, req.body ?? {}, 'body');
    const request = await existing(id);
    const decided = await step(
      req,
      res,
      who,
      approve ? 'break-glass.approve' : 'break-glass.deny',
      targetOf(request),
      {
        requestId: request.id,
        requester: request.requester,
        ...(comment ? { comment } : {}),
      },
      async () => {
        // Four eyes, whatever the permission policy says.
        if (sameActor(request.requester, who.identity.ref)) {
          throw new NotAllowedError(
            `${who.identity.ref} cannot ${
              approve ? 'approve' : 'deny'
            } their own break-glass request: ${FOUR_EYES_RULE}`,
          );
        }
        await guard.authorize(who.credentials, kmpBreakGlassApprovePermission);
        const result = await store.decide(request.id, {
          approve,
          by: who.identity.ref,
          comment,
        });
        if (!result) {
          const now = (await store.get(request.id)) ?? request;
          throw new ConflictError(
            `break-glass request '${request.id}' is ${now.state}, not pending`,
          );
        }
        return result;
      },
    );
    res.json(decided);
  };

  router.post('/break-glass/requests/:id/approve', decide(true));
  router.post('/break-glass/requests/:id/deny', decide(false));

  router.post('/break-glass/requests/:id/revoke', async (req, res) => {
    const who = await person(req);
    const { id } = parseInput(idSchema, req.params, 'params');
    const { reason } = parseInput(revokeSchema, req.body ?? {}, 'body');
    const request = await existing(id);
    const revoked = await step(
      req,
      res,
      who,
      'break-glass.revoke',
      targetOf(request),
      {
        requestId: request.id,
        requester: request.requester,
        ...(reason ? { reason } : {}),
      },
      async () => {
        if (
          !sameActor(request.requester, who.identity.ref) &&
          !(await mayApprove(who.credentials))
        ) {
          throw new NotAllowedError(
            `only the requester or a holder of ${kmpBreakGlassApprovePermission.name} may revoke break-glass request '${request.id}'`,
          );
        }
        const result = await store.revoke(request.id, who.identity.ref, reason);
        if (!result) {
          const now = (await store.get(request.id)) ?? request;
          throw new ConflictError(
            `break-glass request '${request.id}' is ${now.state}: nothing to revoke`,
          );
        }
        return result;
      },
    );
    res.json(revoked);
  });

  await scheduler.scheduleTask({
    id: 'kmp-break-glass-expiry',
    scope: 'global',
    frequency: { minutes: 1 },
    timeout: { minutes: 1 },
    fn: async () => {
      await recordClosedRequests(store, audit, logger);
    },
  });

  return { grants: StoredBreakGlassGrants.create({ store }), store };
}

/** KMP itself, as the actor of events nobody triggered by hand. */
const KMP_ACTOR: AuditActor = { type: 'service', ref: 'plugin:kmp' };

/**
 * Writes the end of every grant that expired (`break-glass.expire`) and
 * every request that lapsed undecided (`break-glass.lapse`) to the audit
 * trail, each once.
 */
export async function recordClosedRequests(
  store: BreakGlassStore,
  audit: KmpAuditService,
  logger?: LoggerService,
): Promise<number> {
  const closed = await store.claimClosed();
  let recorded = 0;
  for (const { request, lapsed } of closed) {
    const event = {
      action: lapsed ? 'break-glass.lapse' : 'break-glass.expire',
      source: 'kmp',
      actor: KMP_ACTOR,
      target: {
        cluster: request.cluster,
        environmentGroup: request.environmentGroup,
        ...(request.namespace ? { namespace: request.namespace } : {}),
      },
      decision: { result: 'allow' },
      outcome: 'success',
      details: {
        requestId: request.id,
        requester: request.requester,
        ...(request.expiresAt ? { expiresAt: request.expiresAt } : {}),
        ...(lapsed ? { pendingUntil: request.pendingUntil } : {}),
      },
    } as const;
    try {
      await audit.record(event);
      recorded += 1;
    } catch (error) {
      // Not recorded: the next run tries again (at least once, never lost).
      await store.releaseClaim(request.id);
      logger?.warn(
        `Could not record the end of break-glass request ${request.id}: ${error}`,
      );
    }
  }
  if (recorded > 0) {
    logger?.info(`Recorded the end of ${recorded} break-glass requests`);
  }
  return recorded;
}
