import {
  BreakGlassListQuery,
  BreakGlassRequest,
  BreakGlassState,
} from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';
import { randomUUID } from 'node:crypto';

const TABLE = 'kmp_break_glass_requests';

interface Row {
  id: string;
  cluster: string;
  environment_group: string;
  namespace: string | null;
  requester_ref: string;
  reason: string;
  duration_seconds: number;
  state: string;
  created_at: Date | string | number;
  pending_until: Date | string | number;
  decided_by: string | null;
  decided_at: Date | string | number | null;
  decision_comment: string | null;
  expires_at: Date | string | number | null;
  revoked_by: string | null;
  revoked_at: Date | string | number | null;
  revoke_reason: string | null;
  closed_recorded_at: Date | string | number | null;
}

type Timestamp = Date | string | number;
const iso = (value: Timestamp) => new Date(value).toISOString();
const isSet = <T>(value: T | null | undefined): value is T =>
  value !== null && value !== undefined;

function stateOf(row: Row, now: number): BreakGlassState {
  if (row.state === 'pending' && new Date(row.pending_until).getTime() <= now) {
    return 'expired';
  }
  if (
    row.state === 'approved' &&
    isSet(row.expires_at) &&
    new Date(row.expires_at).getTime() <= now
  ) {
    return 'expired';
  }
  return row.state as BreakGlassState;
}

function toRequest(row: Row, now = Date.now()): BreakGlassRequest {
  return {
    id: row.id,
    cluster: row.cluster,
    environmentGroup: row.environment_group,
    ...(row.namespace ? { namespace: row.namespace } : {}),
    requester: row.requester_ref,
    reason: row.reason,
    durationSeconds: Number(row.duration_seconds),
    state: stateOf(row, now),
    createdAt: iso(row.created_at),
    pendingUntil: iso(row.pending_until),
    ...(row.decided_by ? { decidedBy: row.decided_by } : {}),
    ...(isSet(row.decided_at) ? { decidedAt: iso(row.decided_at) } : {}),
    ...(row.decision_comment ? { comment: row.decision_comment } : {}),
    ...(isSet(row.expires_at) ? { expiresAt: iso(row.expires_at) } : {}),
    ...(row.revoked_by ? { revokedBy: row.revoked_by } : {}),
    ...(isSet(row.revoked_at) ? { revokedAt: iso(row.revoked_at) } : {}),
    ...(row.revoke_reason ? { revokeReason: row.revoke_reason } : {}),
  };
}

/**
 * Filters of {@link BreakGlassStore.list}: the API's list query, scoped to
 * what the caller may see; `requester` and `includeOpen` are OR-ed.
 */
export interface BreakGlassStoreQuery
  extends Omit<BreakGlassListQuery, 'limit'> {
  /** Requests made by this person, whatever their state. */
  requester: string;
  /** Also others' undecided requests and live grants (approvers). */
  includeOpen: boolean;
  limit: number;
}

/**
 * Break-glass requests and grants. Every state change is a conditional
 * update on the current state, so two approvers (or two backend instances)
 * cannot both decide the same request.
 */
