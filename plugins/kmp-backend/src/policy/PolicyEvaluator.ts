import {
  EffectivePolicyBundle,
  EffectivePolicyRule,
  LabelSelector,
  PolicyEvaluationResult,
  PolicyObjectRef,
  PolicyParamValue,
  PolicyViolation,
} from '@kmp/plugin-kmp-common';
import { ParseResult } from '@marcbachmann/cel-js';
import { compileCel, inputsOf } from './cel/celEnvironment';
import { knownKind, splitApiVersion } from './kinds';

/** Kubernetes limit on an evaluated messageExpression (bytes). */
const MAX_MESSAGE_BYTES = 5 * 1024;

/** The label every namespace carries (set by the API server). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

type Program = ParseResult;

/** A variable whose expression could not be evaluated: every use fails. */
class Failed {
  constructor(readonly error: unknown) {}
}

/** Admission variables whose value differs from object to object. */
const PER_OBJECT_INPUTS = ['object', 'oldObject', 'request'];

interface CompiledVariable {
  name: string;
  program: Program;
  /** Index of the variable's value in the evaluation state. */
  slot: number;
  /** A bundle variable (evaluated without parameters). */
  shared: boolean;
  /**
   * Reads neither the object nor the request, so it has one value per
   * namespace (and rule): computed once per namespace and evaluate call.
   */
  perNamespace: boolean;
}

interface CompiledValidation {
  program: Program;
  message: string;
  messageProgram?: Program;
  path?: string;
}

interface CompiledRule {
  index: number;
  rule: EffectivePolicyRule;
  operations: Set<string>;
  excluded: Set<string>;
  selector?: (labels: Record<string, string>) => boolean;
  conditions: Program[];
  params: Record<string, unknown>;
  /** `variables` as the rule's expressions see them (see variablesView). */
  variables: Record<string, unknown>;
  validations: CompiledValidation[];
  prefix: string;
}

/** What is known about one namespace during one evaluate call. */
interface NamespaceScope {
  namespace?: string;
  /** Labels for namespace selectors (with the metadata.name label). */
  labels?: Record<string, string>;
  namespaceObject: Record<string, unknown> | null;
  /** Values of per-namespace variables, by slot. */
  values: unknown[];
  /** Namespace selector results, by rule index. */
  selected: Array<boolean | undefined>;
}

function compileSelector(
  selector: LabelSelector,
): (labels: Record<string, string>) => boolean {
  const matchLabels = Object.entries(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  return labels => {
    for (const [k, v] of matchLabels) if (labels[k] !== v) return false;
    for (const e of expressions) {
      const has = Object.prototype.hasOwnProperty.call(labels, e.key);
      const values = e.values ?? [];
      switch (e.operator) {
        case 'In':
          if (!has || !values.includes(labels[e.key])) return false;
          break;
        case 'NotIn':
          if (has && values.includes(labels[e.key])) return false;
          break;
        case 'Exists':
          if (!has) return false;
          break;
        case 'DoesNotExist':
          if (has) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  };
}

/** CEL integers are BigInt in cel-js. */
function celParams(params: Record<string, PolicyParamValue>) {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      typeof v === 'number' ? BigInt(v) : v,
    ]),
  );
}

/** One admission request to evaluate. */
export interface AdmissionItem {
  object: unknown;
  oldObject?: unknown;
  operation?: 'CREATE' | 'UPDATE';
}

export interface EvaluateOptions {
  /** Labels of namespaces, by name. */
  namespaces?: Record<string, Record<string, string>>;
  /** Namespace of namespaced objects that name none. Default `default`. */
  defaultNamespace?: string;
  /** `request.userInfo` for rules that look at the requester. */
  userInfo?: { username?: string; groups?: string[] };
}

/** Reads the identity of a manifest as far as it goes, for reporting. */
export function objectRefOf(object: unknown): PolicyObjectRef {
  if (!object || typeof object !== 'object') return {};
  const o = object as Record<string, any>;
  const meta =
    o.metadata && typeof o.metadata === 'object' ? o.metadata : undefined;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    apiVersion: str(o.apiVersion),
    kind: str(o.kind),
    namespace: str(meta?.namespace),
    name: str(meta?.name) ?? str(meta?.generateName),
  };
}

function describeError(error: unknown): string {
  const e = error as { summary?: string; message?: string };
  return (e.summary ?? e.message ?? String(error)).split('\n')[0];
}

