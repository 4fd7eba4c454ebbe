/*
 * A deterministic corpus of Kubernetes workloads for the policy tests:
 * compliant objects and objects that break each baseline rule in the ways
 * that matter (init and ephemeral containers, pod- versus container-level
 * security contexts, several containers, every registry pattern form, tag
 * and digest forms), wrapped in every workload kind. Every object is valid
 * for the Kubernetes API, so an API server only refuses one through the
 * policies.
 */

export const TEAM_LABEL = 'kmp.backstage.io/team';

/** Namespaces the corpus uses, with their labels. */
export const CORPUS_NAMESPACES: Record<string, Record<string, string>> = {
  'team-payments': { [TEAM_LABEL]: 'payments' },
  'team-retail': { [TEAM_LABEL]: 'retail' },
  'team-none': {},
  // excluded by the baseline's defaults
  kyverno: {},
};

export const WORKLOAD_KINDS = [
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'Job',
  'CronJob',
] as const;

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

type Json = Record<string, any>;

export interface CorpusCase {
  /** Unique, also the object's name. */
  name: string;
  description: string;
  namespace: string;
  object: Json;
}

const DIGEST = `sha256:${'a1b2c3d4'.repeat(8)}`;

export function compliantContainer(
  name: string,
  image = 'registry.kmp.example.com/shop/app:1.4.2',
): Json {
  return {
    name,
    image,
    resources: {
      requests: { cpu: '100m', memory: '64Mi' },
      limits: { cpu: '500m', memory: '128Mi' },
    },
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  };
}

