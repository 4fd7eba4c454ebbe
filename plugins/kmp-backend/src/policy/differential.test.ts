/*
 * The same decision in two places: the in-process evaluator and a real
 * kube-apiserver running the rendered ValidatingAdmissionPolicies must
 * agree on every object of a corpus of more than 500 (compliant ones and
 * edge cases of every rule), on admit/deny and on the violations
 * themselves. Any disagreement is a bug in one of them.
 */
import { useTestbed } from '@kmp/kube-testbed';
import {
  EffectivePolicyBundle,
  PolicyEvaluationResult,
} from '@kmp/plugin-kmp-common';
import path from 'node:path';
import {
  buildCase,
  compliantMetadata,
  compliantPodSpec,
  CORPUS_NAMESPACES,
  CorpusCase,
  ephemeralCases,
  policyCorpus,
} from './__testUtils__/policyCorpus';
import {
  ClusterDecision,
  dryRunCreate,
  decisionOf,
  eventually,
  mapLimit,
  warningDifferences,
} from './__testUtils__/admission';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { KubeClient } from './cluster/KubeClient';
import { applyPolicyObjects } from './distribution/PolicyDistributor';
import { AdmissionItem, PolicyEvaluator } from './PolicyEvaluator';
import { renderValidatingAdmissionPolicies } from './render/renderPolicies';

jest.setTimeout(15 * 60_000);

const BUNDLE_DIR = path.resolve(__dirname, '../../policies');

/** One probe that breaks every rule of the production bundle at once. */
const PROBE = buildCase('probe-all-rules', 'Pod', 'team-none', [
  'image-dockerhub-untagged',
  'no-resources',
  'privileged',
  'host-network',
  'host-path-volume',
  'pod-run-as-user-root',
  'capabilities-missing',
  'seccomp-missing',
  'no-labels',
]);

interface Subject {
  name: string;
  description: string;
  item: AdmissionItem;
  submit: () => Promise<ClusterDecision>;
}

