import {
  PolicyComplianceReport,
  PolicyDistributionMode,
  PolicyDriftStatus,
  PolicyEnforcement,
  PolicyFinding,
  PolicyInstallation,
} from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';

const INSTALLATIONS = 'kmp_policy_installations';
const COMPLIANCE = 'kmp_policy_compliance';

type InstallationRow = {
  cluster: string;
  bundle_version: string;
  mode: string;
  enforcement: string;
  content_hash: string;
  location: string | null;
  installed_at: Date | string;
  installed_by: string;
  drift_status: string;
  drift_checked_at: Date | string | null;
  drift_details: string;
  live_version: string | null;
};

type ComplianceRow = {
  cluster: string;
  bundle_version: string;
  status: string;
  scanned_at: Date | string;
  objects_scanned: number;
  error: string | null;
  engines: string;
  rules: string;
  findings: string;
  truncated: boolean | number;
};

const iso = (value: Date | string) => new Date(value).toISOString();

function toInstallation(row: InstallationRow): PolicyInstallation {
  return {
    cluster: row.cluster,
    bundleVersion: row.bundle_version,
    mode: row.mode as PolicyDistributionMode,
    enforcement: JSON.parse(row.enforcement),
    contentHash: row.content_hash,
    ...(row.location ? { location: row.location } : {}),
    installedAt: iso(row.installed_at),
    installedBy: row.installed_by,
    drift: {
      status: row.drift_status as PolicyDriftStatus,
      ...(row.drift_checked_at ? { checkedAt: iso(row.drift_checked_at) } : {}),
      details: JSON.parse(row.drift_details),
      ...(row.live_version ? { liveVersion: row.live_version } : {}),
    },
  };
}

/** The stored compliance scan of a cluster. */
export interface ComplianceSnapshot {
  cluster: string;
  bundleVersion: string;
  status: 'ok' | 'failed';
  scannedAt: string;
  objectsScanned: number;
  error?: string;
  engines: string[];
  rules: PolicyComplianceReport['rules'];
  findings: PolicyFinding[];
  truncated: boolean;
}

function toSnapshot(row: ComplianceRow): ComplianceSnapshot {
  return {
    cluster: row.cluster,
    bundleVersion: row.bundle_version,
    status: row.status as 'ok' | 'failed',
    scannedAt: iso(row.scanned_at),
    objectsScanned: Number(row.objects_scanned),
    ...(row.error ? { error: row.error } : {}),
    engines: JSON.parse(row.engines),
    rules: JSON.parse(row.rules),
    findings: JSON.parse(row.findings),
    truncated: !!row.truncated,
  };
}

/**
 * Durable state of policy governance: installations per cluster (bundle
 * version, mode, drift) and the last compliance scan per cluster.
 */
export class PolicyStore {
  private constructor(private readonly db: Knex) {}

  static create(options: { db: Knex }): PolicyStore {
    return new PolicyStore(options.db);
  }

  async recordInstallation(installation: {
    cluster: string;
    bundleVersion: string;
    mode: PolicyDistributionMode;
    enforcement: Record<string, PolicyEnforcement>;
    contentHash: string;
    location?: string;
    actor: string;
  }): Promise<PolicyInstallation> {
    const now = new Date();
    const row = {
      cluster: installation.cluster,
      bundle_version: installation.bundleVersion,
      mode: installation.mode,
      enforcement: JSON.stringify(installation.enforcement),
      content_hash: installation.contentHash,
      location: installation.location ?? null,
      installed_at: now,
      installed_by: installation.actor,
      // Just applied: in sync until a check says otherwise. GitOps output is
      // unknown until the cluster is read back.
      drift_status: installation.mode === 'apply' ? 'in-sync' : 'unknown',
      drift_checked_at: installation.mode === 'apply' ? now : null,
      drift_details: '[]',
      live_version:
        installation.mode === 'apply' ? installation.bundleVersion : null,
    };
    await this.db(INSTALLATIONS).insert(row).onConflict('cluster').merge();
    return (await this.getInstallation(installation.cluster))!;
  }