export function compliantPodSpec(): Json {
  return {
    securityContext: {
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [compliantContainer('app')],
  };
}

export function compliantMetadata(): Json {
  return {
    labels: { [TEAM_LABEL]: 'payments' },
    annotations: {
      'kmp.backstage.io/owner': 'group:default/payments',
      'kmp.backstage.io/cost-centre': 'cc-4711',
    },
  };
}

interface Target {
  spec: Json;
  meta: Json;
  kind: WorkloadKind;
}

interface Mutation {
  name: string;
  /** Kinds the mutation makes sense for (default: all). */
  kinds?: readonly WorkloadKind[];
  apply(target: Target): void;
}

const sc = (c: Json) => (c.securityContext ??= {});
const caps = (c: Json) => (sc(c).capabilities ??= {});
const res = (c: Json) => (c.resources ??= {});
const podSc = (t: Target) => (t.spec.securityContext ??= {});
const labelsOf = (t: Target) => (t.meta.labels ??= {});
const annotationsOf = (t: Target) => (t.meta.annotations ??= {});
const first = (t: Target) => t.spec.containers[0];
const setImage = (image: string) => (t: Target) => {
  first(t).image = image;
};
const addInit = (t: Target, container: Json) => {
  (t.spec.initContainers ??= []).push(container);
};

/** Ways to vary a compliant workload, named after what they do. */
export const MUTATIONS: Mutation[] = [
  // ---- registries (approved-registries, no-latest-tag)
  { name: 'image-dockerhub-short', apply: setImage('nginx:1.27') },
  { name: 'image-dockerhub-untagged', apply: setImage('nginx') },
  { name: 'image-dockerhub-latest', apply: setImage('nginx:latest') },
  { name: 'image-dockerhub-org', apply: setImage('bitnami/redis:7.2') },
  {
    name: 'image-dockerhub-explicit',
    apply: setImage('docker.io/library/busybox:1.36'),
  },
  { name: 'image-k8s-registry', apply: setImage('registry.k8s.io/pause:3.10') },
  {
    name: 'image-k8s-registry-digest',
    apply: setImage(`registry.k8s.io/pause@${DIGEST}`),
  },
  {
    name: 'image-exact-host-with-port',
    apply: setImage('registry.kmp.example.com:5000/app:1.0'),
  },
  {
    name: 'image-exact-host-subdomain',
    apply: setImage('eu.registry.kmp.example.com/app:1.0'),
  },
  { name: 'image-prefix', apply: setImage('ghcr.io/kmp-platform/api:2.1') },
  {
    name: 'image-prefix-lookalike',
    apply: setImage('ghcr.io/kmp-platformx/api:2.1'),
  },
  { name: 'image-prefix-other-org', apply: setImage('ghcr.io/evil/api:2.1') },
  { name: 'image-wildcard', apply: setImage('contoso.azurecr.io/api:3') },
  {
    name: 'image-wildcard-deep',
    apply: setImage(`eu.contoso.azurecr.io/team/api@${DIGEST}`),
  },
  { name: 'image-wildcard-bare-domain', apply: setImage('azurecr.io/api:3') },
  {
    name: 'image-wildcard-lookalike',
    apply: setImage('contoso-azurecr.io/api:3'),
  },
  {
    name: 'image-wildcard-suffix-trick',
    apply: setImage('azurecr.io.evil.com/api:3'),
  },
  {
    name: 'image-team-payments',
    apply: setImage('ghcr.io/kmp-payments/ledger:5.0'),
  },
  { name: 'image-team-payments-quay', apply: setImage('quay.io/payments/x:1') },
  { name: 'image-team-retail', apply: setImage('ghcr.io/kmp-retail/pos:9') },
  { name: 'image-localhost', apply: setImage('localhost/app:1') },
  { name: 'image-localhost-port', apply: setImage('localhost:5000/app:1') },
  {
    name: 'image-registry-port-untagged',
    apply: setImage('registry.kmp.example.com/app'),
  },
  {
    name: 'image-latest-with-digest',
    apply: setImage(`registry.kmp.example.com/app:latest@${DIGEST}`),
  },
  {
    name: 'image-latest-approved',
    apply: setImage('registry.kmp.example.com/app:latest'),
  },
  {
    name: 'image-tag-contains-latest',
    apply: setImage('registry.kmp.example.com/app:latest-2024'),
  },
  {
    name: 'second-container-bad-registry',
    apply: t => {
      t.spec.containers.push(compliantContainer('sidecar', 'quay.io/evil/x:1'));
    },
  },
  {
    name: 'second-container-ok',
    apply: t => {
      t.spec.containers.push(
        compliantContainer('sidecar', 'registry.k8s.io/pause:3.10'),
      );
    },
  },
  {
    name: 'init-container-bad-registry',
    apply: t => addInit(t, compliantContainer('init', 'busybox:1.36')),
  },
  {
    name: 'init-container-ok',
    apply: t =>
      addInit(t, compliantContainer('init', 'registry.k8s.io/pause:3.10')),
  },
  {
    name: 'init-sidecar-latest',
    apply: t =>
      addInit(t, {
        ...compliantContainer('log-shipper', 'ghcr.io/kmp-platform/ship'),
        restartPolicy: 'Always',
      }),
  },

  // ---- resources (require-requests-limits)
  {
    name: 'no-resources',
    apply: t => {
      delete first(t).resources;
    },
  },
  {
    name: 'empty-resources',
    apply: t => {
      first(t).resources = {};
    },
  },
  {
    name: 'limits-only',
    apply: t => {
      delete res(first(t)).requests;
    },
  },
  {
    name: 'requests-only',
    apply: t => {
      delete res(first(t)).limits;
    },
  },
  {
    name: 'cpu-limit-missing',
    apply: t => {
      delete (res(first(t)).limits ??= {}).cpu;
      (res(first(t)).requests ??= {}).cpu = '100m';
    },
  },
  {
    name: 'memory-request-missing',
    apply: t => {
      delete (res(first(t)).requests ??= {}).memory;
    },
  },
  {
    name: 'extra-resource-keys',
    apply: t => {
      (res(first(t)).limits ??= {})['ephemeral-storage'] = '1Gi';
    },
  },
  {
    name: 'init-container-no-resources',
    apply: t => {
      const init = compliantContainer('init', 'registry.k8s.io/pause:3.10');
      delete init.resources;
      addInit(t, init);
    },
  },
  {
    name: 'second-container-no-resources',
    apply: t => {
      const c = compliantContainer('helper', 'registry.k8s.io/pause:3.10');
      delete c.resources;
      t.spec.containers.push(c);
    },
  },

  // ---- privileged
  {
    name: 'privileged',
    apply: t => {
      sc(first(t)).privileged = true;
      sc(first(t)).allowPrivilegeEscalation = true;
    },
  },
  {
    name: 'privileged-false',
    apply: t => {
      sc(first(t)).privileged = false;
    },
  },
  {
    name: 'init-privileged',
    apply: t => {
      const init = compliantContainer('init', 'registry.k8s.io/pause:3.10');
      init.securityContext.privileged = true;
      init.securityContext.allowPrivilegeEscalation = true;
      addInit(t, init);
    },
  },

  // ---- host namespaces and hostPath
  {
    name: 'host-network',
    apply: t => {
      t.spec.hostNetwork = true;
    },
  },
  {
    name: 'host-network-false',
    apply: t => {
      t.spec.hostNetwork = false;
    },
  },
  {
    name: 'host-pid',
    apply: t => {
      t.spec.hostPID = true;
    },
  },
  {
    name: 'host-ipc',
    apply: t => {
      t.spec.hostIPC = true;
    },
  },
  {
    name: 'host-path-volume',
    apply: t => {
      (t.spec.volumes ??= []).push({
        name: 'host',
        hostPath: { path: '/var/run' },
      });
    },
  },
  {
    name: 'empty-dir-volume',
    apply: t => {
      (t.spec.volumes ??= []).push({ name: 'scratch', emptyDir: {} });
    },
  },
  {
    name: 'config-map-and-host-path',
    apply: t => {
      (t.spec.volumes ??= []).push(
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'logs', hostPath: { path: '/var/log' } },
      );
    },
  },

  // ---- run as non-root
  {
    name: 'no-pod-security-context',
    apply: t => {
      delete t.spec.securityContext;
    },
  },
  {
    name: 'run-as-non-root-on-containers-only',
    apply: t => {
      delete podSc(t).runAsNonRoot;
      for (const c of t.spec.containers) sc(c).runAsNonRoot = true;
      for (const c of t.spec.initContainers ?? []) sc(c).runAsNonRoot = true;
    },
  },
  {
    name: 'run-as-non-root-missing',
    apply: t => {
      delete podSc(t).runAsNonRoot;
    },
  },
  {
    name: 'pod-run-as-non-root-false',
    apply: t => {
      podSc(t).runAsNonRoot = false;
      for (const c of t.spec.containers) sc(c).runAsNonRoot = true;
    },
  },
  {
    name: 'container-run-as-non-root-false',
    apply: t => {
      sc(first(t)).runAsNonRoot = false;
    },
  },
  {
    name: 'pod-run-as-user-root',
    apply: t => {
      podSc(t).runAsUser = 0;
    },
  },
  {
    name: 'container-run-as-user-root',
    apply: t => {
      sc(first(t)).runAsUser = 0;
    },
  },
  {
    name: 'run-as-user-1000',
    apply: t => {
      podSc(t).runAsUser = 1000;
      sc(first(t)).runAsUser = 1001;
    },
  },

  // ---- capabilities
  {
    name: 'capabilities-missing',
    apply: t => {
      delete sc(first(t)).capabilities;
    },
  },
  {
    name: 'drop-lowercase-all',
    apply: t => {
      caps(first(t)).drop = ['all'];
    },
  },
  {
    name: 'drop-net-raw-only',
    apply: t => {
      caps(first(t)).drop = ['NET_RAW'];
    },
  },
  {
    name: 'drop-several-with-all',
    apply: t => {
      caps(first(t)).drop = ['NET_RAW', 'ALL'];
    },
  },
  {
    name: 'add-net-bind-service',
    apply: t => {
      caps(first(t)).add = ['NET_BIND_SERVICE'];
    },
  },
  {
    name: 'add-net-admin',
    apply: t => {
      caps(first(t)).add = ['NET_ADMIN'];
    },
  },
  {
    name: 'no-container-security-context',
    apply: t => {
      delete first(t).securityContext;
    },
  },

  // ---- privilege escalation
  {
    name: 'privilege-escalation-true',
    apply: t => {
      sc(first(t)).allowPrivilegeEscalation = true;
    },
  },
  {
    name: 'privilege-escalation-unset',
    apply: t => {
      delete sc(first(t)).allowPrivilegeEscalation;
    },
  },

  // ---- seccomp
  {
    name: 'seccomp-localhost',
    apply: t => {
      podSc(t).seccompProfile = {
        type: 'Localhost',
        localhostProfile: 'profiles/app.json',
      };
    },
  },
  {
    name: 'seccomp-pod-unconfined',
    apply: t => {
      podSc(t).seccompProfile = { type: 'Unconfined' };
    },
  },
  {
    name: 'seccomp-pod-unconfined-containers-default',
    apply: t => {
      podSc(t).seccompProfile = { type: 'Unconfined' };
      for (const c of t.spec.containers) {
        sc(c).seccompProfile = { type: 'RuntimeDefault' };
      }
    },
  },
  {
    name: 'seccomp-containers-only',
    apply: t => {
      delete podSc(t).seccompProfile;
      for (const c of [
        ...t.spec.containers,
        ...(t.spec.initContainers ?? []),
      ]) {
        sc(c).seccompProfile = { type: 'RuntimeDefault' };
      }
    },
  },
  {
    name: 'seccomp-missing',
    apply: t => {
      delete podSc(t).seccompProfile;
    },
  },
  {
    name: 'seccomp-container-unconfined',
    apply: t => {
      sc(first(t)).seccompProfile = { type: 'Unconfined' };
    },
  },

  // ---- metadata (required-metadata)
  {
    name: 'no-labels',
    apply: t => {
      delete t.meta.labels;
    },
  },
  {
    name: 'empty-team-label',
    apply: t => {
      labelsOf(t)[TEAM_LABEL] = '';
    },
  },
  {
    name: 'no-owner-annotation',
    apply: t => {
      delete annotationsOf(t)['kmp.backstage.io/owner'];
    },
  },
  {
    name: 'no-annotations',
    apply: t => {
      delete t.meta.annotations;
    },
  },
  {
    name: 'controller-owned-without-metadata',
    apply: t => {
      delete t.meta.labels;
      delete t.meta.annotations;
      t.meta.ownerReferences = [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'owner',
          uid: '6c1a3e8e-1111-4b9b-9f59-0a0b0c0d0e0f',
          controller: true,
        },
      ];
    },
  },
  {
    name: 'non-controller-owner-without-metadata',
    apply: t => {
      delete t.meta.annotations;
      t.meta.ownerReferences = [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'owner',
          uid: '6c1a3e8e-2222-4b9b-9f59-0a0b0c0d0e0f',
        },
      ];
    },
  },
];