function malformed(object: unknown): string | undefined {
  if (!object || typeof object !== 'object' || Array.isArray(object)) {
    return 'manifest must be a JSON object';
  }
  const o = object as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || !o.apiVersion) {
    return 'apiVersion is required';
  }
  if (typeof o.kind !== 'string' || !o.kind) return 'kind is required';
  const meta = o.metadata as Record<string, unknown> | undefined;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) {
    return 'metadata is required';
  }
  if (
    (typeof meta.name !== 'string' || !meta.name) &&
    (typeof meta.generateName !== 'string' || !meta.generateName)
  ) {
    return 'metadata.name or metadata.generateName is required';
  }
  if (meta.namespace !== undefined && typeof meta.namespace !== 'string') {
    return 'metadata.namespace must be a string';
  }
  for (const key of ['labels', 'annotations']) {
    const value = meta[key];
    if (value === undefined) continue;
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      return `metadata.${key} must map strings to strings`;
    }
    for (const k in value) {
      if (
        Object.prototype.hasOwnProperty.call(value, k) &&
        typeof (value as Record<string, unknown>)[k] !== 'string'
      ) {
        return `metadata.${key} must map strings to strings`;
      }
    }
  }
  return undefined;
}

/**
 * Evaluates Kubernetes objects against an effective policy bundle, in
 * process, with the semantics of a ValidatingAdmissionPolicy: the same CEL
 * variables (`object`, `oldObject`, `params`, `request`,
 * `namespaceObject`, lazy `variables`), match conditions, failure policy
 * Fail (an expression that cannot be evaluated denies), and the same
 * message rules (messageExpression, then message; trimmed; single line).
 *
 * Every expression is parsed once (per process, shared between bundle
 * versions). Evaluation is arranged so that the time goes into the rules'
 * own CEL:
 * - `variables` is a plain object whose properties are getters: a variable
 *   is evaluated on first use and at most once per object, as in the API
 *   server, and cel-js reads plain objects on its fast path;
 * - a variable that reads neither the object nor the request (only
 *   parameters and `namespaceObject`, like a rule's allowed registries) is
 *   evaluated once per namespace and evaluate call;
 * - the activation objects, the `variables` views and the per-kind rule
 *   lists are built once per evaluator; an object only resets a stamp;
 * - namespace selectors are decided once per namespace and call, and a
 *   messageExpression is evaluated only for a failed validation.
 *
 * `evaluate` is synchronous and keeps its state in the evaluator, so one
 * evaluator serves one evaluation at a time (JavaScript's run-to-completion
 * guarantees that).
 */
export class PolicyEvaluator {
  /** Variable values of the current object (or Failed), by slot. */
  private readonly values: unknown[];
  /** The object stamp each slot of `values` was computed for. */
  private readonly stamps: number[];
  private stamp = 0;
  /** The namespace of the current object. */
  private scope!: NamespaceScope;
  /** Activation of bundle variables: no parameters, bundle variables only. */
  private readonly sharedContext: Record<string, unknown>;
  /** Activation of the current rule: its parameters and variables. */
  private readonly ruleContext: Record<string, unknown>;

  private constructor(
    readonly bundle: EffectivePolicyBundle,
    private readonly rulesByKind: Map<string, CompiledRule[]>,
    slots: number,
    sharedView: Record<string, unknown>,
  ) {
    this.values = new Array(slots).fill(undefined);
    this.stamps = new Array(slots).fill(0);
    const context = () => ({
      object: null,
      oldObject: null,
      request: null,
      namespaceObject: null,
      params: undefined as unknown,
      variables: sharedView as unknown,
    });
    this.sharedContext = context();
    this.ruleContext = context();
  }

