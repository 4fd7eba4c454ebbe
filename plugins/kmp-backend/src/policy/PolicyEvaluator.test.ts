/*
 * The evaluator's shortcuts (lazy variables, per-namespace variables,
 * messages only for failures, state reused from object to object) must
 * not change a decision or a message. The first test compares it, on the
 * whole corpus and every bundle, with a plain evaluation that computes
 * every variable and every message of every object from scratch; the
 * others pin the edge cases of the shortcuts.
 */
import {
  EffectivePolicyBundle,
  EffectivePolicyRule,
  PolicyEvaluationResult,
} from '@kmp/plugin-kmp-common';
import path from 'node:path';
import {
  CORPUS_NAMESPACES,
  ephemeralCases,
  policyCorpus,
} from './__testUtils__/policyCorpus';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { compileCel } from './cel/celEnvironment';
import { PolicyEvaluator } from './PolicyEvaluator';

const bundles = PolicyBundleSet.load(path.resolve(__dirname, '../../policies'));

type Outcome = { ok: true; value: unknown } | { ok: false };

function run(expression: string, context: Record<string, unknown>): Outcome {
  try {
    return { ok: true, value: compileCel(expression)(context) };
  } catch {
    return { ok: false };
  }
}

/**
 * The straightforward evaluation of one pod workload in a corpus
 * namespace: every variable computed up front, every messageExpression
 * evaluated whether the validation fails or not. Returns what a user
 * sees: rule, message, and whether the rule could not be evaluated.
 */
function plainEvaluation(
  bundle: EffectivePolicyBundle,
  object: any,
  namespace: string,
  extra: { operation?: string; oldObject?: unknown } = {},
) {
  const labels = {
    ...(CORPUS_NAMESPACES[namespace] ?? {}),
    'kubernetes.io/metadata.name': namespace,
  };
  const [group, version] = object.apiVersion.includes('/')
    ? object.apiVersion.split('/')
    : ['', object.apiVersion];
  const base = {
    object,
    oldObject: extra.oldObject ?? null,
    request: {
      operation: extra.operation ?? 'CREATE',
      name: object.metadata.name,
      namespace,
      kind: { group, version, kind: object.kind },
    },
    namespaceObject: {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: namespace, labels },
    },
  };
  // Variables as a plain map: errors re-thrown at every use.
  const variables: Record<string, unknown> = {};
  const define = (
    name: string,
    expression: string,
    context: Record<string, unknown>,
  ) => {
    const outcome = run(expression, context);
    Object.defineProperty(variables, name, {
      enumerable: true,
      configurable: true,
      get: () => {
        if (!outcome.ok) throw new Error(`variable ${name} failed`);
        return outcome.value;
      },
    });
  };
  for (const v of bundle.variables) {
    define(v.name, v.expression, { ...base, variables });
  }
  const out: string[] = [];
  let allowed = true;
  for (const rule of bundle.rules) {
    if (rule.match.excludedNamespaces.includes(namespace)) continue;
    const params = Object.fromEntries(
      Object.entries(rule.params).map(([k, v]) => [
        k,
        typeof v === 'number' ? BigInt(v) : v,
      ]),
    );
    const context = { ...base, params, variables };
    for (const v of rule.variables) define(v.name, v.expression, context);
    const conditions = rule.match.conditions.map(c =>
      run(c.expression, context),
    );
    if (conditions.some(c => !c.ok)) {
      out.push(`${rule.id} (error)`);
      if (rule.enforcement === 'Deny') allowed = false;
      continue;
    }
    if (conditions.some(c => c.ok && c.value !== true)) continue;
    for (const validation of rule.validations) {
      const result = run(validation.expression, context);
      const message = validation.messageExpression
        ? run(validation.messageExpression, context)
        : { ok: false as const };
      if (result.ok && result.value === true) continue;
      if (rule.enforcement === 'Deny') allowed = false;
      if (!result.ok || result.value !== false) {
        out.push(`${rule.id} (error)`);
        continue;
      }
      const text =
        message.ok && typeof message.value === 'string'
          ? message.value.trimEnd()
          : '';
      out.push(
        `${rule.id}: ${
          text && !text.includes('\n') ? text : validation.message.trim()
        }`,
      );
    }
  }
  return { allowed, violations: out };
}

