import { ConflictError, NotFoundError } from '@backstage/errors';
import {
  Cluster,
  ClusterGitOpsStatus,
  clusterGitOpsStatusSchema,
  ClusterLifecycleState,
  ClusterNodeProblems,
  clusterNodeProblemsSchema,
  ClusterTenant,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { PermissionCriteria } from '@backstage/plugin-permission-common';
import { Knex } from 'knex';
import {
  applyClusterCriteria,
  CLUSTER_TENANTS,
  ClusterQuery,
} from './clusterPermissions';

const CLUSTERS = 'kmp_clusters';
const HISTORY = 'kmp_cluster_history';
const REVISION = 'kmp_registry_revision';

type Row = {
  name: string;
  title: string | null;
  description: string | null;
  environment: string;
  environment_group: string;
  region: string;
  profile: string;
  distribution: string | null;
  kubernetes_version: string | null;
  connectivity: string;
  lifecycle_state: string;
  owner: string;
  api_server_url: string | null;
  labels: string | null;
  source: string;
  credentials: string | null;
  node_count: number | null;
  nodes_ready: number | null;
  control_plane_healthy: boolean | number | null;
  last_seen_at: Date | string | number | null;
  last_checked_at: Date | string | number | null;
  last_error: string | null;
  consecutive_failures: number;
  serving_cert_not_after: Date | string | null;
  serving_cert_subject: string | null;
  gitops_status: string | null;
  gitops_checked_at: Date | string | number | null;
  node_problems: string | null;
  revision: number | string;
  created_at: Date | string | number;
  updated_at: Date | string | number;
  decommissioned_at: Date | string | number | null;
};

export type ClusterSource = RegisteredCluster['source'];

/** The fields a registration or an update may set. */
export type ClusterFields = Omit<Cluster, 'lifecycleState'>;

export interface ClusterListFilter {
  environment?: string[];
  environmentGroup?: string[];
  region?: string[];
  profile?: string[];
  lifecycleState?: string[];
  connectivity?: string[];
  /** Exact cluster names (e.g. one page of another list). */
  name?: string[];
  text?: string;
  includeDecommissioned?: boolean;
}

export type ClusterOrderField =
  | 'name'
  | 'environment'
  | 'environmentGroup'
  | 'region'
  | 'lifecycleState'
  | 'kubernetesVersion'
  | 'updatedAt';

const orderColumns: Record<ClusterOrderField, string> = {
  name: 'name',
  environment: 'environment',
  environmentGroup: 'environment_group',
  region: 'region',
  lifecycleState: 'lifecycle_state',
  kubernetesVersion: 'kubernetes_version',
  updatedAt: 'updated_at',
};

/** What one refresh of a cluster observed. */
export type ProbeResult =
  | {
      ok: true;
      kubernetesVersion?: string;
      distribution?: string;
      nodeCount: number;
      nodesReady: number;
      controlPlaneHealthy: boolean;
      /** Tenant namespaces; absent when they could not be listed. */
      tenants?: ClusterTenant[];
      /** The API server's serving certificate (TLS only). */
      servingCertificate?: { notAfter: string; subject: string };
      /** GitOps objects failing or out of sync; absent when they could not all be listed. */
      gitops?: Omit<ClusterGitOpsStatus, 'checkedAt'>;
      /** Nodes under pressure, cordoned or without network (from the node list). */
      nodeProblems?: Omit<ClusterNodeProblems, 'checkedAt'>;
    }
  | { ok: false; error: string };

function iso(value: Date | string | number | null | undefined) {
  if (value === null || value === undefined) return undefined;
  return new Date(value as any).toISOString();
}

/** The stored GitOps summary, or nothing when there is none (or it is unreadable). */
function gitopsOf(row: Row): ClusterGitOpsStatus | undefined {
  if (!row.gitops_status) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(row.gitops_status);
  } catch {
    return undefined;
  }
  const parsed = clusterGitOpsStatusSchema.safeParse({
    ...(value as object),
    ...(row.gitops_checked_at ? { checkedAt: iso(row.gitops_checked_at) } : {}),
  });
  return parsed.success ? parsed.data : undefined;
}