  static create(bundle: EffectivePolicyBundle): PolicyEvaluator {
    let slots = 0;
    /**
     * Compiles a variable; `visible` tells, for the variables it may refer
     * to, whether they are per-namespace, and learns about this one.
     */
    const compileVariable = (
      v: { name: string; expression: string },
      shared: boolean,
      visible: Map<string, boolean>,
    ): CompiledVariable => {
      const program = compileCel(v.expression);
      const inputs = inputsOf(program.ast);
      const perNamespace =
        !inputs.bareVariables &&
        !PER_OBJECT_INPUTS.some(name => inputs.roots.has(name)) &&
        [...inputs.variables].every(name => visible.get(name) === true);
      visible.set(v.name, perNamespace);
      return { name: v.name, program, slot: slots++, shared, perNamespace };
    };

    const sharedVisible = new Map<string, boolean>();
    const sharedVariables = bundle.variables.map(v =>
      compileVariable(v, true, sharedVisible),
    );

    // The evaluator is created before the views, which read its state.
    // eslint-disable-next-line prefer-const
    let evaluator: PolicyEvaluator;
    const getter = (variable: CompiledVariable) => () =>
      evaluator.variable(variable);
    const view = (variables: CompiledVariable[]) => {
      const object: Record<string, unknown> = {};
      for (const variable of variables) {
        Object.defineProperty(object, variable.name, {
          get: getter(variable),
          enumerable: true,
          configurable: false,
        });
      }
      return object;
    };
    const sharedView = view(sharedVariables);

    const rulesByKind = new Map<string, CompiledRule[]>();
    bundle.rules.forEach((rule, index) => {
      const visible = new Map(sharedVisible);
      const ruleVariables = rule.variables.map(v =>
        compileVariable(v, false, visible),
      );
      const compiled: CompiledRule = {
        index,
        rule,
        operations: new Set(rule.match.operations),
        excluded: new Set(rule.match.excludedNamespaces),
        selector: rule.match.namespaceSelector
          ? compileSelector(rule.match.namespaceSelector)
          : undefined,
        conditions: rule.match.conditions.map(c => compileCel(c.expression)),
        params: celParams(rule.params),
        variables:
          ruleVariables.length > 0
            ? view([
                ...sharedVariables.filter(
                  s => !ruleVariables.some(r => r.name === s.name),
                ),
                ...ruleVariables,
              ])
            : sharedView,
        validations: rule.validations.map(v => ({
          program: compileCel(v.expression),
          message: v.message,
          messageProgram: v.messageExpression
            ? compileCel(v.messageExpression)
            : undefined,
          path: v.path,
        })),
        prefix: `[${rule.id}] `,
      };

      for (const entry of rule.match.kinds) {
        for (const group of entry.apiGroups) {
          for (const kind of entry.kinds) {
            const key = `${group}/${kind}`;
            const list = rulesByKind.get(key) ?? [];
            list.push(compiled);
            rulesByKind.set(key, list);
          }
        }
      }
    });
    evaluator = new PolicyEvaluator(bundle, rulesByKind, slots, sharedView);
    return evaluator;
  }

  /** Evaluates admission items (or bare objects, as creations). */
  evaluate(
    items: Array<AdmissionItem>,
    options: EvaluateOptions = {},
  ): PolicyEvaluationResult[] {
    const namespaces = { ...(options.namespaces ?? {}) };
    // Namespaces among the manifests provide their own labels.
    for (const item of items) {
      const o = item.object as Record<string, any> | undefined;
      if (
        o?.kind === 'Namespace' &&
        o.apiVersion === 'v1' &&
        typeof o.metadata?.name === 'string' &&
        !malformed(o)
      ) {
        namespaces[o.metadata.name] = o.metadata.labels ?? {};
      }
    }
    const scopes = new Map<string | undefined, NamespaceScope>();
    const scopeOf = (namespace: string | undefined) => {
      let scope = scopes.get(namespace);
      if (!scope) {
        const labels =
          namespace === undefined
            ? undefined
            : {
                ...(namespaces[namespace] ?? {}),
                [NAMESPACE_NAME_LABEL]: namespace,
              };
        scope = {
          namespace,
          labels,
          namespaceObject: namespace
            ? {
                apiVersion: 'v1',
                kind: 'Namespace',
                metadata: { name: namespace, labels },
              }
            : null,
          values: [],
          selected: [],
        };
        scopes.set(namespace, scope);
      }
      return scope;
    };
    return items.map((item, index) =>
      this.evaluateOne(item, index, scopeOf, options),
    );
  }

  /** The value of a variable for the current object (a `variables` getter). */
  private variable(variable: CompiledVariable): unknown {
    let value: unknown;
    if (variable.perNamespace) {
      const values = this.scope.values;
      value = values[variable.slot];
      if (value === undefined) {
        value = this.compute(variable);
        values[variable.slot] = value;
      }
    } else if (this.stamps[variable.slot] === this.stamp) {
      value = this.values[variable.slot];
    } else {
      value = this.compute(variable);
      this.values[variable.slot] = value;
      this.stamps[variable.slot] = this.stamp;
    }
    if (value instanceof Failed) throw value.error;
    return value;
  }

  private compute(variable: CompiledVariable): unknown {
    try {
      return variable.program(
        variable.shared ? this.sharedContext : this.ruleContext,
      );
    } catch (error) {
      return new Failed(error);
    }
  }

