/*
 * Every rule of the shipped bundle, both ways: what it lets through and
 * what it refuses, with the message a user sees. (differential.test.ts
 * proves that a real API server running the rendered policies decides the
 * same on a corpus of 500+ objects.)
 */
import { ephemeralCases } from './__testUtils__/policyCorpus';
import path from 'node:path';
import {
  buildCase,
  compliantMetadata,
  compliantPodSpec,
  CORPUS_NAMESPACES,
  WORKLOAD_KINDS,
  WorkloadKind,
} from './__testUtils__/policyCorpus';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { PolicyEvaluator } from './PolicyEvaluator';

const bundles = PolicyBundleSet.load(path.resolve(__dirname, '../../policies'));
const production = PolicyEvaluator.create(
  bundles.resolve({ environment: 'production' }),
);

function violationsOf(
  mutations: string[],
  options: {
    kind?: WorkloadKind;
    namespace?: string;
    evaluator?: PolicyEvaluator;
  } = {},
) {
  const { object } = buildCase(
    'subject',
    options.kind ?? 'Deployment',
    options.namespace ?? 'team-payments',
    mutations,
  );
  const [result] = (options.evaluator ?? production).evaluate([{ object }], {
    namespaces: CORPUS_NAMESPACES,
  });
  return result.violations.map(v => `${v.ruleId}: ${v.message}`);
}

type Case = [mutations: string[], expected: string[]];

