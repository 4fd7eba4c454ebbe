import {
  isSystemNamespace,
  KMP_TEAM_LABEL,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { ClusterConnections } from '../broker/ClusterConnections';
import { BrokerError } from '../broker/status';
import { ClusterRegistry } from '../registry/ClusterRegistry';

/** What the access rules need to know about a namespace. */
export interface NamespaceFacts {
  /** Whether the namespace exists on the cluster. */
  exists: boolean;
  /** The `kmp.backstage.io/team` label. */
  team?: string;
  /** `kube-*`, `default` or labelled `kmp.backstage.io/system: "true"`. */
  system: boolean;
}

const MAX_ENTRIES = 10_000;

/** A Kubernetes label value (what a team name must be to be selected on). */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** One of a team's tenant namespaces on a cluster. */
export interface TenantNamespaceInfo {
  name: string;
  team: string;
  phase?: string;
}

function parseJson(body: Buffer): any {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Reads a namespace's team and system labels from the cluster, through the
 * broker's connection pool with the registry's credential (not the
 * caller's: a developer must not need to be able to read the namespace to
 * be told whose it is), and keeps the answer for `ttlMs`, so that a burst
 * of requests costs one lookup and a relabelled namespace takes effect
 * within seconds.
 */
export class NamespaceDirectory {
  private readonly cache = new Map<
    string,
    { at: number; facts: Promise<NamespaceFacts> }
  >();

  private constructor(
    private readonly connections: ClusterConnections,
    private readonly registry: Pick<ClusterRegistry, 'credentialsOf'>,
    private readonly ttlMs: number,
  ) {}

  static create(options: {
    connections: ClusterConnections;
    registry: Pick<ClusterRegistry, 'credentialsOf'>;
    ttlMs?: number;
  }) {
    return new NamespaceDirectory(
      options.connections,
      options.registry,
      options.ttlMs ?? 5_000,
    );
  }

  lookup(
    cluster: RegisteredCluster,
    namespace: string,
  ): Promise<NamespaceFacts> {
    const key = `${cluster.name}/${cluster.revision}/${namespace}`;
    const now = Date.now();
    const cached = this.cache.get(key);
    if (cached && now - cached.at < this.ttlMs) return cached.facts;
    if (this.cache.size > MAX_ENTRIES) this.cache.clear();
    const facts = this.read(cluster, namespace);
    this.cache.set(key, { at: now, facts });
    facts.catch(() => this.cache.delete(key));
    return facts;
  }

  /**
   * The tenant namespaces of the given teams on a cluster (namespaces whose
   * `kmp.backstage.io/team` label is one of them), read with the registry's
   * credential: a developer may not list namespaces, but may be told which
   * are theirs. Team names that are not valid label values are ignored.
   */
  async listTeamNamespaces(
    cluster: RegisteredCluster,
    teams: readonly string[],
  ): Promise<TenantNamespaceInfo[]> {
    const valid = [...new Set(teams)].filter(t => LABEL_VALUE.test(t));
    if (valid.length === 0) return [];
    const selector = `${KMP_TEAM_LABEL} in (${valid.join(',')})`;
    const { status, body } = await this.get(
      cluster,
      `/api/v1/namespaces?labelSelector=${encodeURIComponent(selector)}`,
    );
    const items = status === 200 ? parseJson(body)?.items : undefined;
    if (!Array.isArray(items)) {
      throw new BrokerError(
        503,
        `the namespaces of cluster '${cluster.name}' could not be read (${status})`,
        { kind: 'namespaces' },
        'namespace lookup failed',
      );
    }
    return items
      .map((ns: any) => ({
        name: String(ns?.metadata?.name ?? ''),
        team: String(ns?.metadata?.labels?.[KMP_TEAM_LABEL] ?? ''),
        ...(ns?.status?.phase ? { phase: String(ns.status.phase) } : {}),
      }))
      .filter(ns => ns.name && valid.includes(ns.team))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private async get(
    cluster: RegisteredCluster,
    pathAndQuery: string,
  ): Promise<{ status: number; body: Buffer }> {
    if (cluster.connectivity !== 'direct' || !cluster.apiServerUrl) {
      throw new BrokerError(
        503,
        `cluster '${cluster.name}' is reached through its ${cluster.connectivity} agent, which the broker does not support yet`,
        { name: cluster.name },
        'agent connectivity not supported',
      );
    }
    const connection = await this.connections.get(
      {
        name: cluster.name,
        revision: cluster.revision,
        apiServerUrl: cluster.apiServerUrl,
      },
      () => this.registry.credentialsOf(cluster.name),
    );
    const { response } = await connection.forward({
      method: 'GET',
      pathAndQuery,
      headers: { accept: 'application/json' },
      longRunning: false,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return { status: response.statusCode ?? 502, body: Buffer.concat(chunks) };
  }

  private async read(
    cluster: RegisteredCluster,
    namespace: string,
  ): Promise<NamespaceFacts> {
    const { status, body } = await this.get(
      cluster,
      `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
    );
    if (status === 404) {
      return { exists: false, system: isSystemNamespace(namespace) };
    }
    const labels: Record<string, string> | undefined =
      status === 200 ? parseJson(body)?.metadata?.labels ?? {} : undefined;
    if (!labels) {
      throw new BrokerError(
        503,
        `the labels of namespace '${namespace}' on cluster '${cluster.name}' could not be read (${status}); KMP cannot tell whose it is`,
        { name: namespace, kind: 'namespaces' },
        'namespace lookup failed',
      );
    }
    const team = labels[KMP_TEAM_LABEL];
    return {
      exists: true,
      ...(team ? { team } : {}),
      system: isSystemNamespace(namespace, labels),
    };
  }
}