function seen(result: PolicyEvaluationResult) {
  return {
    allowed: result.allowed,
    violations: result.violations.map(v =>
      v.error ? `${v.ruleId} (error)` : `${v.ruleId}: ${v.message}`,
    ),
  };
}

describe('PolicyEvaluator', () => {
  it.each([
    { environment: 'production' as const },
    { environment: 'production' as const, environmentGroup: 'payments-prod' },
    { environment: 'non-production' as const },
    { environment: 'edge' as const, environmentGroup: 'retail-edge' },
  ])(
    'decides and words every corpus object as a plain evaluation does (%j)',
    target => {
      const bundle = bundles.resolve(target);
      const corpus = policyCorpus();
      // One call for the whole corpus, so objects of different namespaces
      // alternate and share the evaluator's per-namespace values.
      const results = PolicyEvaluator.create(bundle).evaluate(
        corpus.map(c => ({ object: c.object })),
        { namespaces: CORPUS_NAMESPACES },
      );
      expect(corpus.length).toBeGreaterThan(500);
      const differences = corpus.flatMap((c, i) => {
        const expected = plainEvaluation(bundle, c.object, c.namespace);
        const actual = seen(results[i]);
        return JSON.stringify(actual) === JSON.stringify(expected)
          ? []
          : [{ name: c.name, expected, actual }];
      });
      expect(differences).toEqual([]);
      // the comparison is not vacuous
      expect(results.filter(r => r.allowed).length).toBeGreaterThan(20);
      expect(
        results.filter(r => r.violations.some(v => v.message.includes(': ')))
          .length,
      ).toBeGreaterThan(200);
    },
  );

  it('evaluates ephemeral-container updates as a plain evaluation does', () => {
    const bundle = bundles.resolve({ environment: 'production' });
    const target = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'debug-target', namespace: 'team-payments' },
      spec: { containers: [{ name: 'app', image: 'registry.k8s.io/x:1' }] },
    };
    const cases = ephemeralCases();
    const items = cases.map(e => ({
      operation: 'UPDATE' as const,
      oldObject: target,
      object: {
        ...target,
        spec: { ...target.spec, ephemeralContainers: [e.container] },
      },
    }));
    const results = PolicyEvaluator.create(bundle).evaluate(items, {
      namespaces: CORPUS_NAMESPACES,
    });
    items.forEach((item, i) => {
      expect(seen(results[i])).toEqual(
        plainEvaluation(bundle, item.object, 'team-payments', item),
      );
    });
  });

  const rule = (
    overrides: Partial<EffectivePolicyRule> & Pick<EffectivePolicyRule, 'id'>,
  ): EffectivePolicyRule => ({
    description: overrides.id,
    severity: 'high',
    enforcement: 'Deny',
    match: {
      kinds: [{ apiGroups: [''], kinds: ['ConfigMap'] }],
      operations: ['CREATE', 'UPDATE'],
      excludedNamespaces: [],
      conditions: [],
    },
    params: {},
    variables: [],
    validations: [],
    sources: [],
    ...overrides,
  });
  const bundleOf = (
    rules: EffectivePolicyRule[],
    variables: EffectivePolicyBundle['variables'] = [],
  ): EffectivePolicyBundle => ({
    name: 'test',
    version: 'v1',
    environment: 'production',
    overlays: [],
    variables,
    rules,
  });
  const configMap = (name: string, namespace: string, data: unknown = {}) => ({
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace },
      data,
    },
  });
  const messages = (results: PolicyEvaluationResult[]) =>
    results.map(r => r.violations.map(v => v.message));

  it('keeps per-namespace variables apart when namespaces alternate', () => {
    const evaluator = PolicyEvaluator.create(
      bundleOf([
        rule({
          id: 'tier',
          params: { allowed: ['gold'] },
          // reads params and namespaceObject only: one value per namespace
          variables: [
            {
              name: 'tier',
              expression: "namespaceObject.metadata.labels['tier']",
            },
            {
              name: 'tierAllowed',
              expression: 'variables.tier in params.allowed',
            },
          ],
          validations: [
            {
              expression: 'variables.tierAllowed',
              messageExpression:
                "'tier ' + variables.tier + ' of ' + object.metadata.name",
              message: 'tier not allowed',
            },
          ],
        }),
      ]),
    );
    const namespaces = {
      gold: { tier: 'gold' },
      bronze: { tier: 'bronze' },
      none: {},
    };
    const items = ['gold', 'bronze', 'none', 'gold', 'bronze', 'none'].map(
      (ns, i) => configMap(`cm-${i}`, ns),
    );
    expect(messages(evaluator.evaluate(items, { namespaces }))).toEqual([
      [],
      ['tier bronze of cm-1'],
      // the missing label fails the variable, and every use of it
      [expect.stringMatching(/^could not be evaluated: /)],
      [],
      ['tier bronze of cm-4'],
      [expect.stringMatching(/^could not be evaluated: /)],
    ]);
    // the next call sees the namespaces' new labels
    expect(
      messages(
        evaluator.evaluate(items.slice(0, 2), {
          namespaces: { gold: { tier: 'lead' }, bronze: { tier: 'gold' } },
        }),
      ),
    ).toEqual([['tier lead of cm-0'], []]);
  });

  it('computes object variables for each object, also in the same namespace', () => {
    const evaluator = PolicyEvaluator.create(
      bundleOf(
        [
          rule({
            id: 'size',
            variables: [{ name: 'big', expression: 'variables.keys > 1' }],
            validations: [
              {
                expression: '!variables.big',
                messageExpression: "'too many keys: ' + string(variables.keys)",
                message: 'too many keys',
              },
            ],
          }),
        ],
        [{ name: 'keys', expression: 'size(object.data)' }],
      ),
    );
    const results = evaluator.evaluate([
      configMap('a', 'ns', { x: '1', y: '2' }),
      configMap('b', 'ns', { x: '1' }),
      configMap('c', 'ns', { x: '1', y: '2', z: '3' }),
      configMap('d', 'ns', 5),
    ]);
    expect(messages(results)).toEqual([
      ['too many keys: 2'],
      [],
      ['too many keys: 3'],
      [expect.stringMatching(/^could not be evaluated: /)],
    ]);
    expect(results.map(r => r.allowed)).toEqual([false, true, false, false]);
  });

  it('falls back to the static message as the API server does', () => {
    const evaluator = PolicyEvaluator.create(
      bundleOf([
        rule({
          id: 'messages',
          validations: [
            {
              expression: 'false',
              messageExpression: "'computed  '",
              message: 'static one',
            },
            {
              expression: 'false',
              messageExpression: 'object.metadata.missing',
              message: 'static two',
            },
            {
              expression: 'false',
              messageExpression: "'two\\nlines'",
              message: 'static three',
            },
            {
              expression: 'false',
              messageExpression: "'x'.substring(0, 0) + 'y'",
              message: 'static five',
              path: 'data',
            },
            { expression: "'no bool'", message: 'static six' },
            { expression: 'object.nothing', message: 'static seven' },
          ],
        }),
      ]),
    );
    const [result] = evaluator.evaluate([configMap('m', 'ns')]);
    expect(
      result.violations.map(v => [v.message, v.error ?? false, v.path]),
    ).toEqual([
      ['computed', false, undefined],
      ['static two', false, undefined],
      ['static three', false, undefined],
      ['y', false, 'data'],
      ['expression did not evaluate to a bool', true, undefined],
      [expect.stringMatching(/^could not be evaluated: /), true, undefined],
    ]);
  });

  it('decides namespace selectors once per namespace, with the namespace labels', () => {
    const evaluator = PolicyEvaluator.create(
      bundleOf([
        rule({
          id: 'selected',
          match: {
            kinds: [{ apiGroups: [''], kinds: ['ConfigMap'] }],
            operations: ['CREATE'],
            excludedNamespaces: ['skipped'],
            conditions: [],
            namespaceSelector: {
              matchExpressions: [
                { key: 'env', operator: 'In', values: ['prod'] },
              ],
            },
          },
          validations: [{ expression: 'false', message: 'selected' }],
        }),
      ]),
    );
    const results = evaluator.evaluate(
      [
        configMap('a', 'prod-a'),
        configMap('b', 'dev-a'),
        configMap('c', 'prod-a'),
        configMap('d', 'skipped'),
        { ...configMap('e', 'prod-a'), operation: 'UPDATE' as const },
      ],
      {
        namespaces: {
          'prod-a': { env: 'prod' },
          'dev-a': { env: 'dev' },
          skipped: { env: 'prod' },
        },
      },
    );
    expect(messages(results)).toEqual([['selected'], [], ['selected'], [], []]);
  });
});