  async recordDrift(
    cluster: string,
    drift: {
      status: PolicyDriftStatus;
      details: string[];
      liveVersion?: string;
    },
  ): Promise<void> {
    await this.db(INSTALLATIONS)
      .where({ cluster })
      .update({
        drift_status: drift.status,
        drift_checked_at: new Date(),
        drift_details: JSON.stringify(drift.details.slice(0, 100)),
        live_version: drift.liveVersion ?? null,
      });
  }

  async getInstallation(
    cluster: string,
  ): Promise<PolicyInstallation | undefined> {
    const row = await this.db<InstallationRow>(INSTALLATIONS)
      .where({ cluster })
      .first();
    return row ? toInstallation(row) : undefined;
  }

  async listInstallations(options: {
    limit: number;
    offset: number;
    clusters?: string[];
  }): Promise<{ items: PolicyInstallation[]; totalCount: number }> {
    const query = this.db<InstallationRow>(INSTALLATIONS);
    if (options.clusters) query.whereIn('cluster', options.clusters);
    const [{ count }] = await query.clone().count({ count: '*' });
    const rows = await query
      .select()
      .orderBy('cluster')
      .limit(options.limit)
      .offset(options.offset);
    return { items: rows.map(toInstallation), totalCount: Number(count) };
  }

  async recordCompliance(snapshot: ComplianceSnapshot): Promise<void> {
    await this.db(COMPLIANCE)
      .insert({
        cluster: snapshot.cluster,
        bundle_version: snapshot.bundleVersion,
        status: snapshot.status,
        scanned_at: new Date(snapshot.scannedAt),
        objects_scanned: snapshot.objectsScanned,
        error: snapshot.error ?? null,
        engines: JSON.stringify(snapshot.engines),
        rules: JSON.stringify(snapshot.rules),
        findings: JSON.stringify(snapshot.findings),
        truncated: snapshot.truncated,
      })
      .onConflict('cluster')
      .merge();
  }

  /** The installations of the given clusters, by cluster (one query). */
  async getInstallations(
    clusters: string[],
  ): Promise<Map<string, PolicyInstallation>> {
    if (clusters.length === 0) return new Map();
    const rows = await this.db<InstallationRow>(INSTALLATIONS).whereIn(
      'cluster',
      clusters,
    );
    return new Map(rows.map(r => [r.cluster, toInstallation(r)]));
  }

  /**
   * What a compliance summary needs of the last scans of the given clusters
   * (one query, without the findings): status, time, bundle version and the
   * violations summed over the rules.
   */
  async getComplianceSummaries(clusters: string[]): Promise<
    Map<
      string,
      Pick<ComplianceSnapshot, 'status' | 'scannedAt' | 'bundleVersion'> & {
        violations: number;
      }
    >
  > {
    if (clusters.length === 0) return new Map();
    const rows: Array<
      Pick<
        ComplianceRow,
        'cluster' | 'status' | 'scanned_at' | 'bundle_version' | 'rules'
      >
    > = await this.db(COMPLIANCE)
      .whereIn('cluster', clusters)
      .select('cluster', 'status', 'scanned_at', 'bundle_version', 'rules');
    return new Map(
      rows.map(r => {
        const rules: Array<{ violations: number }> = JSON.parse(r.rules);
        return [
          r.cluster,
          {
            status: r.status as ComplianceSnapshot['status'],
            scannedAt: iso(r.scanned_at),
            bundleVersion: r.bundle_version,
            violations: rules.reduce((n, rule) => n + rule.violations, 0),
          },
        ];
      }),
    );
  }

  async getCompliance(
    cluster: string,
  ): Promise<ComplianceSnapshot | undefined> {
    const row = await this.db<ComplianceRow>(COMPLIANCE)
      .where({ cluster })
      .first();
    return row ? toSnapshot(row) : undefined;
  }
}
