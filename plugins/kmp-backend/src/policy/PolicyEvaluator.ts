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
import { compileCel, LazyVariables } from './cel/celEnvironment';
import { knownKind, splitApiVersion } from './kinds';

/** Kubernetes limit on an evaluated messageExpression (bytes). */
const MAX_MESSAGE_BYTES = 5 * 1024;

/** The label every namespace carries (set by the API server). */
const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

type Program = ParseResult;

interface CompiledVariable {
  name: string;
  program: Program;
}

interface CompiledValidation {
  program: Program;
  message: string;
  messageProgram?: Program;
  path?: string;
}

interface CompiledRule {
  rule: EffectivePolicyRule;
  operations: Set<string>;
  excluded: Set<string>;
  selector?: (labels: Record<string, string>) => boolean;
  conditions: Program[];
  params: Record<string, unknown>;
  variables: CompiledVariable[];
  /** Lazy `variables` of this rule, reused object after object. */
  lazyVariables?: LazyVariables;
  validations: CompiledValidation[];
  prefix: string;
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
    if (
      !value ||
      typeof value !== 'object' ||
      Array.isArray(value) ||
      Object.values(value).some(v => typeof v !== 'string')
    ) {
      return `metadata.${key} must map strings to strings`;
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
 * versions); evaluation allocates one context per object and rule.
 */
export class PolicyEvaluator {
  private readonly sharedVariables: LazyVariables;

  private constructor(
    readonly bundle: EffectivePolicyBundle,
    private readonly rulesByKind: Map<string, CompiledRule[]>,
  ) {
    this.sharedVariables = new LazyVariables(
      bundle.variables.map(v => ({
        name: v.name,
        program: compileCel(v.expression),
      })),
    );
    for (const list of rulesByKind.values()) {
      for (const compiled of list) {
        if (compiled.variables.length > 0 && !compiled.lazyVariables) {
          compiled.lazyVariables = new LazyVariables(
            compiled.variables,
            this.sharedVariables,
          );
        }
      }
    }
  }

  static create(bundle: EffectivePolicyBundle): PolicyEvaluator {
    const rulesByKind = new Map<string, CompiledRule[]>();
    for (const rule of bundle.rules) {
      const compiled: CompiledRule = {
        rule,
        operations: new Set(rule.match.operations),
        excluded: new Set(rule.match.excludedNamespaces),
        selector: rule.match.namespaceSelector
          ? compileSelector(rule.match.namespaceSelector)
          : undefined,
        conditions: rule.match.conditions.map(c => compileCel(c.expression)),
        params: celParams(rule.params),
        variables: rule.variables.map(v => ({
          name: v.name,
          program: compileCel(v.expression),
        })),
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
    }
    return new PolicyEvaluator(bundle, rulesByKind);
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
    return items.map((item, index) =>
      this.evaluateOne(item, index, namespaces, options),
    );
  }

  private evaluateOne(
    item: AdmissionItem,
    index: number,
    namespaces: Record<string, Record<string, string>>,
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
    const namespace = namespaced
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

    let labels: Record<string, string> | undefined;
    const namespaceLabels = () => {
      if (!labels) {
        labels = {
          ...(namespaces[namespace!] ?? {}),
          [NAMESPACE_NAME_LABEL]: namespace!,
        };
      }
      return labels;
    };
    const context: Record<string, unknown> = {
      object,
      oldObject: operation === 'UPDATE' ? item.oldObject ?? null : null,
      request: {
        operation,
        name: object.metadata.name ?? '',
        namespace: namespace ?? '',
        kind: { group, version, kind: object.kind },
        resource: {
          group,
          version,
          resource: kind?.resource ?? '',
        },
        dryRun: false,
        userInfo: {
          username: options.userInfo?.username ?? '',
          groups: options.userInfo?.groups ?? [],
        },
      },
      namespaceObject: namespace
        ? {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name: namespace, labels: namespaceLabels() },
          }
        : null,
      params: undefined,
      variables: undefined,
    };
    const shared = this.sharedVariables.reset(context);
    context.variables = shared;
    // One mutable context for the rules, evaluated one after the other.
    const ruleContext: Record<string, unknown> = { ...context };
    const violations: PolicyViolation[] = [];
    let allowed = true;

    for (const compiled of rules) {
      if (!compiled.operations.has(operation)) continue;
      if (namespace !== undefined) {
        if (compiled.excluded.has(namespace)) continue;
        if (compiled.selector && !compiled.selector(namespaceLabels())) {
          continue;
        }
      }
      const rule = compiled.rule;
      ruleContext.params = compiled.params;
      ruleContext.variables = compiled.lazyVariables
        ? compiled.lazyVariables.reset(ruleContext)
        : shared;
      const violation = (
        message: string,
        path: string | undefined,
        error?: boolean,
      ): PolicyViolation => ({
        ruleId: rule.id,
        severity: rule.severity,
        enforcement: rule.enforcement,
        object: ref,
        ...(path ? { path: this.concretePath(path, kind?.podSpecPath) } : {}),
        message,
        ...(error ? { error: true } : {}),
      });

      let matches = true;
      for (const condition of compiled.conditions) {
        try {
          if (condition(ruleContext) !== true) {
            matches = false;
            break;
          }
        } catch (error) {
          // Failure policy Fail: an unevaluable match condition denies.
          violations.push(
            violation(
              `match condition could not be evaluated: ${describeError(error)}`,
              undefined,
              true,
            ),
          );
          if (rule.enforcement === 'Deny') allowed = false;
          matches = false;
          break;
        }
      }
      if (!matches) continue;

      for (const validation of compiled.validations) {
        let result: unknown;
        try {
          result = validation.program(ruleContext);
        } catch (error) {
          violations.push(
            violation(
              `could not be evaluated: ${describeError(error)}`,
              validation.path,
              true,
            ),
          );
          if (rule.enforcement === 'Deny') allowed = false;
          continue;
        }
        if (result === true) continue;
        if (result !== false) {
          violations.push(
            violation(
              `expression did not evaluate to a bool`,
              validation.path,
              true,
            ),
          );
        } else {
          violations.push(
            violation(
              this.message(compiled, validation, ruleContext),
              validation.path,
            ),
          );
        }
        if (rule.enforcement === 'Deny') allowed = false;
      }
    }
    return { index, object: ref, allowed, violations };
  }

  /**
   * The message the API server would report, without the `[rule-id] `
   * prefix the rendered policies carry.
   */
  private message(
    compiled: CompiledRule,
    validation: CompiledValidation,
    context: Record<string, unknown>,
  ): string {
    let message = '';
    if (validation.messageProgram) {
      try {
        const value = validation.messageProgram(context);
        if (typeof value === 'string') {
          message = (compiled.prefix + value).trim();
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
    if (!message) message = (compiled.prefix + validation.message).trim();
    return message.startsWith(compiled.prefix)
      ? message.slice(compiled.prefix.length)
      : message.slice(compiled.prefix.trimEnd().length);
  }

  private concretePath(path: string, podSpecPath?: string): string {
    return path.replace('{podSpec}', podSpecPath ?? 'spec');
  }
}
