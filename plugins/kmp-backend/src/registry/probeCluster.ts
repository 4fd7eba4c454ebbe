import {
  classifyArgoApplication,
  classifyFluxObject,
  ClusterGitOpsObject,
  ClusterGitOpsStatus,
  ClusterNodeProblems,
  ClusterTenant,
  GitOpsClassification,
  GitOpsObject,
  KMP_TEAM_LABEL,
  NodePressureCondition,
} from '@kmp/plugin-kmp-common';
import { ProbeResult } from './ClusterStore';
import { ClusterClient, ClusterRequestError } from './ClusterClient';

type VersionInfo = { gitVersion?: string; platform?: string };
type NodeList = {
  items: Array<{
    metadata?: { name?: string };
    status?: { conditions?: Array<{ type: string; status: string }> };
    spec?: { providerID?: string; unschedulable?: boolean };
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

type NamespaceList = {
  items: Array<{
    metadata?: { name?: string; labels?: Record<string, string> };
  }>;
  metadata?: { continue?: string };
};

/**
 * Lists the items of a paged Kubernetes list, at most 100 pages of 500;
 * `complete` tells whether that was all of them.
 */
async function listAll<T>(
  client: Pick<ClusterClient, 'getJson'>,
  path: string,
  deadline: number,
): Promise<{ items: T[]; complete: boolean }> {
  const items: T[] = [];
  const separator = path.includes('?') ? '&' : '?';
  let next: string | undefined = '';
  for (let page = 0; next !== undefined && page < 100; page++) {
    const list: { items: T[]; metadata?: { continue?: string } } =
      await client.getJson(
        `${path}${separator}limit=500${
          next ? `&continue=${encodeURIComponent(next)}` : ''
        }`,
        deadline,
      );
    items.push(...list.items);
    next = list.metadata?.continue || undefined;
  }
  return { items, complete: next === undefined };
}

/**
 * The tenant namespaces of a cluster (labelled with a team), or undefined
 * when they could not all be listed (the registry's credential may not
 * list namespaces, or there are more than the pages allow): the health
 * probe does not fail for it, and the last observation stays.
 */
async function tenantsOf(
  client: Pick<ClusterClient, 'getJson'>,
  deadline: number,
): Promise<ClusterTenant[] | undefined> {
  let list: { items: NamespaceList['items']; complete: boolean };
  try {
    list = await listAll<NamespaceList['items'][number]>(
      client,
      `/api/v1/namespaces?labelSelector=${encodeURIComponent(KMP_TEAM_LABEL)}`,
      deadline,
    );
  } catch {
    return undefined;
  }
  if (!list.complete) return undefined;
  return list.items
    .map(n => ({
      namespace: n.metadata?.name ?? '',
      team: n.metadata?.labels?.[KMP_TEAM_LABEL] ?? '',
    }))
    .filter(t => t.namespace && t.team)
    .sort((a, b) => a.namespace.localeCompare(b.namespace));
}

/** The GitOps kinds the refresh loop summarises, listed across namespaces. */
export const GITOPS_SOURCES: ReadonlyArray<{
  engine: ClusterGitOpsObject['engine'];
  kind: string;
  path: string;
  classify: (o: GitOpsObject) => GitOpsClassification;
}> = [
  {
    engine: 'flux',
    kind: 'Kustomization',
    path: '/apis/kustomize.toolkit.fluxcd.io/v1/kustomizations',
    classify: classifyFluxObject,
  },
  {
    engine: 'flux',
    kind: 'HelmRelease',
    path: '/apis/helm.toolkit.fluxcd.io/v2/helmreleases',
    classify: classifyFluxObject,
  },
  {
    engine: 'argocd',
    kind: 'Application',
    path: '/apis/argoproj.io/v1alpha1/applications',
    classify: classifyArgoApplication,
  },
];

/** At most this many failing (and out-of-sync) objects are kept per cluster. */
const GITOPS_LIST_LIMIT = 50;
const GITOPS_MESSAGE_LIMIT = 300;

const clip = (text: string | undefined, limit: number) =>
  text === undefined || text.length <= limit
    ? text
    : `${text.slice(0, limit - 1)}…`;

/**
 * The GitOps state of a cluster: its Flux Kustomizations and HelmReleases
 * and Argo CD Applications, with those failing or out of sync. A kind
 * whose API is not served (404: the engine is not installed) counts as
 * none; when any kind cannot be listed completely (refused, timed out,
 * too many pages) the state is unknown (undefined): the health probe does
 * not fail for it, and the last observation stays.
 */
async function gitopsOf(
  client: Pick<ClusterClient, 'getJson'>,
  deadline: number,
): Promise<ClusterGitOpsStatus | undefined> {
  let lists: Array<{
    source: (typeof GITOPS_SOURCES)[number];
    items: GitOpsObject[];
  }>;
  try {
    lists = await Promise.all(
      GITOPS_SOURCES.map(async source => {
        try {
          const list = await listAll<GitOpsObject>(
            client,
            source.path,
            deadline,
          );
          if (!list.complete) throw new Error(`${source.path}: incomplete`);
          return { source, items: list.items };
        } catch (error) {
          if (
            error instanceof ClusterRequestError &&
            error.statusCode === 404
          ) {
            return { source, items: [] };
          }
          throw error;
        }
      }),
    );
  } catch {
    return undefined;
  }
  const failing: ClusterGitOpsObject[] = [];
  const outOfSync: ClusterGitOpsObject[] = [];
  let objects = 0;
  for (const { source, items } of lists) {
    for (const item of items) {
      objects++;
      const c = source.classify(item);
      if (c.state !== 'failed' && c.state !== 'out-of-sync') continue;
      const entry: ClusterGitOpsObject = {
        engine: source.engine,
        kind: source.kind,
        namespace: item.metadata?.namespace ?? '',
        name: item.metadata?.name ?? '',
        state: c.state,
        ...(c.reason ? { reason: clip(c.reason, GITOPS_MESSAGE_LIMIT) } : {}),
        ...(c.message
          ? { message: clip(c.message, GITOPS_MESSAGE_LIMIT) }
          : {}),
        ...(c.since ? { since: c.since } : {}),
      };
      if (!entry.name) continue;
      (c.state === 'failed' ? failing : outOfSync).push(entry);
    }
  }
  const order = (a: ClusterGitOpsObject, b: ClusterGitOpsObject) =>
    a.kind.localeCompare(b.kind) ||
    a.namespace.localeCompare(b.namespace) ||
    a.name.localeCompare(b.name);
  failing.sort(order);
  outOfSync.sort(order);
  return {
    objects,
    failingCount: failing.length,
    outOfSyncCount: outOfSync.length,
    failing: failing.slice(0, GITOPS_LIST_LIMIT),
    outOfSync: outOfSync.slice(0, GITOPS_LIST_LIMIT),
  };
}

/** At most this many nodes are named per problem. */
const NODE_LIST_LIMIT = 50;

const PRESSURE_CONDITIONS: readonly NodePressureCondition[] = [
  'MemoryPressure',
  'DiskPressure',
  'PIDPressure',
];

/**
 * The node problems of a cluster, from its node list: nodes under memory,
 * disk or PID pressure, cordoned nodes and nodes whose network (CNI) is not
 * set up. Empty lists when all is well.
 */
export function nodeProblemsOf(
  nodes: NodeList['items'],
): Omit<ClusterNodeProblems, 'checkedAt'> {
  const pressure: ClusterNodeProblems['pressure'] = [];
  const unschedulable: string[] = [];
  const networkUnavailable: string[] = [];
  for (const node of nodes) {
    const name = node.metadata?.name;
    if (!name) continue;
    const holds = (type: string) =>
      node.status?.conditions?.some(
        c => c.type === type && c.status === 'True',
      ) ?? false;
    const conditions = PRESSURE_CONDITIONS.filter(holds);
    if (conditions.length > 0) pressure.push({ node: name, conditions });
    if (node.spec?.unschedulable === true) unschedulable.push(name);
    if (holds('NetworkUnavailable')) networkUnavailable.push(name);
  }
  pressure.sort((a, b) => a.node.localeCompare(b.node));
  unschedulable.sort((a, b) => a.localeCompare(b));
  networkUnavailable.sort((a, b) => a.localeCompare(b));
  return {
    pressure: pressure.slice(0, NODE_LIST_LIMIT),
    pressureCount: pressure.length,
    unschedulable: unschedulable.slice(0, NODE_LIST_LIMIT),
    unschedulableCount: unschedulable.length,
    networkUnavailable: networkUnavailable.slice(0, NODE_LIST_LIMIT),
    networkUnavailableCount: networkUnavailable.length,
  };
}

/**
 * One refresh of one cluster: version, control-plane readiness, node count
 * and readiness, node problems (pressure, cordons, network), its tenant
 * namespaces and its GitOps state, all within
 * `timeoutMs`.
 */
export async function probeCluster(
  client: Pick<ClusterClient, 'get' | 'getJson'>,
  timeoutMs: number,
): Promise<ProbeResult> {
  const deadline = Date.now() + timeoutMs;
  try {
    const [version, readyz, nodes, tenants, gitops] = await Promise.all([
      client.getJson<VersionInfo>('/version', deadline),
      client.get('/readyz', deadline),
      // Far-edge estates are small, data centres are not: paged.
      listAll<NodeList['items'][number]>(
        client,
        '/api/v1/nodes',
        deadline,
      ).then(list => list.items),
      tenantsOf(client, deadline),
      gitopsOf(client, deadline),
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
      ...(readyz.servingCertificate
        ? { servingCertificate: readyz.servingCertificate }
        : {}),
      nodeProblems: nodeProblemsOf(nodes),
      ...(tenants ? { tenants } : {}),
      ...(gitops ? { gitops } : {}),
    };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