const RULES: Record<string, { allows: string[][]; refuses: Case[] }> = {
  'approved-registries': {
    allows: [
      ['image-k8s-registry'],
      ['image-k8s-registry-digest'],
      ['image-prefix'],
      ['image-wildcard'],
      ['image-wildcard-deep'],
      ['image-team-payments'],
      ['image-team-payments-quay'],
      ['second-container-ok'],
      ['init-container-ok'],
    ],
    refuses: [
      [
        ['image-dockerhub-short'],
        [
          'approved-registries: images from unapproved registries: docker.io/library/nginx:1.27',
        ],
      ],
      [
        ['image-dockerhub-org'],
        [
          'approved-registries: images from unapproved registries: docker.io/bitnami/redis:7.2',
        ],
      ],
      [
        ['image-exact-host-with-port'],
        [
          'approved-registries: images from unapproved registries: registry.kmp.example.com:5000/app:1.0',
        ],
      ],
      [
        ['image-exact-host-subdomain'],
        [
          'approved-registries: images from unapproved registries: eu.registry.kmp.example.com/app:1.0',
        ],
      ],
      [
        ['image-prefix-lookalike'],
        [
          'approved-registries: images from unapproved registries: ghcr.io/kmp-platformx/api:2.1',
        ],
      ],
      [
        ['image-wildcard-bare-domain'],
        [
          'approved-registries: images from unapproved registries: azurecr.io/api:3',
        ],
      ],
      [
        ['image-wildcard-lookalike'],
        [
          'approved-registries: images from unapproved registries: contoso-azurecr.io/api:3',
        ],
      ],
      [
        ['image-wildcard-suffix-trick'],
        [
          'approved-registries: images from unapproved registries: azurecr.io.evil.com/api:3',
        ],
      ],
      [
        ['image-team-retail'],
        [
          'approved-registries: images from unapproved registries: ghcr.io/kmp-retail/pos:9',
        ],
      ],
      [
        ['image-localhost-port'],
        [
          'approved-registries: images from unapproved registries: localhost:5000/app:1',
        ],
      ],
      [
        ['init-container-bad-registry'],
        [
          'approved-registries: images from unapproved registries: docker.io/library/busybox:1.36',
        ],
      ],
      [
        ['second-container-bad-registry'],
        [
          'approved-registries: images from unapproved registries: quay.io/evil/x:1',
        ],
      ],
    ],
  },
  'require-requests-limits': {
    allows: [['extra-resource-keys']],
    refuses: [
      [
        ['no-resources'],
        [
          'require-requests-limits: containers without cpu and memory requests and limits: app',
        ],
      ],
      [
        ['requests-only'],
        [
          'require-requests-limits: containers without cpu and memory requests and limits: app',
        ],
      ],
      [
        ['init-container-no-resources'],
        [
          'require-requests-limits: containers without cpu and memory requests and limits: init',
        ],
      ],
      [
        ['second-container-no-resources'],
        [
          'require-requests-limits: containers without cpu and memory requests and limits: helper',
        ],
      ],
    ],
  },
  'pod-security-privileged': {
    allows: [['privileged-false']],
    refuses: [
      [
        ['init-privileged'],
        [
          'pod-security-privileged: privileged containers: init',
          'pod-security-privilege-escalation: containers must set allowPrivilegeEscalation: false: init',
        ],
      ],
    ],
  },
  'pod-security-host-namespaces': {
    allows: [['host-network-false']],
    refuses: [
      [
        ['host-network'],
        ['pod-security-host-namespaces: hostNetwork is not allowed'],
      ],
      [['host-pid'], ['pod-security-host-namespaces: hostPID is not allowed']],
      [['host-ipc'], ['pod-security-host-namespaces: hostIPC is not allowed']],
    ],
  },
  'pod-security-host-path': {
    allows: [['empty-dir-volume']],
    refuses: [
      [
        ['host-path-volume'],
        ['pod-security-host-path: hostPath volumes are not allowed: host'],
      ],
      [
        ['config-map-and-host-path'],
        ['pod-security-host-path: hostPath volumes are not allowed: logs'],
      ],
    ],
  },
  'pod-security-run-as-non-root': {
    allows: [['run-as-non-root-on-containers-only'], ['run-as-user-1000']],
    refuses: [
      [
        ['run-as-non-root-missing'],
        [
          'pod-security-run-as-non-root: containers may run as root (set runAsNonRoot: true): app',
        ],
      ],
      [
        ['pod-run-as-non-root-false'],
        [
          'pod-security-run-as-non-root: securityContext.runAsNonRoot must not be false',
        ],
      ],
      [
        ['container-run-as-non-root-false'],
        [
          'pod-security-run-as-non-root: containers may run as root (set runAsNonRoot: true): app',
        ],
      ],
      [
        ['pod-run-as-user-root'],
        ['pod-security-run-as-non-root: runAsUser must not be 0'],
      ],
      [
        ['container-run-as-user-root'],
        ['pod-security-run-as-non-root: runAsUser must not be 0'],
      ],
    ],
  },
  'pod-security-capabilities': {
    allows: [['drop-several-with-all'], ['add-net-bind-service']],
    refuses: [
      [
        ['capabilities-missing'],
        [
          'pod-security-capabilities: containers must drop ALL capabilities: app',
        ],
      ],
      [
        ['drop-lowercase-all'],
        [
          'pod-security-capabilities: containers must drop ALL capabilities: app',
        ],
      ],
      [
        ['drop-net-raw-only'],
        [
          'pod-security-capabilities: containers must drop ALL capabilities: app',
        ],
      ],
      [
        ['add-net-admin'],
        [
          'pod-security-capabilities: only these capabilities may be added: NET_BIND_SERVICE',
        ],
      ],
    ],
  },
  'pod-security-privilege-escalation': {
    allows: [[]],
    refuses: [
      [
        ['privilege-escalation-true'],
        [
          'pod-security-privilege-escalation: containers must set allowPrivilegeEscalation: false: app',
        ],
      ],
      [
        ['privilege-escalation-unset'],
        [
          'pod-security-privilege-escalation: containers must set allowPrivilegeEscalation: false: app',
        ],
      ],
    ],
  },
  'pod-security-seccomp': {
    allows: [['seccomp-localhost'], ['seccomp-containers-only']],
    refuses: [
      [
        ['seccomp-missing'],
        [
          'pod-security-seccomp: containers without an allowed seccomp profile (RuntimeDefault, Localhost): app',
        ],
      ],
      [
        ['seccomp-pod-unconfined-containers-default'],
        [
          'pod-security-seccomp: the pod seccomp profile must be one of RuntimeDefault, Localhost',
        ],
      ],
      [
        ['seccomp-container-unconfined'],
        [
          'pod-security-seccomp: containers without an allowed seccomp profile (RuntimeDefault, Localhost): app',
        ],
      ],
    ],
  },
  'required-metadata': {
    allows: [['controller-owned-without-metadata']],
    refuses: [
      [
        ['no-labels'],
        ['required-metadata: missing labels: kmp.backstage.io/team'],
      ],
      [
        ['empty-team-label'],
        ['required-metadata: missing labels: kmp.backstage.io/team'],
      ],
      [
        ['no-owner-annotation'],
        ['required-metadata: missing annotations: kmp.backstage.io/owner'],
      ],
      [
        ['non-controller-owner-without-metadata'],
        [
          'required-metadata: missing annotations: kmp.backstage.io/owner, kmp.backstage.io/cost-centre',
        ],
      ],
    ],
  },
  'no-latest-tag': {
    allows: [
      ['image-k8s-registry-digest'],
      ['image-latest-with-digest'],
      ['image-tag-contains-latest'],
    ],
    refuses: [
      [
        ['image-latest-approved'],
        [
          'no-latest-tag: images must be pinned to a tag other than latest or a digest: registry.kmp.example.com/app:latest',
        ],
      ],
      [
        ['image-registry-port-untagged'],
        [
          'no-latest-tag: images must be pinned to a tag other than latest or a digest: registry.kmp.example.com/app',
        ],
      ],
    ],
  },
};

