import { PermissionCriteria } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import { createHash } from 'node:crypto';
import {
  applyClusterCriteria,
  ClusterQuery,
} from '../registry/clusterPermissions';

const ALERTS = 'kmp_alerts';
const EVENTS = 'kmp_alert_events';
const EVALUATIONS = 'kmp_alert_evaluations';
const CLUSTERS = 'kmp_clusters';

/** KMP raises structural, high-severity alerts only. */
export const ALERT_SEVERITIES = ['critical', 'high'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export type AlertStatus = 'firing' | 'resolved';

/** A condition an evaluation found to hold now. */
export interface AlertCondition {
  cluster: string;
  alertname: string;
  severity: AlertSeverity;
  summary: string;
  description: string;
  /** Extra labels; `alertname`, `cluster` and `severity` are added. */
  labels: Record<string, string>;
  /** How long the condition must hold before the alert fires. */
  forSeconds: number;
}

/** An alert as the API and the receivers see it. */
export interface KmpAlert {
  fingerprint: string;
  cluster: string;
  alertname: string;
  severity: AlertSeverity;
  status: AlertStatus;
  summary: string;
  description: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

/** One transition in the outbox. */
export interface AlertEvent {
  seq: number;
  status: AlertStatus;
  alert: KmpAlert;
  createdAt: string;
}

type Row = {
  fingerprint: string;
  cluster: string;
  alertname: string;
  severity: string;
  state: string;
  summary: string;
  description: string;
  labels: string;
  active_since: Date | string | number;
  starts_at: Date | string | number | null;
  ends_at: Date | string | number | null;
  updated_at: Date | string | number;
};

const iso = (value: Date | string | number) =>
  new Date(value as any).toISOString();
const ms = (value: Date | string | number) => new Date(value as any).getTime();

/**
 * The fingerprint of an alert: a hash of the labels that identify it, so
 * it stays the same while severity, wording or other labels change, and
 * the same condition on the same cluster is one alert however often it is
 * seen. 16 hex digits, like Alertmanager's.
 */
export function alertFingerprint(alertname: string, cluster: string): string {
  return createHash('sha256')
    .update(JSON.stringify({ alertname, cluster }))
    .digest('hex')
    .slice(0, 16);
}

function toAlert(row: Row): KmpAlert {
  return {
    fingerprint: row.fingerprint,
    cluster: row.cluster,
    alertname: row.alertname,
    severity: row.severity as AlertSeverity,
    status: row.state === 'resolved' ? 'resolved' : 'firing',
    summary: row.summary,
    description: row.description,
    labels: JSON.parse(row.labels),
    startsAt: iso(row.starts_at ?? row.active_since),
    ...(row.ends_at ? { endsAt: iso(row.ends_at) } : {}),
  };
}

function labelsOf(condition: AlertCondition): Record<string, string> {
  return {
    ...condition.labels,
    alertname: condition.alertname,
    cluster: condition.cluster,
    severity: condition.severity,
  };
}

export interface AlertListQuery {
  cluster?: string[];
  status?: AlertStatus[];
  severity?: AlertSeverity[];
  limit: number;
  offset: number;
  /** The clusters the caller may see (a conditional read decision). */
  criteria?: PermissionCriteria<ClusterQuery>;
}

/**
 * Durable alert state: one row per fingerprint (pending → firing →
 * resolved, and firing again on a new episode), and an outbox of the
 * firing and resolved transitions that the receivers deliver from. A
 * transition and its outbox event are written in one transaction, so a
 * receiver never misses one.
 */
export class AlertStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }): AlertStore {
    return new AlertStore(options.db);
  }

  /**
   * Makes the stored alerts match the conditions that hold now: new
   * conditions become pending (or fire at once when `forSeconds` is 0),
   * pending ones fire once they have held for `forSeconds`, a firing alert
   * whose severity changed is announced again, and open alerts whose
   * condition no longer holds are resolved. Returns the transitions.
   */
  async reconcile(
    conditions: AlertCondition[],
    options: { now?: Date; clusters?: number } = {},
  ): Promise<{ fired: KmpAlert[]; resolved: KmpAlert[] }> {
    const now = options.now ?? new Date();
    const fired: KmpAlert[] = [];
    const resolved: KmpAlert[] = [];
    await this.db.transaction(async tx => {
      // One reconciliation at a time, even if two instances evaluate at
      // once: the update takes the row lock (PostgreSQL) and later
      // statements see what the other committed; SQLite serialises writers.
      await tx(EVALUATIONS)
        .insert({ id: 1, evaluated_at: now, clusters: 0 })
        .onConflict('id')
        .ignore();
      await tx(EVALUATIONS).where({ id: 1 }).update({ id: 1 });
      const open = new Map(
        (await tx<Row>(ALERTS).whereIn('state', ['pending', 'firing'])).map(
          r => [r.fingerprint, r],
        ),
      );
      const emit = async (row: Row, status: AlertStatus) => {
        const alert = toAlert(row);
        await tx(EVENTS).insert({
          fingerprint: row.fingerprint,
          status,
          alert: JSON.stringify(alert),
          created_at: now,
        });
        (status === 'firing' ? fired : resolved).push(alert);
      };
      const seen = new Set<string>();
      for (const condition of conditions) {
        const fingerprint = alertFingerprint(
          condition.alertname,
          condition.cluster,
        );
        if (seen.has(fingerprint)) continue;
        seen.add(fingerprint);
        const content = {
          cluster: condition.cluster,
          alertname: condition.alertname,
          severity: condition.severity,
          summary: condition.summary.slice(0, 500),
          description: condition.description.slice(0, 4000),
          labels: JSON.stringify(labelsOf(condition)),
          updated_at: now,
        };
        const current = open.get(fingerprint);
        if (!current) {
          // A new episode: pending until it has held for long enough.
          const firing = condition.forSeconds <= 0;
          const row = {
            fingerprint,
            ...content,
            state: firing ? 'firing' : 'pending',
            active_since: now,
            starts_at: firing ? now : null,
            ends_at: null,
          };
          await tx(ALERTS).insert(row).onConflict('fingerprint').merge();
          if (firing) await emit(row as Row, 'firing');
        } else if (
          current.state === 'pending' &&
          now.getTime() - ms(current.active_since) >=
            condition.forSeconds * 1000
        ) {
          const update = {
            ...content,
            state: 'firing',
            starts_at: current.active_since,
          };
          await tx(ALERTS).where({ fingerprint }).update(update);
          await emit({ ...current, ...update }, 'firing');
        } else {
          await tx(ALERTS).where({ fingerprint }).update(content);
          if (
            current.state === 'firing' &&
            current.severity !== condition.severity
          ) {
            // Escalated (or eased): receivers hear of the new severity.
            await emit({ ...current, ...content } as Row, 'firing');
          }
        }
      }
      for (const [fingerprint, row] of open) {
        if (seen.has(fingerprint)) continue;
        if (row.state === 'pending') {
          // Cleared before it fired: never announced, so nothing to resolve.
          await tx(ALERTS).where({ fingerprint }).delete();
          continue;
        }
        const update = { state: 'resolved', ends_at: now, updated_at: now };
        await tx(ALERTS).where({ fingerprint }).update(update);
        await emit({ ...row, ...update }, 'resolved');
      }
      await tx(EVALUATIONS)
        .insert({ id: 1, evaluated_at: now, clusters: options.clusters ?? 0 })
        .onConflict('id')
        .merge();
    });
    return { fired, resolved };
  }

  async lastEvaluation(): Promise<
    { evaluatedAt: string; clusters: number } | undefined
  > {
    const row = await this.db(EVALUATIONS).where({ id: 1 }).first();
    return row
      ? { evaluatedAt: iso(row.evaluated_at), clusters: Number(row.clusters) }
      : undefined;
  }

  private visible(
    query: Knex.QueryBuilder,
    criteria?: PermissionCriteria<ClusterQuery>,
  ) {
    if (criteria) {
      query.whereIn(
        'cluster',
        this.db(CLUSTERS)
          .select('name')
          .where(q => applyClusterCriteria(q, criteria)),
      );
    }
    return query;
  }

  /**
   * Announced alerts (firing or resolved): firing first, then critical
   * first, then newest first.
   */
  async list(
    query: AlertListQuery,
  ): Promise<{ items: KmpAlert[]; totalCount: number }> {
    const base = this.visible(this.db<Row>(ALERTS), query.criteria);
    const states = query.status?.length
      ? query.status
      : (['firing', 'resolved'] as const);
    base.whereIn('state', [...states]);
    if (query.cluster?.length) base.whereIn('cluster', query.cluster);
    if (query.severity?.length) base.whereIn('severity', query.severity);
    const [{ count }] = await base.clone().count({ count: '*' });
    const rows: Row[] = await base
      .select()
      .orderByRaw(
        `case when state = 'firing' then 0 else 1 end, case when severity = 'critical' then 0 else 1 end, starts_at desc, fingerprint`,
      )
      .limit(query.limit)
      .offset(query.offset);
    return { items: rows.map(toAlert), totalCount: Number(count) };
  }

  /**
   * Firing alerts counted by severity, fleet-wide and per cluster (only
   * clusters with firing alerts are listed), limited to what `criteria`
   * allows and, when given, to `clusters`.
   */
  async summary(options: {
    criteria?: PermissionCriteria<ClusterQuery>;
    clusters?: string[];
  }) {
    const query = this.visible(
      this.db(ALERTS).where('state', 'firing'),
      options.criteria,
    );
    if (options.clusters?.length) query.whereIn('cluster', options.clusters);
    const rows: Array<{ cluster: string; severity: string; n: unknown }> =
      await query
        .select('cluster', 'severity')
        .count({ n: '*' })
        .groupBy('cluster', 'severity')
        .orderBy('cluster');
    const bySeverity: Record<AlertSeverity, number> = { critical: 0, high: 0 };
    const clusters = new Map<
      string,
      { cluster: string; firing: number; bySeverity: Record<string, number> }
    >();
    for (const row of rows) {
      const n = Number(row.n);
      bySeverity[row.severity as AlertSeverity] =
        (bySeverity[row.severity as AlertSeverity] ?? 0) + n;
      const entry = clusters.get(row.cluster) ?? {
        cluster: row.cluster,
        firing: 0,
        bySeverity: {},
      };
      entry.firing += n;
      entry.bySeverity[row.severity] =
        (entry.bySeverity[row.severity] ?? 0) + n;
      clusters.set(row.cluster, entry);
    }
    return {
      firing: Object.values(bySeverity).reduce((a, b) => a + b, 0),
      bySeverity,
      clusters: [...clusters.values()],
    };
  }

  /** Outbox events after `cursor`, in seq order. */
  async readAfter(cursor: number, limit: number): Promise<AlertEvent[]> {
    const rows = await this.db(EVENTS)
      .where('seq', '>', cursor)
      .orderBy('seq')
      .limit(limit);
    return rows.map(r => ({
      seq: Number(r.seq),
      status: r.status as AlertStatus,
      alert: JSON.parse(r.alert),
      createdAt: iso(r.created_at),
    }));
  }

  /** The highest seq in the outbox (0 when empty). */
  async head(): Promise<number> {
    const [row] = await this.db(EVENTS).max({ seq: 'seq' });
    return Number(row?.seq ?? 0);
  }

  /**
   * Deletes outbox events every receiver has (`upToSeq`) and that are
   * older than `before`.
   */
  async prune(upToSeq: number, before: Date): Promise<number> {
    return this.db(EVENTS)
      .where('seq', '<=', upToSeq)
      .where('created_at', '<', before)
      .delete();
  }
}