  private evaluateOne(
    item: AdmissionItem,
    index: number,
    scopeOf: (namespace: string | undefined) => NamespaceScope,
    options: EvaluateOptions,
  ): PolicyEvaluationResult {
    const object = item.object as Record<string, any>;
    const problem =
      malformed(object) ??
      (item.oldObject !== undefined && item.oldObject !== null
        ? malformed(item.oldObject)
        : undefined);
    if (problem) {
      return {
        index,
        object: objectRefOf(object),
        allowed: false,
        violations: [],
        error: problem,
      };
    }
    const { group, version } = splitApiVersion(object.apiVersion);
    const kind = knownKind(group, object.kind);
    const namespaced = kind?.namespaced ?? !!object.metadata.namespace;
    const namespace: string | undefined = namespaced
      ? object.metadata.namespace ?? options.defaultNamespace ?? 'default'
      : undefined;
    const ref: PolicyObjectRef = {
      apiVersion: object.apiVersion,
      kind: object.kind,
      ...(namespace ? { namespace } : {}),
      name: object.metadata.name ?? object.metadata.generateName,
    };
    const rules = this.rulesByKind.get(`${group}/${object.kind}`);
    const operation = item.operation ?? 'CREATE';
    if (!rules) {
      return { index, object: ref, allowed: true, violations: [] };
    }

    const scope = scopeOf(namespace);
    this.scope = scope;
    this.stamp++;
    const oldObject = operation === 'UPDATE' ? item.oldObject ?? null : null;
    const request = {
      operation,
      name: object.metadata.name ?? '',
      namespace: namespace ?? '',
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: kind?.resource ?? '' },
      dryRun: false,
      userInfo: {
        username: options.userInfo?.username ?? '',
        groups: options.userInfo?.groups ?? [],
      },
    };
    const shared = this.sharedContext;
    shared.object = object;
    shared.oldObject = oldObject;
    shared.request = request;
    shared.namespaceObject = scope.namespaceObject;
    const context = this.ruleContext;
    context.object = object;
    context.oldObject = oldObject;
    context.request = request;
    context.namespaceObject = scope.namespaceObject;
    const violations: PolicyViolation[] = [];
    let allowed = true;

    for (const compiled of rules) {
      if (!compiled.operations.has(operation)) continue;
      if (namespace !== undefined) {
        if (compiled.excluded.has(namespace)) continue;
        if (compiled.selector) {
          let selected = scope.selected[compiled.index];
          if (selected === undefined) {
            selected = compiled.selector(scope.labels!);
            scope.selected[compiled.index] = selected;
          }
          if (!selected) continue;
        }
      }
      const rule = compiled.rule;
      context.params = compiled.params;
      context.variables = compiled.variables;
      const deny = rule.enforcement === 'Deny';

      let matches = true;
      for (const condition of compiled.conditions) {
        try {
          if (condition(context) !== true) {
            matches = false;
            break;
          }
        } catch (error) {
          // Failure policy Fail: an unevaluable match condition denies.
          violations.push(
            violationOf(
              rule,
              ref,
              `match condition could not be evaluated: ${describeError(error)}`,
              undefined,
              kind?.podSpecPath,
              true,
            ),
          );
          if (deny) allowed = false;
          matches = false;
          break;
        }
      }
      if (!matches) continue;

      for (const validation of compiled.validations) {
        let result: unknown;
        try {
          result = validation.program(context);
        } catch (error) {
          violations.push(
            violationOf(
              rule,
              ref,
              `could not be evaluated: ${describeError(error)}`,
              validation.path,
              kind?.podSpecPath,
              true,
            ),
          );
          if (deny) allowed = false;
          continue;
        }
        if (result === true) continue;
        violations.push(
          result === false
            ? violationOf(
                rule,
                ref,
                messageOf(compiled.prefix, validation, context),
                validation.path,
                kind?.podSpecPath,
              )
            : violationOf(
                rule,
                ref,
                `expression did not evaluate to a bool`,
                validation.path,
                kind?.podSpecPath,
                true,
              ),
        );
        if (deny) allowed = false;
      }
    }
    return { index, object: ref, allowed, violations };
  }
}

function violationOf(
  rule: EffectivePolicyRule,
  object: PolicyObjectRef,
  message: string,
  path: string | undefined,
  podSpecPath: string | undefined,
  error?: boolean,
): PolicyViolation {
  return {
    ruleId: rule.id,
    severity: rule.severity,
    enforcement: rule.enforcement,
    object,
    ...(path ? { path: path.replace('{podSpec}', podSpecPath ?? 'spec') } : {}),
    message,
    ...(error ? { error: true } : {}),
  };
}

/**
 * The message the API server would report for a failed validation, without
 * the `[rule-id] ` prefix the rendered policies carry. Only failed
 * validations get here, so a messageExpression costs nothing otherwise.
 */
function messageOf(
  prefix: string,
  validation: CompiledValidation,
  context: Record<string, unknown>,
): string {
  let message = '';
  if (validation.messageProgram) {
    try {
      const value = validation.messageProgram(context);
      if (typeof value === 'string') {
        message = (prefix + value).trim();
        if (
          message.includes('\n') ||
          Buffer.byteLength(message) > MAX_MESSAGE_BYTES
        ) {
          message = '';
        }
      }
    } catch {
      // as in Kubernetes: fall back to the static message
    }
  }
  if (!message) message = (prefix + validation.message).trim();
  return message.startsWith(prefix)
    ? message.slice(prefix.length)
    : message.slice(prefix.trimEnd().length);
}
