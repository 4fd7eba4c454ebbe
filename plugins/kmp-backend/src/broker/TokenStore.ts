import { Knex } from 'knex';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const TABLE = 'kmp_broker_tokens';

/** Prefix of KMP-issued bearer tokens; 43 base64url characters follow. */
export const TOKEN_PREFIX = 'kmp_';
const TOKEN_PATTERN = /^kmp_[A-Za-z0-9_-]{43}$/;

/** What a KMP-issued token lets its bearer do. */
export type TokenAccess = 'read' | 'write';

/** A token as stored and listed: never the token itself. */
export interface BrokerToken {
  id: string;
  actorRef: string;
  actorKind: 'user' | 'service';
  /** The actor's ownership refs when the token was issued. */
  groups: string[];
  cluster: string;
  access: TokenAccess;
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  revokedBy?: string;
  state: 'active' | 'expired' | 'revoked';
}

interface Row {
  id: string;
  token_hash: string;
  actor_ref: string;
  actor_kind: string;
  groups: string;
  cluster: string;
  access: string;
  created_at: Date | string | number;
  expires_at: Date | string | number;
  revoked_at: Date | string | number | null;
  revoked_by: string | null;
}

const iso = (value: Date | string | number) => new Date(value).toISOString();

function toToken(row: Row, now = Date.now()): BrokerToken {
  const expiresAt = iso(row.expires_at);
  let state: BrokerToken['state'] = 'active';
  if (row.revoked_at !== null && row.revoked_at !== undefined) {
    state = 'revoked';
  } else if (Date.parse(expiresAt) <= now) {
    state = 'expired';
  }
  return {
    id: row.id,
    actorRef: row.actor_ref,
    actorKind: row.actor_kind === 'service' ? 'service' : 'user',
    groups: JSON.parse(row.groups),
    cluster: row.cluster,
    access: row.access === 'write' ? 'write' : 'read',
    createdAt: iso(row.created_at),
    expiresAt,
    ...(row.revoked_at ? { revokedAt: iso(row.revoked_at) } : {}),
    ...(row.revoked_by ? { revokedBy: row.revoked_by } : {}),
    state,
  };
}

/** Hex SHA-256 of a token: the only form in which tokens are stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Whether a bearer credential looks like a KMP-issued token. */
export function isBrokerToken(token: string): boolean {
  return TOKEN_PATTERN.test(token);
}

/**
 * Short-lived bearer tokens of KMP-issued kubeconfigs: 256 random bits,
 * shown once, stored as a SHA-256 hash, bound to one cluster, one actor
 * and an access level, revocable, listed per actor.
 */
export class BrokerTokenStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }) {
    return new BrokerTokenStore(options.db);
  }

  async issue(input: {
    actorRef: string;
    actorKind: 'user' | 'service';
    groups: string[];
    cluster: string;
    access: TokenAccess;
    ttlSeconds: number;
  }): Promise<{ token: string; record: BrokerToken }> {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const now = new Date();
    const row: Row = {
      id: randomUUID(),
      token_hash: hashToken(token),
      actor_ref: input.actorRef,
      actor_kind: input.actorKind,
      groups: JSON.stringify(input.groups),
      cluster: input.cluster,
      access: input.access,
      created_at: now,
      expires_at: new Date(now.getTime() + input.ttlSeconds * 1000),
      revoked_at: null,
      revoked_by: null,
    };
    await this.db<Row>(TABLE).insert(row);
    return { token, record: toToken(row) };
  }

  /** The token's record, whatever its state; undefined when unknown. */
  async lookup(token: string): Promise<BrokerToken | undefined> {
    if (!isBrokerToken(token)) return undefined;
    const row = await this.db<Row>(TABLE)
      .where({ token_hash: hashToken(token) })
      .first();
    return row ? toToken(row) : undefined;
  }

  async get(id: string): Promise<BrokerToken | undefined> {
    const row = await this.db<Row>(TABLE).where({ id }).first();
    return row ? toToken(row) : undefined;
  }

  /** An actor's tokens, newest first. */
  async listFor(actorRef: string, limit = 200): Promise<BrokerToken[]> {
    const rows = await this.db<Row>(TABLE)
      .where({ actor_ref: actorRef })
      .orderBy('created_at', 'desc')
      .limit(limit);
    const now = Date.now();
    return rows.map(row => toToken(row, now));
  }

  /** Revokes a token; returns it, or undefined when it does not exist. */
  async revoke(id: string, by: string): Promise<BrokerToken | undefined> {
    await this.db<Row>(TABLE)
      .where({ id })
      .whereNull('revoked_at')
      .update({ revoked_at: new Date(), revoked_by: by });
    return this.get(id);
  }

  /** Deletes tokens that expired before `before`. */
  async prune(before: Date): Promise<number> {
    return this.db<Row>(TABLE).where('expires_at', '<', before).delete();
  }
}