describe('the baseline rules (production)', () => {
  it('covers every rule of the production bundle', () => {
    expect(Object.keys(RULES).sort()).toEqual(
      production.bundle.rules.map(r => r.id).sort(),
    );
  });

  it.each(WORKLOAD_KINDS)('admits a compliant %s', kind => {
    expect(violationsOf([], { kind })).toEqual([]);
  });

  for (const [rule, { allows, refuses }] of Object.entries(RULES)) {
    describe(`${rule}`, () => {
      it.each(allows.map(m => [m.join(' + ') || 'compliant', m]))(
        'allows %s',
        (_name, mutations) => {
          expect(violationsOf(mutations as string[])).toEqual([]);
        },
      );
      it.each(refuses.map(([m, e]) => [m.join(' + '), m, e]))(
        'refuses %s',
        (_name, mutations, expected) => {
          // the same in every workload kind: pod spec paths differ per kind
          for (const kind of WORKLOAD_KINDS) {
            expect({
              kind,
              violations: violationsOf(mutations as string[], { kind }),
            }).toEqual({ kind, violations: expected });
          }
        },
      );
    });
  }

  it('lets Pods rely on requests defaulted from limits, unlike templates', () => {
    expect(violationsOf(['limits-only'], { kind: 'Pod' })).toEqual([]);
    for (const kind of WORKLOAD_KINDS.filter(k => k !== 'Pod')) {
      expect(violationsOf(['limits-only'], { kind })).toEqual([
        'require-requests-limits: containers without cpu and memory requests and limits: app',
      ]);
    }
  });

  it('uses the team registries of the namespace only', () => {
    expect(
      violationsOf(['image-team-retail'], { namespace: 'team-retail' }),
    ).toEqual([]);
    expect(
      violationsOf(['image-team-payments'], { namespace: 'team-none' }),
    ).toEqual([
      'approved-registries: images from unapproved registries: ghcr.io/kmp-payments/ledger:5.0',
    ]);
  });

  it('skips excluded namespaces', () => {
    expect(
      violationsOf(['privileged', 'host-network', 'no-labels'], {
        namespace: 'kyverno',
      }),
    ).toEqual([]);
  });

  it('checks ephemeral containers added to a Pod', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...compliantMetadata(),
        name: 'p',
        namespace: 'team-payments',
      },
      spec: compliantPodSpec(),
    };
    const messages = ephemeralCases().map(e => {
      const [result] = production.evaluate(
        [
          {
            operation: 'UPDATE',
            oldObject: pod,
            object: {
              ...pod,
              spec: { ...pod.spec, ephemeralContainers: [e.container] },
            },
          },
        ],
        { namespaces: CORPUS_NAMESPACES },
      );
      return [e.name, result.violations.map(v => v.ruleId)];
    });
    expect(Object.fromEntries(messages)).toEqual({
      'eph-ok': [],
      'eph-bad-registry': ['approved-registries'],
      'eph-latest': ['no-latest-tag'],
      'eph-privileged': [
        'pod-security-privileged',
        'pod-security-privilege-escalation',
      ],
      'eph-no-drop': ['pod-security-capabilities'],
      'eph-escalation': ['pod-security-privilege-escalation'],
      'eph-root': ['pod-security-run-as-non-root'],
      'eph-not-non-root': ['pod-security-run-as-non-root'],
      'eph-unconfined': ['pod-security-seccomp'],
      'eph-add-sys-time': ['pod-security-capabilities'],
    });
  });
});

describe('environment and group differences', () => {
  it('warns in non-production and allows sandbox registries there', () => {
    const nonProd = PolicyEvaluator.create(
      bundles.resolve({ environment: 'non-production' }),
    );
    const { object } = buildCase('x', 'Deployment', 'team-none', [
      'image-dockerhub-explicit',
      'host-network',
    ]);
    const [result] = nonProd.evaluate([{ object }], {
      namespaces: CORPUS_NAMESPACES,
    });
    expect(result.allowed).toBe(true);
    expect(result.violations.map(v => [v.ruleId, v.enforcement])).toEqual([
      ['pod-security-host-namespaces', 'Warn'],
    ]);
  });

  it('requires read-only root filesystems and the PCI annotation in payments-prod', () => {
    const payments = PolicyEvaluator.create(
      bundles.resolve({
        environment: 'production',
        environmentGroup: 'payments-prod',
      }),
    );
    expect(violationsOf([], { evaluator: payments })).toEqual([
      'required-metadata: missing annotations: payments.kmp.example.com/pci-scope',
      'read-only-root-filesystem: containers must set readOnlyRootFilesystem: true: app',
    ]);
  });
});
