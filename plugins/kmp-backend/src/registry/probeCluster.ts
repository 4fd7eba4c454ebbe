import { ProbeResult } from './ClusterStore';
import { ClusterClient } from './ClusterClient';

type VersionInfo = { gitVersion?: string; platform?: string };
type NodeList = {
  items: Array<{
    status?: { conditions?: Array<{ type: string; status: string }> };
    spec?: { providerID?: string };
  }>;
  metadata?: { continue?: string };
};

/**
 * Guesses the distribution from the version string and node provider IDs,
 * the way `kubectl version` output is read by people.
 */
export function distributionHint(
  gitVersion?: string,
  providerIds: string[] = [],
): string | undefined {
  const v = gitVersion ?? '';
  if (/\+k3s/.test(v)) return 'k3s';
  if (/\+rke2/.test(v)) return 'rke2';
  if (/-eks-/.test(v)) return 'eks';
  if (/-gke\./.test(v)) return 'gke';
  if (/\+vmware/.test(v)) return 'tanzu';
  if (/\+\w*openshift|\+rhcos/.test(v)) return 'openshift';
  const provider = providerIds.find(Boolean)?.split(':')[0];
  const byProvider: Record<string, string> = {
    aws: 'eks',
    gce: 'gke',
    azure: 'aks',
    openstack: 'openstack',
    vsphere: 'vsphere',
    kind: 'kind',
  };
  return provider ? byProvider[provider] : undefined;
}

/**
 * One refresh of one cluster: version, control-plane readiness, node count
 * and readiness, all within `timeoutMs`.
 */
export async function probeCluster(
  client: ClusterClient,
  timeoutMs: number,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  try {
    const [version, readyz, nodes] = await Promise.all([
      client.getJson<VersionInfo>('/version', deadline),
      client.get('/readyz', deadline),
      (async () => {
        const items: NodeList['items'] = [];
        let next: string | undefined = '';
        // Page through nodes; far-edge estates are small, data centres are not.
        for (let page = 0; next !== undefined && page < 100; page++) {
          const query = `?limit=500${
            next ? `&continue=${encodeURIComponent(next)}` : ''
          }`;
          const list: NodeList = await client.getJson<NodeList>(
            `/api/v1/nodes${query}`,
            deadline,
          );
          items.push(...list.items);
          next = list.metadata?.continue || undefined;
        }
        return items;
      })(),
    ]);
    const nodesReady = nodes.filter(n =>
      n.status?.conditions?.some(
        c => c.type === 'Ready' && c.status === 'True',
      ),
    ).length;
    return {
      ok: true,
      kubernetesVersion: version.gitVersion,
      distribution: distributionHint(
        version.gitVersion,
        nodes.map(n => n.spec?.providerID ?? ''),
      ),
      nodeCount: nodes.length,
      nodesReady,
      controlPlaneHealthy: readyz.status === 200,
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