const MUTATION_BY_NAME = new Map(MUTATIONS.map(m => [m.name, m]));

/** Wraps a pod spec into a workload of `kind`. */
export function workload(
  kind: WorkloadKind,
  name: string,
  namespace: string,
  meta: Json,
  podSpec: Json,
): Json {
  const metadata = { ...meta, name, namespace };
  const template = (spec: Json) => ({
    metadata: { labels: { app: name } },
    spec,
  });
  const selector = { matchLabels: { app: name } };
  switch (kind) {
    case 'Pod':
      return { apiVersion: 'v1', kind, metadata, spec: podSpec };
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: { selector, template: template(podSpec) },
      };
    case 'StatefulSet':
      return {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: { selector, serviceName: name, template: template(podSpec) },
      };
    case 'Job':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: { template: template({ ...podSpec, restartPolicy: 'Never' }) },
      };
    case 'CronJob':
      return {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: {
          schedule: '*/5 * * * *',
          jobTemplate: {
            spec: {
              template: template({ ...podSpec, restartPolicy: 'Never' }),
            },
          },
        },
      };
    default:
      throw new Error(`unknown kind ${kind}`);
  }
}

/** Builds one case from mutation names. */
export function buildCase(
  name: string,
  kind: WorkloadKind,
  namespace: string,
  mutations: string[],
): CorpusCase {
  const target: Target = {
    spec: compliantPodSpec(),
    meta: compliantMetadata(),
    kind,
  };
  for (const m of mutations) {
    const mutation = MUTATION_BY_NAME.get(m);
    if (!mutation) throw new Error(`unknown mutation ${m}`);
    mutation.apply(target);
  }
  return {
    name,
    description: `${kind} in ${namespace}: ${
      mutations.join(' + ') || 'compliant'
    }`,
    namespace,
    object: workload(kind, name, namespace, target.meta, target.spec),
  };
}