export class BreakGlassStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }) {
    return new BreakGlassStore(options.db);
  }

  async create(
    input: Pick<
      BreakGlassRequest,
      | 'cluster'
      | 'environmentGroup'
      | 'namespace'
      | 'requester'
      | 'reason'
      | 'durationSeconds'
    > & {
      /** How long the request waits for a decision before it lapses. */
      pendingSeconds: number;
    },
  ): Promise<BreakGlassRequest> {
    const now = new Date();
    const row: Row = {
      id: randomUUID(),
      cluster: input.cluster,
      environment_group: input.environmentGroup,
      namespace: input.namespace ?? null,
      requester_ref: input.requester,
      reason: input.reason,
      duration_seconds: input.durationSeconds,
      state: 'pending',
      created_at: now,
      pending_until: new Date(now.getTime() + input.pendingSeconds * 1000),
      decided_by: null,
      decided_at: null,
      decision_comment: null,
      expires_at: null,
      revoked_by: null,
      revoked_at: null,
      revoke_reason: null,
      closed_recorded_at: null,
    };
    await this.db<Row>(TABLE).insert(row);
    return toRequest(row);
  }

  async get(id: string): Promise<BreakGlassRequest | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row ? toRequest(row) : undefined;
  }

  /**
   * Approves or denies a pending, unlapsed request. Returns the request
   * afterwards, or undefined when it was no longer pending (somebody else
   * decided first, or it lapsed).
   */
  async decide(
    id: string,
    decision: { approve: boolean; by: string; comment?: string },
  ): Promise<BreakGlassRequest | undefined> {
    const now = new Date();
    const pending = await this.db<Row>(TABLE)
      .where({ id, state: 'pending' })
      .where('pending_until', '>', now)
      .first();
    if (!pending) return undefined;
    const updated = await this.db<Row>(TABLE)
      .where({ id, state: 'pending' })
      .update({
        state: decision.approve ? 'approved' : 'denied',
        decided_by: decision.by,
        decided_at: now,
        decision_comment: decision.comment ?? null,
        // The grant's time starts when it is approved, not when requested.
        expires_at: decision.approve
          ? new Date(now.getTime() + Number(pending.duration_seconds) * 1000)
          : null,
      });
    return updated === 1 ? this.get(id) : undefined;
  }

  /**
   * Revokes a live grant or withdraws a pending request. Returns the request
   * afterwards, or undefined when there was nothing left to revoke.
   */
  async revoke(
    id: string,
    by: string,
    reason?: string,
  ): Promise<BreakGlassRequest | undefined> {
    const now = new Date();
    const updated = await this.db<Row>(TABLE)
      .where({ id })
      .where(q =>
        q
          .where(p =>
            p.where({ state: 'pending' }).where('pending_until', '>', now),
          )
          .orWhere(a =>
            a.where({ state: 'approved' }).where('expires_at', '>', now),
          ),
      )
      .update({
        state: 'revoked',
        revoked_by: by,
        revoked_at: now,
        revoke_reason: reason ?? null,
      });
    return updated === 1 ? this.get(id) : undefined;
  }

  /**
   * The requester's live grants on a cluster, the longest-lasting first.
   */
  async activeGrants(
    requester: string,
    cluster: string,
  ): Promise<BreakGlassRequest[]> {
    const now = new Date();
    const rows = await this.db<Row>(TABLE)
      .where({ requester_ref: requester, cluster, state: 'approved' })
      .where('expires_at', '>', now)
      .orderBy('expires_at', 'desc');
    return rows.map(row => toRequest(row, now.getTime()));
  }

  /** Requests newest first, see {@link BreakGlassStoreQuery}. */
  async list(query: BreakGlassStoreQuery): Promise<BreakGlassRequest[]> {
    const now = new Date();
    const q = this.db<Row>(TABLE).where(who => {
      who.where({ requester_ref: query.requester });
      if (query.includeOpen) {
        who
          .orWhere(p =>
            p.where({ state: 'pending' }).where('pending_until', '>', now),
          )
          .orWhere(a =>
            a.where({ state: 'approved' }).where('expires_at', '>', now),
          );
      }
    });
    if (query.cluster) q.where({ cluster: query.cluster });
    switch (query.state) {
      case 'pending':
        q.where({ state: 'pending' }).where('pending_until', '>', now);
        break;
      case 'approved':
        q.where({ state: 'approved' }).where('expires_at', '>', now);
        break;
      case 'expired':
        q.where(e =>
          e
            .where(p =>
              p.where({ state: 'pending' }).where('pending_until', '<=', now),
            )
            .orWhere(a =>
              a.where({ state: 'approved' }).where('expires_at', '<=', now),
            ),
        );
        break;
      case 'denied':
      case 'revoked':
        q.where({ state: query.state });
        break;
      default:
    }
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id', 'asc')
      .limit(query.limit);
    return rows.map(row => toRequest(row, now.getTime()));
  }

  /** Gives a claim back, so the next run records that request again. */
  async releaseClaim(id: string): Promise<void> {
    await this.db<Row>(TABLE)
      .where({ id })
      .update({ closed_recorded_at: null });
  }

  /**
   * Claims grants that expired and requests that lapsed since the last call
   * and returns them, each exactly once (also with several backend
   * instances), so their end can be written to the audit trail.
   */
  async claimClosed(
    limit = 500,
  ): Promise<Array<{ request: BreakGlassRequest; lapsed: boolean }>> {
    const now = new Date();
    const candidates = await this.db<Row>(TABLE)
      .whereNull('closed_recorded_at')
      .where(q =>
        q
          .where(p =>
            p.where({ state: 'pending' }).where('pending_until', '<=', now),
          )
          .orWhere(a =>
            a.where({ state: 'approved' }).where('expires_at', '<=', now),
          ),
      )
      .orderBy('created_at', 'asc')
      .limit(limit);
    const claimed: Array<{ request: BreakGlassRequest; lapsed: boolean }> = [];
    for (const row of candidates) {
      const updated = await this.db<Row>(TABLE)
        .where({ id: row.id, state: row.state })
        .whereNull('closed_recorded_at')
        .update({ closed_recorded_at: now });
      if (updated === 1) {
        claimed.push({
          request: toRequest(row, now.getTime()),
          lapsed: row.state === 'pending',
        });
      }
    }
    return claimed;
  }
}