/** The stored node problems, or nothing when there are none (or they are unreadable). */
function nodeProblemsOf(row: Row): ClusterNodeProblems | undefined {
  if (!row.node_problems) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(row.node_problems);
  } catch {
    return undefined;
  }
  const parsed = clusterNodeProblemsSchema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

function toCluster(row: Row): RegisteredCluster {
  const optional = <T>(key: string, value: T | null | undefined) =>
    value === null || value === undefined ? {} : { [key]: value };
  const status = {
    ...optional('nodeCount', row.node_count),
    ...optional('nodesReady', row.nodes_ready),
    ...optional(
      'controlPlaneHealthy',
      row.control_plane_healthy === null
        ? null
        : Boolean(row.control_plane_healthy),
    ),
    ...optional('lastSeenAt', iso(row.last_seen_at)),
    ...optional('lastCheckedAt', iso(row.last_checked_at)),
    ...optional('lastError', row.last_error),
    consecutiveFailures: Number(row.consecutive_failures),
    ...(row.serving_cert_not_after
      ? {
          servingCertificate: {
            notAfter: iso(row.serving_cert_not_after)!,
            subject: row.serving_cert_subject ?? '',
          },
        }
      : {}),
    ...optional('gitops', gitopsOf(row)),
    ...optional('nodeProblems', nodeProblemsOf(row)),
  };
  return {
    name: row.name,
    ...optional('title', row.title),
    ...optional('description', row.description),
    environment: row.environment as Cluster['environment'],
    environmentGroup: row.environment_group,
    region: row.region,
    profile: row.profile,
    ...optional('distribution', row.distribution),
    ...optional('kubernetesVersion', row.kubernetes_version),
    connectivity: row.connectivity as Cluster['connectivity'],
    lifecycleState: row.lifecycle_state as ClusterLifecycleState,
    owner: row.owner,
    ...optional('apiServerUrl', row.api_server_url),
    ...optional('labels', row.labels ? JSON.parse(row.labels) : undefined),
    source: row.source as ClusterSource,
    status,
    createdAt: iso(row.created_at)!,
    updatedAt: iso(row.updated_at)!,
    ...optional('decommissionedAt', iso(row.decommissioned_at)),
    revision: Number(row.revision),
  } as RegisteredCluster;
}

function toColumns(fields: Partial<ClusterFields>) {
  const columns: Partial<Row> = {};
  const set = <K extends keyof Row>(key: K, value: Row[K] | undefined) => {
    if (value !== undefined) columns[key] = value;
  };
  set('title', fields.title);
  set('description', fields.description);
  set('environment', fields.environment);
  set('environment_group', fields.environmentGroup);
  set('region', fields.region);
  set('profile', fields.profile);
  set('distribution', fields.distribution);
  set('kubernetes_version', fields.kubernetesVersion);
  set('connectivity', fields.connectivity);
  set('owner', fields.owner);
  set('api_server_url', fields.apiServerUrl);
  if (fields.labels !== undefined)
    columns.labels = JSON.stringify(fields.labels);
  return columns;
}

/** Field-level differences for the history record. */
function diff(before: Record<string, unknown>, after: Record<string, unknown>) {
  const changes: Record<string, [unknown, unknown]> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      changes[key] = [before[key] ?? null, after[key] ?? null];
    }
  }
  return changes;
}

function escapeLike(text: string) {
  return text.replace(/[\\%_]/g, c => `\\${c}`);
}

/**
 * Durable store of registered clusters. Every change that the catalog shows
 * (metadata, lifecycle state, version) takes a new registry-wide revision, so
 * consumers can ask for the changes since the revision they last saw.
 * Every registration, update and decommissioning is also written to an
 * append-only history with the acting principal.
 */
