import {
  EffectivePolicyBundle,
  EffectivePolicyRule,
  KMP_ANNOTATIONS,
  KMP_PREFIX,
  LabelSelector,
  PolicyEnforcement,
  PolicyParamValue,
} from '@kmp/plugin-kmp-common';
import { stringify } from 'yaml';
import { analyseCel, compileCel, rewriteParams } from '../cel/celEnvironment';
import { PARAM_VARIABLE_PREFIX } from '../bundle/PolicyBundleSet';
import { knownKind } from '../kinds';

/** A Kubernetes object as rendered (plain JSON). */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'kmp';
export const RULE_LABEL = `${KMP_PREFIX}/policy-rule`;
export const SEVERITY_ANNOTATION = `${KMP_PREFIX}/policy-severity`;
export const BUNDLE_ANNOTATION = `${KMP_PREFIX}/policy-bundle`;

/** Name of the cluster objects of a rule. */
export function policyObjectName(ruleId: string): string {
  return `kmp-${ruleId}`;
}

/** The rule id of a rendered object name, if it is one. */
export function ruleIdOfPolicyName(name: string): string | undefined {
  return name.startsWith('kmp-') ? name.slice(4) : undefined;
}

/** A CEL literal of a parameter value (homogeneous, as Kubernetes wants). */
export function celLiteral(value: PolicyParamValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'boolean' || typeof value === 'number') {
    return String(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map(v => JSON.stringify(v)).join(', ')}]`;
  }
  return `{${Object.entries(value)
    .map(([k, v]) => `${JSON.stringify(k)}: ${celLiteral(v)}`)
    .join(', ')}}`;
}

function labels(bundle: EffectivePolicyBundle, ruleId: string) {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [KMP_ANNOTATIONS.policyBundleVersion]: bundle.version,
    [RULE_LABEL]: ruleId,
  };
}

function annotations(bundle: EffectivePolicyBundle, rule: EffectivePolicyRule) {
  return {
    [BUNDLE_ANNOTATION]: `${bundle.name}@${bundle.version} (${[
      bundle.environment,
      bundle.environmentGroup,
    ]
      .filter(Boolean)
      .join('/')})`,
    [SEVERITY_ANNOTATION]: rule.severity,
    [`${KMP_PREFIX}/policy-description`]: rule.description,
  };
}

/** Every expression of a rule, for reference analysis. */
function ruleExpressions(rule: EffectivePolicyRule): string[] {
  return [
    ...rule.match.conditions.map(c => c.expression),
    ...rule.variables.map(v => v.expression),
    ...rule.validations.flatMap(v => [
      v.expression,
      ...(v.messageExpression ? [v.messageExpression] : []),
    ]),
  ];
}

function referencedVariables(expressions: string[]): Set<string> {
  const names = new Set<string>();
  for (const expression of expressions) {
    for (const ref of analyseCel(compileCel(expression).ast).variables) {
      names.add(ref.name);
    }
  }
  return names;
}

function referencedParams(rule: EffectivePolicyRule): string[] {
  const names = new Set<string>();
  for (const expression of ruleExpressions(rule)) {
    for (const ref of analyseCel(compileCel(expression).ast).params) {
      names.add(ref.name);
    }
  }
  return Object.keys(rule.params).filter(name => names.has(name));
}

/**
 * Bundle variables a rule needs, transitively, in bundle order (VAP
 * variables may only refer to variables declared before them).
 */
function bundleVariablesFor(
  bundle: EffectivePolicyBundle,
  rule: EffectivePolicyRule,
) {
  const needed = referencedVariables(ruleExpressions(rule));
  for (let i = bundle.variables.length - 1; i >= 0; i--) {
    const variable = bundle.variables[i];
    if (needed.has(variable.name)) {
      for (const dep of referencedVariables([variable.expression])) {
        needed.add(dep);
      }
    }
  }
  return bundle.variables.filter(v => needed.has(v.name));
}

/** Rule selector plus excluded namespaces, as one label selector. */
export function namespaceSelectorOf(
  rule: EffectivePolicyRule,
): LabelSelector | undefined {
  const selector = rule.match.namespaceSelector ?? {};
  const expressions = [...(selector.matchExpressions ?? [])];
  if (rule.match.excludedNamespaces.length > 0) {
    expressions.push({
      key: 'kubernetes.io/metadata.name',
      operator: 'NotIn',
      values: rule.match.excludedNamespaces,
    });
  }
  if (!selector.matchLabels && expressions.length === 0) return undefined;
  return {
    ...(selector.matchLabels ? { matchLabels: selector.matchLabels } : {}),
    ...(expressions.length ? { matchExpressions: expressions } : {}),
  };
}

/** VAP-style resource rules of a rule's kinds. */
function resourceRules(rule: EffectivePolicyRule) {
  return rule.match.kinds.flatMap(entry =>
    entry.apiGroups.map(group => {
      const resources = entry.kinds.flatMap(kind => {
        const known = knownKind(group, kind)!;
        // Ephemeral containers are added through a subresource (UPDATE).
        return known.kind === 'Pod' && rule.match.operations.includes('UPDATE')
          ? [known.resource, `${known.resource}/ephemeralcontainers`]
          : [known.resource];
      });
      return {
        apiGroups: [group],
        apiVersions: ['*'],
        operations: rule.match.operations,
        resources,
        scope: 'Namespaced',
      };
    }),
  );
}

function matchConstraints(rule: EffectivePolicyRule) {
  const namespaceSelector = namespaceSelectorOf(rule);
  return {
    resourceRules: resourceRules(rule),
    ...(namespaceSelector ? { namespaceSelector } : {}),
  };
}

/**
 * CEL blocks of a rule with parameters bound the way an engine provides
 * them. `inline` binds each parameter as a variable holding its literal
 * value (VAP, Kyverno); `gatekeeper` reads `variables.params`, which
 * Gatekeeper fills from the constraint's parameters.
 */
function celBlocks(
  bundle: EffectivePolicyBundle,
  rule: EffectivePolicyRule,
  binding: 'inline' | 'gatekeeper',
) {
  const rewrite = (expression: string) =>
    rewriteParams(expression, name =>
      binding === 'inline'
        ? `variables.${PARAM_VARIABLE_PREFIX}${name}`
        : `variables.params.${name}`,
    );
  const prefix = `[${rule.id}] `;
  const paramVariables =
    binding === 'inline'
      ? referencedParams(rule).map(name => ({
          name: `${PARAM_VARIABLE_PREFIX}${name}`,
          expression: celLiteral(rule.params[name]),
        }))
      : [];
  return {
    matchConditions: rule.match.conditions.map(c => ({
      name: c.name,
      expression: rewrite(c.expression),
    })),
    variables: [
      ...paramVariables,
      ...bundleVariablesFor(bundle, rule).map(v => ({
        name: v.name,
        expression: v.expression,
      })),
      ...rule.variables.map(v => ({
        name: v.name,
        expression: rewrite(v.expression),
      })),
    ],
    validations: rule.validations.map(v => ({
      expression: rewrite(v.expression),
      message: `${prefix}${v.message}`,
      ...(v.messageExpression
        ? {
            messageExpression: `${JSON.stringify(prefix)} + (${rewrite(
              v.messageExpression,
            )})`,
          }
        : {}),
    })),
  };
}

/** `validationActions` of an enforcement; failures are always audited. */
export function validationActions(enforcement: PolicyEnforcement): string[] {
  switch (enforcement) {
    case 'Deny':
      return ['Deny', 'Audit'];
    case 'Warn':
      return ['Warn', 'Audit'];
    default:
      return ['Audit'];
  }
}

/**
 * Native Kubernetes: one ValidatingAdmissionPolicy and one binding per rule
 * (admissionregistration.k8s.io/v1). Parameters are inline constants, so
 * the policy needs no parameter objects and the cluster evaluates exactly
 * the values the in-process evaluator uses.
 */
export function renderValidatingAdmissionPolicies(
  bundle: EffectivePolicyBundle,
): KubeObject[] {
  return bundle.rules.flatMap(rule => {
    const name = policyObjectName(rule.id);
    const { matchConditions, variables, validations } = celBlocks(
      bundle,
      rule,
      'inline',
    );
    return [
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: {
          name,
          labels: labels(bundle, rule.id),
          annotations: annotations(bundle, rule),
        },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: matchConstraints(rule),
          ...(matchConditions.length ? { matchConditions } : {}),
          variables,
          validations,
        },
      },
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name, labels: labels(bundle, rule.id) },
        spec: {
          policyName: name,
          validationActions: validationActions(rule.enforcement),
        },
      },
    ];
  });
}

function pascalCase(id: string) {
  return id
    .split('-')
    .map(part => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

function openApiSchemaOf(value: PolicyParamValue): Record<string, unknown> {
  if (typeof value === 'string') return { type: 'string' };
  if (typeof value === 'boolean') return { type: 'boolean' };
  if (typeof value === 'number') return { type: 'integer' };
  if (Array.isArray(value)) return { type: 'array', items: { type: 'string' } };
  const values = Object.values(value);
  return {
    type: 'object',
    additionalProperties:
      values.length > 0 && Array.isArray(values[0])
        ? { type: 'array', items: { type: 'string' } }
        : { type: 'string' },
  };
}

function gatekeeperAction(enforcement: PolicyEnforcement): string {
  switch (enforcement) {
    case 'Deny':
      return 'deny';
    case 'Warn':
      return 'warn';
    default:
      return 'dryrun';
  }
}

/** Gatekeeper constraint kind of a rule. */
export function gatekeeperKindOf(ruleId: string): string {
  return `Kmp${pascalCase(ruleId)}`;
}

/**
 * OPA Gatekeeper: one ConstraintTemplate per rule using the
 * K8sNativeValidation (CEL) engine, and its constraint carrying the
 * parameters, match and enforcement action.
 */
export function renderGatekeeper(bundle: EffectivePolicyBundle): KubeObject[] {
  return bundle.rules.flatMap(rule => {
    const kind = gatekeeperKindOf(rule.id);
    const { matchConditions, variables, validations } = celBlocks(
      bundle,
      rule,
      'gatekeeper',
    );
    const namespaceSelector = rule.match.namespaceSelector;
    return [
      {
        apiVersion: 'templates.gatekeeper.sh/v1',
        kind: 'ConstraintTemplate',
        metadata: {
          name: kind.toLowerCase(),
          labels: labels(bundle, rule.id),
          annotations: annotations(bundle, rule),
        },
        spec: {
          crd: {
            spec: {
              names: { kind },
              validation: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: Object.fromEntries(
                    Object.entries(rule.params).map(([k, v]) => [
                      k,
                      openApiSchemaOf(v),
                    ]),
                  ),
                },
              },
            },
          },
          targets: [
            {
              target: 'admission.k8s.gatekeeper.sh',
              code: [
                {
                  engine: 'K8sNativeValidation',
                  source: {
                    failurePolicy: 'Fail',
                    ...(matchConditions.length
                      ? { matchCondition: matchConditions }
                      : {}),
                    variables,
                    validations,
                  },
                },
              ],
            },
          ],
        },
      },
      {
        apiVersion: 'constraints.gatekeeper.sh/v1beta1',
        kind,
        metadata: {
          name: policyObjectName(rule.id),
          labels: labels(bundle, rule.id),
          annotations: { [SEVERITY_ANNOTATION]: rule.severity },
        },
        spec: {
          enforcementAction: gatekeeperAction(rule.enforcement),
          match: {
            kinds: rule.match.kinds.map(k => ({
              apiGroups: k.apiGroups,
              kinds: k.kinds,
            })),
            ...(rule.match.excludedNamespaces.length
              ? { excludedNamespaces: rule.match.excludedNamespaces }
              : {}),
            ...(namespaceSelector ? { namespaceSelector } : {}),
          },
          parameters: rule.params,
        },
      },
    ];
  });
}

/**
 * Kyverno: one ValidatingPolicy (policies.kyverno.io/v1, CEL) per rule,
 * with background evaluation so Kyverno reports violations of existing
 * objects in PolicyReports.
 */
export function renderKyverno(bundle: EffectivePolicyBundle): KubeObject[] {
  return bundle.rules.map(rule => {
    const { matchConditions, variables, validations } = celBlocks(
      bundle,
      rule,
      'inline',
    );
    return {
      apiVersion: 'policies.kyverno.io/v1',
      kind: 'ValidatingPolicy',
      metadata: {
        name: policyObjectName(rule.id),
        labels: labels(bundle, rule.id),
        annotations: {
          ...annotations(bundle, rule),
          'policies.kyverno.io/title': rule.id,
          'policies.kyverno.io/severity': rule.severity,
          'policies.kyverno.io/description': rule.description,
        },
      },
      spec: {
        failurePolicy: 'Fail',
        validationActions: [rule.enforcement],
        evaluation: {
          admission: { enabled: true },
          background: { enabled: true },
        },
        matchConstraints: matchConstraints(rule),
        ...(matchConditions.length ? { matchConditions } : {}),
        variables,
        validations,
      },
    };
  });
}

export type PolicyEngine = 'vap' | 'gatekeeper' | 'kyverno';

export function renderBundle(
  bundle: EffectivePolicyBundle,
  engine: PolicyEngine,
): KubeObject[] {
  switch (engine) {
    case 'gatekeeper':
      return renderGatekeeper(bundle);
    case 'kyverno':
      return renderKyverno(bundle);
    default:
      return renderValidatingAdmissionPolicies(bundle);
  }
}

/** Multi-document YAML, one object per document. */
export function toYaml(objects: KubeObject[], header?: string): string {
  const docs = objects.map(o => stringify(o, { lineWidth: 0 }).trimEnd());
  return `${
    header
      ? `${header
          .split('\n')
          .map(l => `# ${l}`)
          .join('\n')}\n`
      : ''
  }${docs.map(d => `---\n${d}\n`).join('')}`;
}
