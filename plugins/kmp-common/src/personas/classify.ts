import { KmpAction } from './actions';

/**
 * What the broker knows about a Kubernetes request, parsed the way the API
 * server's RequestInfoFactory does it.
 *
 * @public
 */
export interface KubeRequestFacts {
  /** False for /version, /api, /apis, /openapi and health paths. */
  isResourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection, proxy. */
  verb: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

const INTERACTIVE = new Set(['exec', 'attach', 'portforward']);
const READ_VERBS = new Set(['get', 'list', 'watch']);
const REVIEWS = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);
/** Workloads whose restart and replica count are operational actions. */
const WORKLOADS = new Set([
  'apps/deployments',
  'apps/statefulsets',
  'apps/daemonsets',
  'apps/replicasets',
]);
const SCALABLE = new Set([
  'apps/deployments',
  'apps/statefulsets',
  'apps/replicasets',
  '/replicationcontrollers',
]);

const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/**
 * Whether a request only discovers the API or asks about the caller
 * (`kubectl api-resources`, `kubectl auth can-i`): no cluster data, so no
 * namespace scope applies.
 *
 * @public
 */
export function isDiscoveryRequest(info: KubeRequestFacts): boolean {
  if (!info.isResourceRequest) return true;
  return (
    info.verb === 'create' &&
    !info.subresource &&
    REVIEWS.has(`${info.apiGroup ?? ''}/${info.resource}`)
  );
}

/** Leaf paths of a merge or strategic-merge patch, directives ignored. */
function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return [prefix];
  }
  const entries = Object.entries(value).filter(([k]) => !k.startsWith('$'));
  if (entries.length === 0) return [prefix];
  return entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

const same = (a: string[], b: string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

const REPLICAS = ['spec', 'replicas'];
const RESTART = ['spec', 'template', 'metadata', 'annotations', RESTARTED_AT];

/**
 * What a patch of a workload does, when that is all it does: change the
 * replica count (`kubectl scale` without the scale subresource) or stamp
 * the restart annotation (`kubectl rollout restart`).
 */
function patchAction(patch: unknown): 'scale' | 'restart' | undefined {
  let paths: string[][];
  if (Array.isArray(patch)) {
    // JSON patch: only add/replace operations on the two paths count.
    paths = [];
    for (const op of patch) {
      const o = op as { op?: unknown; path?: unknown; value?: unknown };
      if (
        (o?.op !== 'replace' && o?.op !== 'add') ||
        typeof o.path !== 'string'
      ) {
        return undefined;
      }
      const path = o.path
        .split('/')
        .slice(1)
        .map(s => s.replace(/~1/g, '/').replace(/~0/g, '~'));
      paths.push(...leafPaths(o.value, path));
    }
  } else if (patch && typeof patch === 'object') {
    paths = leafPaths(patch);
  } else {
    return undefined;
  }
  if (paths.length === 0) return undefined;
  if (paths.every(p => same(p, REPLICAS))) return 'scale';
  if (paths.every(p => same(p, RESTART))) return 'restart';
  return undefined;
}

/**
 * Classifies a Kubernetes request into the action of the persona matrix:
 * pods/exec, attach, port-forward, pod and service proxies and ephemeral
 * containers → exec; pods/log → logs; reading Secrets → read-secrets; the
 * scale subresource or a patch of only the replica count → scale; a patch
 * of only the restart annotation → restart; deleting or evicting a pod →
 * delete-pod; creating a namespace → create-namespace; other reads → read;
 * every other write → write. `patch` is the parsed body of a PATCH, when
 * known; without it a patch is a write.
 *
 * @public
 */
export function classifyKubeRequest(
  info: KubeRequestFacts,
  patch?: unknown,
): KmpAction {
  if (!info.isResourceRequest) {
    return info.verb === 'get' || info.verb === 'head' ? 'read' : 'write';
  }
  const group = info.apiGroup ?? '';
  const resource = info.resource ?? '';
  const sub = info.subresource;
  const core = group === '';

  if (sub && INTERACTIVE.has(sub)) return 'exec';
  if (core && resource === 'pods' && sub === 'ephemeralcontainers') {
    return READ_VERBS.has(info.verb) ? 'read' : 'exec';
  }
  if (sub === 'proxy' || info.verb === 'proxy') {
    // Into a workload: as good as exec. Into a node's kubelet: cluster admin.
    return core && (resource === 'pods' || resource === 'services')
      ? 'exec'
      : 'write';
  }
  if (core && resource === 'pods' && sub === 'log') return 'logs';
  if (isDiscoveryRequest(info)) return 'read';

  if (READ_VERBS.has(info.verb)) {
    return core && resource === 'secrets' && !sub ? 'read-secrets' : 'read';
  }

  if (
    sub === 'scale' &&
    SCALABLE.has(`${group}/${resource}`) &&
    (info.verb === 'patch' || info.verb === 'update')
  ) {
    return 'scale';
  }
  if (core && resource === 'pods') {
    if (info.verb === 'delete' && !sub) return 'delete-pod';
    if (info.verb === 'create' && sub === 'eviction') return 'delete-pod';
  }
  if (core && resource === 'namespaces' && info.verb === 'create' && !sub) {
    return 'create-namespace';
  }
  if (
    info.verb === 'patch' &&
    !sub &&
    WORKLOADS.has(`${group}/${resource}`) &&
    patch !== undefined
  ) {
    const action = patchAction(patch);
    if (action === 'restart') return 'restart';
    if (action === 'scale' && resource !== 'daemonsets') return 'scale';
  }
  return 'write';
}

/**
 * Whether the action of a request may depend on its body: a patch of a
 * workload may be a restart or a scale.
 *
 * @public
 */
export function actionDependsOnBody(info: KubeRequestFacts): boolean {
  return (
    info.isResourceRequest &&
    info.verb === 'patch' &&
    !info.subresource &&
    WORKLOADS.has(`${info.apiGroup ?? ''}/${info.resource ?? ''}`)
  );
}