export class ClusterStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }) {
    return new ClusterStore(options.db);
  }

  private async nextRevision(tx: Knex.Transaction): Promise<number> {
    // An UPDATE takes the row lock, serialising revisions across writers
    // (PostgreSQL) and backend instances; SQLite serialises writers anyway.
    await tx(REVISION).where({ id: 1 }).increment('revision', 1);
    const row = await tx(REVISION).where({ id: 1 }).first('revision');
    return Number(row.revision);
  }

  private async record(
    tx: Knex.Transaction,
    clusterName: string,
    action: string,
    actor: string,
    changes: object,
  ) {
    await tx(HISTORY).insert({
      cluster_name: clusterName,
      action,
      actor,
      changes: JSON.stringify(changes),
      at: new Date(),
    });
  }

  async get(name: string): Promise<RegisteredCluster | undefined> {
    const row = await this.db<Row>(CLUSTERS).where({ name }).first();
    return row ? (await this.withTenants([toCluster(row)]))[0] : undefined;
  }

  /** Adds the observed tenant namespaces to clusters (one query). */
  private async withTenants(
    clusters: RegisteredCluster[],
  ): Promise<RegisteredCluster[]> {
    if (clusters.length === 0) return clusters;
    const rows: Array<{
      cluster_name: string;
      namespace: string;
      team: string;
    }> = await this.db(CLUSTER_TENANTS)
      .whereIn(
        'cluster_name',
        clusters.map(c => c.name),
      )
      .orderBy(['cluster_name', 'namespace'])
      .select('cluster_name', 'namespace', 'team');
    const byCluster = new Map<string, ClusterTenant[]>();
    for (const r of rows) {
      const list = byCluster.get(r.cluster_name) ?? [];
      list.push({ namespace: r.namespace, team: r.team });
      byCluster.set(r.cluster_name, list);
    }
    return clusters.map(c =>
      byCluster.has(c.name) ? { ...c, tenants: byCluster.get(c.name) } : c,
    );
  }

  async getOrThrow(name: string): Promise<RegisteredCluster> {
    const cluster = await this.get(name);
    if (!cluster) {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    return cluster;
  }

  /** The encrypted credentials of a cluster (internal use only). */
  async getCredentialsCiphertext(name: string): Promise<string | undefined> {
    const row = await this.db<Row>(CLUSTERS)
      .where({ name })
      .first('credentials');
    return row?.credentials ?? undefined;
  }

  /**
   * Registers a cluster. A decommissioned cluster of the same name is
   * registered anew; an active one is a conflict.
   */
  async register(options: {
    fields: ClusterFields;
    source: ClusterSource;
    credentials?: string;
    actor: string;
  }): Promise<RegisteredCluster> {
    const { fields, source, credentials, actor } = options;
    await this.db.transaction(async tx => {
      const existing = await tx<Row>(CLUSTERS)
        .where({ name: fields.name })
        .first();
      if (existing && existing.lifecycle_state !== 'decommissioned') {
        throw new ConflictError(
          `cluster '${fields.name}' is already registered`,
        );
      }
      const revision = await this.nextRevision(tx);
      const now = new Date();
      const row = {
        name: fields.name,
        title: null,
        description: null,
        distribution: null,
        kubernetes_version: null,
        api_server_url: null,
        labels: null,
        ...toColumns(fields),
        lifecycle_state: 'registering',
        source,
        credentials: credentials ?? null,
        node_count: null,
        nodes_ready: null,
        control_plane_healthy: null,
        last_seen_at: null,
        last_checked_at: null,
        last_error: null,
        consecutive_failures: 0,
        // A cluster registered anew starts without observations.
        gitops_status: null,
        gitops_checked_at: null,
        node_problems: null,
        revision,
        created_at: now,
        updated_at: now,
        decommissioned_at: null,
      };
      if (existing) {
        await tx(CLUSTERS).where({ name: fields.name }).update(row);
      } else {
        await tx(CLUSTERS).insert(row);
      }
      await this.record(tx, fields.name, 'register', actor, {
        ...diff({}, { ...fields, source }),
        ...(credentials ? { credentials: ['(none)', '(encrypted)'] } : {}),
      });
    });
    return this.getOrThrow(fields.name);
  }

  /** Changes metadata (and optionally credentials) of a registered cluster. */
  async update(options: {
    name: string;
    fields: Partial<ClusterFields>;
    credentials?: string;
    actor: string;
    action?: string;
  }): Promise<RegisteredCluster> {
    const { name, fields, credentials, actor } = options;
    await this.db.transaction(async tx => {
      const existing = await tx<Row>(CLUSTERS).where({ name }).first();
      if (!existing || existing.lifecycle_state === 'decommissioned') {
        throw new NotFoundError(`cluster '${name}' is not registered`);
      }
      const before = toCluster(existing) as Record<string, any>;
      const changes = diff(
        Object.fromEntries(Object.keys(fields).map(k => [k, before[k]])),
        fields,
      );
      if (Object.keys(changes).length === 0 && !credentials) {
        return;
      }
      const revision = await this.nextRevision(tx);
      await tx(CLUSTERS)
        .where({ name })
        .update({
          ...toColumns(fields),
          ...(credentials ? { credentials } : {}),
          revision,
          updated_at: new Date(),
        });
      await this.record(tx, name, options.action ?? 'update', actor, {
        ...changes,
        ...(credentials
          ? { credentials: ['(encrypted)', '(encrypted, rotated)'] }
          : {}),
      });
    });
    return this.getOrThrow(name);
  }

  /**
   * Decommissions a cluster: it leaves the catalog and the refresh loop, and
   * its credentials are erased.
   */
  async decommission(options: {
    name: string;
    actor: string;
  }): Promise<RegisteredCluster> {
    const { name, actor } = options;
    await this.db.transaction(async tx => {
      const existing = await tx<Row>(CLUSTERS).where({ name }).first();
      if (!existing || existing.lifecycle_state === 'decommissioned') {
        throw new NotFoundError(`cluster '${name}' is not registered`);
      }
      const revision = await this.nextRevision(tx);
      const now = new Date();
      await tx(CLUSTERS).where({ name }).update({
        lifecycle_state: 'decommissioned',
        credentials: null,
        decommissioned_at: now,
        updated_at: now,
        revision,
      });
      await this.record(tx, name, 'decommission', actor, {
        lifecycleState: [existing.lifecycle_state, 'decommissioned'],
        credentials: ['(encrypted)', '(erased)'],
      });
    });
    return this.getOrThrow(name);
  }

  async list(options: {
    filter?: ClusterListFilter;
    orderBy?: ClusterOrderField;
    order?: 'asc' | 'desc';
    limit?: number;
    offset?: number;
    /** The filter of a conditional permission decision. */
    criteria?: PermissionCriteria<ClusterQuery>;
  }): Promise<{ items: RegisteredCluster[]; totalCount: number }> {
    const filter = options.filter ?? {};
    const query = this.db<Row>(CLUSTERS);
    if (options.criteria) {
      applyClusterCriteria(query, options.criteria);
    }
    const inList = (column: string, values?: string[]) => {
      if (values && values.length > 0) query.whereIn(column, values);
    };
    inList('environment', filter.environment);
    inList('environment_group', filter.environmentGroup);
    inList('region', filter.region);
    inList('profile', filter.profile);
    inList('connectivity', filter.connectivity);
    inList('name', filter.name);
    if (filter.lifecycleState && filter.lifecycleState.length > 0) {
      query.whereIn('lifecycle_state', filter.lifecycleState);
    } else if (!filter.includeDecommissioned) {
      query.whereNot('lifecycle_state', 'decommissioned');
    }
    if (filter.text) {
      const pattern = `%${escapeLike(filter.text.toLowerCase())}%`;
      query.where(q =>
        q
          .whereRaw(`lower(name) like ? escape '\\'`, [pattern])
          .orWhereRaw(`lower(coalesce(title, '')) like ? escape '\\'`, [
            pattern,
          ])
          .orWhereRaw(`lower(coalesce(description, '')) like ? escape '\\'`, [
            pattern,
          ])
          .orWhereRaw(`lower(region) like ? escape '\\'`, [pattern]),
      );
    }
    const [{ count }] = await query.clone().count({ count: '*' });
    const column = orderColumns[options.orderBy ?? 'name'];
    const rows = await query
      .select()
      .orderBy([
        { column, order: options.order ?? 'asc' },
        ...(column === 'name'
          ? []
          : [{ column: 'name', order: 'asc' as const }]),
      ])
      .limit(options.limit ?? 100)
      .offset(options.offset ?? 0);
    return {
      items: await this.withTenants(rows.map(toCluster)),
      totalCount: Number(count),
    };
  }

  /**
   * Counts of live clusters by lifecycle state, environment and
   * connectivity, limited to what `criteria` allows.
   */
  async summary(criteria?: PermissionCriteria<ClusterQuery>) {
    const count = async (column: string) => {
      const query = this.db<Row>(CLUSTERS).whereNot(
        'lifecycle_state',
        'decommissioned',
      );
      if (criteria) applyClusterCriteria(query, criteria);
      const rows = await query.select(column).count({ n: '*' }).groupBy(column);
      return Object.fromEntries(
        rows.map((r: any) => [String(r[column]), Number(r.n)]),
      ) as Record<string, number>;
    };
    const byState = await count('lifecycle_state');
    return {
      total: Object.values(byState).reduce((a, b) => a + b, 0),
      byLifecycleState: byState,
      byEnvironment: await count('environment'),
      byConnectivity: await count('connectivity'),
    };
  }

  /** Clusters changed after `revision`, in revision order, decommissioned ones included. */
  async changesSince(revision: number, limit = 1000) {
    const rows = await this.db<Row>(CLUSTERS)
      .where('revision', '>', revision)
      .orderBy('revision')
      .limit(limit);
    return rows.map(toCluster);
  }

  async currentRevision(): Promise<number> {
    const row = await this.db(REVISION).where({ id: 1 }).first('revision');
    return Number(row.revision);
  }

  async history(name: string) {
    const rows = await this.db(HISTORY)
      .where({ cluster_name: name })
      .orderBy('id');
    return rows.map(r => ({
      action: r.action as string,
      actor: r.actor as string,
      at: iso(r.at)!,
      changes: JSON.parse(r.changes) as Record<string, [unknown, unknown]>,
    }));
  }

  /** Names of the clusters the refresh loop probes. */
  async listProbeTargets(): Promise<string[]> {
    const rows = await this.db<Row>(CLUSTERS)
      .whereNot('lifecycle_state', 'decommissioned')
      .where('connectivity', 'direct')
      .orderBy('name')
      .select('name');
    return rows.map(r => r.name);
  }

  /**
   * Records what one refresh observed and moves the lifecycle state:
   * healthy → active, reachable but unhealthy → degraded, failing
   * `unreachableAfter` times in a row → unreachable. Only catalog-visible
   * changes take a new revision.
   */
  async recordProbe(
    name: string,
    result: ProbeResult,
    options: { unreachableAfter: number; now?: Date },
  ): Promise<
    { before: ClusterLifecycleState; after: ClusterLifecycleState } | undefined
  > {
    const now = options.now ?? new Date();
    return this.db.transaction(async tx => {
      const row = await tx<Row>(CLUSTERS).where({ name }).first();
      if (!row || row.lifecycle_state === 'decommissioned') return undefined;
      const before = row.lifecycle_state as ClusterLifecycleState;
      let update: Partial<Row>;
      let after: ClusterLifecycleState;
      if (result.ok) {
        const healthy =
          result.controlPlaneHealthy && result.nodesReady === result.nodeCount;
        after = healthy ? 'active' : 'degraded';
        update = {
          kubernetes_version:
            result.kubernetesVersion ?? row.kubernetes_version,
          distribution: row.distribution ?? result.distribution ?? null,
          node_count: result.nodeCount,
          nodes_ready: result.nodesReady,
          control_plane_healthy: result.controlPlaneHealthy,
          last_seen_at: now,
          last_error: null,
          consecutive_failures: 0,
          ...(result.servingCertificate
            ? {
                serving_cert_not_after: new Date(
                  result.servingCertificate.notAfter,
                ),
                serving_cert_subject: result.servingCertificate.subject,
              }
            : {}),
          // Absent when the GitOps objects could not all be listed: the
          // last observation stays.
          ...(result.gitops
            ? {
                gitops_status: JSON.stringify(result.gitops),
                gitops_checked_at: now,
              }
            : {}),
          // Summarised from the node list; never a new revision (the
          // catalog does not show it).
          ...(result.nodeProblems
            ? {
                node_problems: JSON.stringify({
                  ...result.nodeProblems,
                  checkedAt: now.toISOString(),
                }),
              }
            : {}),
        };
      } else {
        const failures = Number(row.consecutive_failures) + 1;
        after =
          failures >= options.unreachableAfter || before === 'unreachable'
            ? 'unreachable'
            : before;
        update = {
          last_error: result.error.slice(0, 1000),
          consecutive_failures: failures,
        };
      }
      update.lifecycle_state = after;
      update.last_checked_at = now;
      const visible =
        after !== before ||
        (update.kubernetes_version !== undefined &&
          update.kubernetes_version !== row.kubernetes_version) ||
        (update.distribution !== undefined &&
          update.distribution !== row.distribution);
      if (visible) {
        update.revision = await this.nextRevision(tx);
        update.updated_at = now;
      }
      await tx(CLUSTERS).where({ name }).update(update);
      if (result.ok && result.tenants) {
        await this.replaceTenants(tx, name, result.tenants, now);
      }
      if (after !== before) {
        await this.record(tx, name, 'state-change', 'kmp:registry-refresh', {
          lifecycleState: [before, after],
          ...(result.ok ? {} : { reason: [null, result.error.slice(0, 300)] }),
        });
      }
      return { before, after };
    });
  }

  /**
   * Replaces the tenant namespaces recorded for a cluster by what a probe
   * saw; unchanged ones keep their row.
   */
  private async replaceTenants(
    tx: Knex.Transaction,
    name: string,
    tenants: ClusterTenant[],
    now: Date,
  ) {
    const current: Array<{ namespace: string; team: string }> = await tx(
      CLUSTER_TENANTS,
    )
      .where({ cluster_name: name })
      .select('namespace', 'team');
    const seen = new Map(tenants.map(t => [t.namespace, t.team]));
    const stale = current
      .filter(r => seen.get(r.namespace) !== r.team)
      .map(r => r.namespace);
    if (stale.length > 0) {
      await tx(CLUSTER_TENANTS)
        .where({ cluster_name: name })
        .whereIn('namespace', stale)
        .delete();
    }
    const kept = new Set(
      current
        .filter(r => seen.get(r.namespace) === r.team)
        .map(r => r.namespace),
    );
    const added = tenants.filter(t => !kept.has(t.namespace));
    // Chunked: SQLite limits the variables of one statement.
    for (let i = 0; i < added.length; i += 200) {
      await tx(CLUSTER_TENANTS).insert(
        added.slice(i, i + 200).map(t => ({
          cluster_name: name,
          namespace: t.namespace,
          team: t.team,
          observed_at: now,
        })),
      );
    }
  }

  /** All clusters of a source, decommissioned ones excluded. */
  async listBySource(source: ClusterSource): Promise<RegisteredCluster[]> {
    const rows = await this.db<Row>(CLUSTERS)
      .where({ source })
      .whereNot('lifecycle_state', 'decommissioned');
    return rows.map(toCluster);
  }
}