describe('in-process evaluator and ValidatingAdmissionPolicy agree', () => {
  const testbed = useTestbed({ clusters: ['policy-diff'] });
  let client: KubeClient;
  let production: EffectivePolicyBundle;
  let warnOnly: EffectivePolicyBundle;
  const subjects: Subject[] = [];

  beforeAll(async () => {
    const cluster = testbed().cluster('policy-diff');
    client = KubeClient.create({
      server: cluster.server,
      credentials: {
        token: cluster.token,
        certificateAuthority: cluster.caPem,
      },
    });
    for (const [name, labels] of Object.entries(CORPUS_NAMESPACES)) {
      await client.json('POST', '/api/v1/namespaces', {
        metadata: { name, labels },
      });
    }

    production = PolicyBundleSet.load(BUNDLE_DIR).resolve({
      environment: 'production',
    });
    // The same policies with every binding on Warn: the cluster then admits
    // and reports every failed validation, which makes the messages
    // comparable one by one.
    warnOnly = {
      ...production,
      rules: production.rules.map(r => ({ ...r, enforcement: 'Warn' })),
    };

    // A running Pod to attach ephemeral containers to (created before the
    // policies exist; it is compliant anyway).
    const podSpec = compliantPodSpec();
    const target = await client.json(
      'POST',
      '/api/v1/namespaces/team-payments/pods',
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...compliantMetadata(), name: 'debug-target' },
        spec: podSpec,
      },
    );

    const kube = client;
    const corpus: CorpusCase[] = policyCorpus();
    for (const c of corpus) {
      subjects.push({
        name: c.name,
        description: c.description,
        item: { object: c.object },
        submit: () => dryRunCreate(kube, c.object),
      });
    }
    for (const e of ephemeralCases()) {
      const updated = {
        ...target,
        spec: { ...target.spec, ephemeralContainers: [e.container] },
      };
      subjects.push({
        name: e.name,
        description: `ephemeral container: ${e.description}`,
        item: { operation: 'UPDATE', object: updated, oldObject: target },
        submit: async () =>
          decisionOf(
            await kube.request(
              'PUT',
              '/api/v1/namespaces/team-payments/pods/debug-target/ephemeralcontainers?dryRun=All',
              updated,
            ),
          ),
      });
    }
  });

  afterAll(() => client?.close());

  const evaluate = (bundle: EffectivePolicyBundle) =>
    PolicyEvaluator.create(bundle).evaluate(
      subjects.map(s => s.item),
      { namespaces: CORPUS_NAMESPACES },
    );

  it('uses a corpus of more than 500 objects covering every rule both ways', () => {
    expect(subjects.length).toBeGreaterThanOrEqual(500);
    const results = evaluate(production);
    for (const rule of production.rules) {
      const violating = results.filter(r =>
        r.violations.some(v => v.ruleId === rule.id),
      );
      expect({ rule: rule.id, violating: violating.length >= 10 }).toEqual({
        rule: rule.id,
        violating: true,
      });
    }
    const allowed = results.filter(r => r.allowed).length;
    expect(allowed).toBeGreaterThan(40);
    expect(results.every(r => !r.error)).toBe(true);
  });

  it('reports the same violations, message for message (bindings on Warn)', async () => {
    await applyPolicyObjects(
      client,
      renderValidatingAdmissionPolicies(warnOnly),
    );
    await eventually('every policy warning on the probe', async () => {
      const d = await dryRunCreate(client, PROBE.object);
      const rules = new Set(d.warnings.map(w => w.ruleId));
      return d.admitted && warnOnly.rules.every(r => rules.has(r.id));
    });

    const results = evaluate(warnOnly);
    const decisions = await mapLimit(subjects, 4, s => s.submit());
    const problems: string[] = [];
    subjects.forEach((s, i) => {
      const d = decisions[i];
      const r: PolicyEvaluationResult = results[i];
      if (d.unexpected) {
        problems.push(
          `${s.name} (${s.description}): refused for another reason: ${d.unexpected}`,
        );
        return;
      }
      if (!d.admitted) {
        problems.push(
          `${s.name} (${s.description}): denied although bindings only warn`,
        );
      }
      const diff = warningDifferences(d, r);
      if (diff.length) {
        problems.push(
          `${s.name} (${s.description}):\n    ${diff.join('\n    ')}`,
        );
      }
    });
    expect(problems).toEqual([]);
  });

  it('admits and denies exactly the same objects (bindings on Deny)', async () => {
    await applyPolicyObjects(
      client,
      renderValidatingAdmissionPolicies(production),
    );
    await eventually('every binding denying', async () => {
      const d = await dryRunCreate(client, PROBE.object);
      return !d.admitted && !d.unexpected && d.warnings.length === 0;
    });

    const results = evaluate(production);
    const decisions = await mapLimit(subjects, 4, s => s.submit());
    const problems: string[] = [];
    let admitted = 0;
    subjects.forEach((s, i) => {
      const d = decisions[i];
      const r = results[i];
      if (d.unexpected) {
        problems.push(`${s.name}: refused for another reason: ${d.unexpected}`);
        return;
      }
      if (d.admitted !== r.allowed) {
        problems.push(
          `${s.name} (${s.description}): cluster ${
            d.admitted ? 'admitted' : `denied (${d.deniedBy}: ${d.message})`
          }, in-process ${
            r.allowed
              ? 'allowed'
              : `denied (${r.violations.map(v => v.ruleId).join(', ')})`
          }`,
        );
        return;
      }
      if (d.admitted) {
        admitted++;
        return;
      }
      // The API server names the first denying policy; it must be one of
      // the in-process denials, with the same message.
      const same = r.violations.filter(v => v.ruleId === d.deniedBy);
      const message = d.message!.replace(`[${d.deniedBy}] `, '');
      if (
        same.length === 0 ||
        !same.some(v => v.error || v.message === message)
      ) {
        problems.push(
          `${s.name}: cluster denied with ${d.deniedBy}: ${
            d.message
          }; in-process: ${JSON.stringify(
            r.violations.map(v => [v.ruleId, v.message]),
          )}`,
        );
      }
    });
    expect(problems).toEqual([]);
    // both outcomes are well represented
    expect(admitted).toBeGreaterThan(40);
    expect(subjects.length - admitted).toBeGreaterThan(300);
  });
});
