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

  private async read(
    cluster: RegisteredCluster,
    namespace: string,
  ): Promise<NamespaceFacts> {
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
      pathAndQuery: `/api/v1/namespaces/${encodeURIComponent(namespace)}`,
      headers: { accept: 'application/json' },
      longRunning: false,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const status = response.statusCode ?? 502;
    if (status === 404) {
      return { exists: false, system: isSystemNamespace(namespace) };
    }
    let labels: Record<string, string> | undefined;
    try {
      labels =
        status === 200
          ? JSON.parse(Buffer.concat(chunks).toString('utf8'))?.metadata
              ?.labels ?? {}
          : undefined;
    } catch {
      labels = undefined;
    }
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
