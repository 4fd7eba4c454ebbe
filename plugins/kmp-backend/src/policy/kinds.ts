/**
 * The kinds policy rules can match, with the resource names the renderers
 * need and where each kind keeps its pod spec.
 */
export interface KnownKind {
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespaced: boolean;
  /** Dotted path of the pod spec, for workload kinds. */
  podSpecPath?: string;
}

const KINDS: KnownKind[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    resource: 'pods',
    namespaced: true,
    podSpecPath: 'spec',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    resource: 'deployments',
    namespaced: true,
    podSpecPath: 'spec.template.spec',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'StatefulSet',
    resource: 'statefulsets',
    namespaced: true,
    podSpecPath: 'spec.template.spec',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'DaemonSet',
    resource: 'daemonsets',
    namespaced: true,
    podSpecPath: 'spec.template.spec',
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    resource: 'replicasets',
    namespaced: true,
    podSpecPath: 'spec.template.spec',
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    resource: 'jobs',
    namespaced: true,
    podSpecPath: 'spec.template.spec',
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'CronJob',
    resource: 'cronjobs',
    namespaced: true,
    podSpecPath: 'spec.jobTemplate.spec.template.spec',
  },
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    resource: 'namespaces',
    namespaced: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    resource: 'services',
    namespaced: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    resource: 'configmaps',
    namespaced: true,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    kind: 'Ingress',
    resource: 'ingresses',
    namespaced: true,
  },
];

const byGroupKind = new Map(KINDS.map(k => [`${k.group}/${k.kind}`, k]));

/** The known kind of an API group and kind, if KMP knows it. */
export function knownKind(group: string, kind: string): KnownKind | undefined {
  return byGroupKind.get(`${group}/${kind}`);
}

/** Splits an apiVersion into group and version (`v1` is the core group). */
export function splitApiVersion(apiVersion: string): {
  group: string;
  version: string;
} {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : {
        group: apiVersion.slice(0, slash),
        version: apiVersion.slice(slash + 1),
      };
}

/** Workload kinds whose live objects the compliance scan lists. */
export const SCANNED_KINDS = KINDS.filter(k => k.podSpecPath);

/** Every kind KMP knows. */
export const KNOWN_KINDS: readonly KnownKind[] = KINDS;