/** Small seeded PRNG (mulberry32), so the corpus is the same every run. */
function random(seed: number) {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The corpus: every mutation alone in three kinds, every kind compliant in
 * every namespace, and seeded random combinations of up to three
 * mutations; `size` is the number of random combinations.
 */
export function policyCorpus(options: { size?: number; seed?: number } = {}) {
  const cases: CorpusCase[] = [];
  const namespaces = Object.keys(CORPUS_NAMESPACES);
  let n = 0;
  const id = () => `c${String(n++).padStart(4, '0')}`;
  for (const kind of WORKLOAD_KINDS) {
    for (const namespace of namespaces) {
      cases.push(buildCase(id(), kind, namespace, []));
    }
  }
  MUTATIONS.forEach((mutation, i) => {
    for (let k = 0; k < 3; k++) {
      const kind = WORKLOAD_KINDS[(i + k * 3) % WORKLOAD_KINDS.length];
      const namespace = namespaces[(i + k) % 3];
      cases.push(buildCase(id(), kind, namespace, [mutation.name]));
    }
  });
  const next = random(options.seed ?? 20261125);
  for (let i = 0; i < (options.size ?? 260); i++) {
    const kind = WORKLOAD_KINDS[Math.floor(next() * WORKLOAD_KINDS.length)];
    const namespace =
      next() < 0.05
        ? 'kyverno'
        : namespaces[Math.floor(next() * (namespaces.length - 1))];
    const count = Math.floor(next() * 4);
    const chosen = new Set<string>();
    while (chosen.size < count) {
      chosen.add(MUTATIONS[Math.floor(next() * MUTATIONS.length)].name);
    }
    cases.push(buildCase(id(), kind, namespace, [...chosen]));
  }
  return cases;
}

export interface EphemeralCase {
  name: string;
  description: string;
  container: Json;
}

/** Ephemeral (debug) containers to add to a running, compliant Pod. */
export function ephemeralCases(): EphemeralCase[] {
  const base = (image = 'registry.k8s.io/pause:3.10'): Json => ({
    name: 'debugger',
    image,
    securityContext: {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    },
  });
  const with_ = (
    name: string,
    description: string,
    change: (c: Json) => void,
    image?: string,
  ): EphemeralCase => {
    const container = base(image);
    change(container);
    return { name, description, container };
  };
  return [
    with_('eph-ok', 'compliant debug container', () => {}),
    with_(
      'eph-bad-registry',
      'debug image from Docker Hub',
      () => {},
      'busybox:1.36',
    ),
    with_(
      'eph-latest',
      'debug image without tag',
      () => {},
      'registry.k8s.io/pause',
    ),
    with_('eph-privileged', 'privileged debug container', c => {
      c.securityContext = { privileged: true, capabilities: { drop: ['ALL'] } };
    }),
    with_('eph-no-drop', 'debug container keeps capabilities', c => {
      delete c.securityContext.capabilities;
    }),
    with_('eph-escalation', 'debug container may escalate', c => {
      c.securityContext.allowPrivilegeEscalation = true;
    }),
    with_('eph-root', 'debug container as root', c => {
      c.securityContext.runAsUser = 0;
    }),
    with_('eph-not-non-root', 'debug container sets runAsNonRoot false', c => {
      c.securityContext.runAsNonRoot = false;
    }),
    with_('eph-unconfined', 'debug container without seccomp', c => {
      c.securityContext.seccompProfile = { type: 'Unconfined' };
    }),
    with_('eph-add-sys-time', 'debug container adds SYS_TIME', c => {
      c.securityContext.capabilities.add = ['SYS_TIME'];
    }),
  ];
}
