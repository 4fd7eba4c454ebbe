import {
  EffectivePolicyBundle,
  EffectivePolicyRule,
  Environment,
  ENVIRONMENTS,
  PolicyEnforcement,
  PolicyNamedExpression,
  PolicyParamValue,
} from '@kmp/plugin-kmp-common';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  analyseCel,
  compileCel,
  PORTABLE_FUNCTIONS,
  re2Incompatibility,
} from '../cel/celEnvironment';
import { knownKind } from '../kinds';
import {
  BundleIssue,
  BundleSource,
  PolicyBundleError,
  YamlPath,
} from './BundleSource';
import {
  BaselineFile,
  baselineFileSchema,
  OverlayFile,
  overlayFileSchema,
  RuleFile,
  RulePatch,
} from './fileSchema';

/** Variable names the renderers use for parameters. */
export const PARAM_VARIABLE_PREFIX = 'param_';

/** Namespaces no rule applies to unless the bundle says otherwise. */
const BUILTIN_EXCLUDED_NAMESPACES = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
];

interface Origin {
  source: BundleSource;
  path: YamlPath;
}

interface MergedVariable extends PolicyNamedExpression {
  origin: Origin;
}

interface MergedRule {
  id: string;
  description: string;
  severity: EffectivePolicyRule['severity'];
  enabled: boolean;
  enforcement?: PolicyEnforcement;
  match: {
    kinds: EffectivePolicyRule['match']['kinds'];
    operations: EffectivePolicyRule['match']['operations'];
    namespaceSelector?: EffectivePolicyRule['match']['namespaceSelector'];
    excludedNamespaces?: string[];
    conditions: PolicyNamedExpression[];
  };
  params: Record<string, PolicyParamValue>;
  variables: PolicyNamedExpression[];
  validations: EffectivePolicyRule['validations'];
  sources: string[];
  origin: Origin;
}

interface Merged {
  name: string;
  enforcement: PolicyEnforcement;
  excludedNamespaces: string[];
  variables: MergedVariable[];
  rules: MergedRule[];
  files: string[];
}

type ParamType = 'string' | 'bool' | 'int' | 'list' | 'map' | 'map<list>';

function paramType(value: PolicyParamValue): ParamType {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return 'int';
  if (Array.isArray(value)) return 'list';
  const values = Object.values(value);
  if (values.length === 0) return 'map';
  return Array.isArray(values[0]) ? 'map<list>' : 'map';
}

function sameParamType(a: PolicyParamValue, b: PolicyParamValue): boolean {
  const ta = paramType(a);
  const tb = paramType(b);
  if (ta === tb) return true;
  const isMap = (t: ParamType) => t === 'map' || t === 'map<list>';
  // an empty map fits either kind of map
  const empty = (v: PolicyParamValue) =>
    typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
  return isMap(ta) && isMap(tb) && (empty(a) || empty(b));
}

function describeZodIssues(
  source: BundleSource,
  error: z.ZodError,
): BundleIssue[] {
  return error.issues.map(issue => {
    const yamlPath = issue.path.filter(
      (p): p is string | number => typeof p !== 'symbol',
    );
    const ruleIndex =
      yamlPath[0] === 'spec' &&
      (yamlPath[1] === 'rules' || yamlPath[1] === 'addRules')
        ? yamlPath[2]
        : undefined;
    const data = source.data as any;
    let ruleId: unknown = undefined;
    if (typeof ruleIndex === 'number') {
      ruleId = data?.spec?.[yamlPath[1] as string]?.[ruleIndex]?.id;
    } else if (typeof ruleIndex === 'string') {
      ruleId = ruleIndex;
    }
    const field = yamlPath.join('.');
    return source.issue(
      yamlPath,
      `${field ? `${field}: ` : ''}${issue.message}`,
      { ruleId: typeof ruleId === 'string' ? ruleId : undefined },
    );
  });
}

function listYamlFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter(f => /\.ya?ml$/.test(f))
    .sort();
}

function stripExtension(file: string) {
  return path.basename(file).replace(/\.ya?ml$/, '');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter(k => (value as Record<string, unknown>)[k] !== undefined)
      .map(
        k =>
          `${JSON.stringify(k)}:${canonicalJson(
            (value as Record<string, unknown>)[k],
          )}`,
      )
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Content hash used as bundle version and for drift detection. */
export function contentHash(value: unknown, length = 16): string {
  return createHash('sha256')
    .update(canonicalJson(value))
    .digest('hex')
    .slice(0, length);
}

export interface ResolveOptions {
  environment: Environment;
  environmentGroup?: string;
  /** Extra overlays by name (a cluster profile's `policyOverlays`). */
  overlays?: string[];
}

export interface PolicyBundleSetOptions {
  /** Default enforcement per environment; production is always Deny. */
  enforcement?: Partial<Record<Environment, PolicyEnforcement>>;
}

/**
 * The policy bundle as version-controlled YAML: a baseline, overlays per
 * environment (and other named overlays that cluster profiles reference),
 * and overlays per environment group.
 *
 * Loading validates everything once: YAML syntax, the file schemas, every
 * overlay against the rules it patches, parameter names and types, and
 * every CEL expression (syntax, types, references, and that it only uses
 * functions Kubernetes has). A problem fails the load with file, line,
 * column and rule id — never an admission.
 */
export class PolicyBundleSet {
  private readonly cache = new Map<string, EffectivePolicyBundle>();

  private constructor(
    readonly dir: string,
    private readonly baseline: BundleSource,
    private readonly overlays: Map<string, BundleSource>,
    private readonly groups: Map<string, BundleSource>,
    private readonly options: PolicyBundleSetOptions,
  ) {}

  /** Loads and validates the bundle in `dir`; throws PolicyBundleError. */
  static load(
    dir: string,
    options: PolicyBundleSetOptions = {},
  ): PolicyBundleSet {
    const issues: BundleIssue[] = [];
    if (
      options.enforcement?.production &&
      options.enforcement.production !== 'Deny'
    ) {
      throw new PolicyBundleError([
        {
          file: '(config)',
          message: 'production rules are always enforced with Deny',
        },
      ]);
    }
    const read = (file: string) => {
      const { source, issues: syntaxIssues } = BundleSource.read(dir, file);
      issues.push(...syntaxIssues);
      return syntaxIssues.length === 0 ? source : undefined;
    };
    if (!fs.existsSync(path.join(dir, 'baseline.yaml'))) {
      throw new PolicyBundleError([
        { file: 'baseline.yaml', message: `not found in ${dir}` },
      ]);
    }
    const baseline = read('baseline.yaml');
    const overlays = new Map<string, BundleSource>();
    const groups = new Map<string, BundleSource>();
    for (const [sub, into] of [
      ['overlays', overlays],
      ['groups', groups],
    ] as const) {
      for (const file of listYamlFiles(path.join(dir, sub))) {
        const source = read(`${sub}/${file}`);
        if (source) into.set(stripExtension(file), source);
      }
    }
    if (!baseline || issues.length > 0) throw new PolicyBundleError(issues);

    const schemaIssues = (source: BundleSource, schema: z.ZodType) => {
      const result = schema.safeParse(source.data);
      if (!result.success) {
        issues.push(...describeZodIssues(source, result.error));
        return false;
      }
      return true;
    };
    schemaIssues(baseline, baselineFileSchema);
    for (const [name, source] of [...overlays, ...groups]) {
      if (schemaIssues(source, overlayFileSchema)) {
        const overlay = source.data as OverlayFile;
        if (overlay.metadata.name !== name) {
          issues.push(
            source.issue(
              ['metadata', 'name'],
              `metadata.name '${overlay.metadata.name}' must match the file name '${name}'`,
            ),
          );
        }
      }
    }
    for (const [name, source] of groups) {
      const overlay = source.data as OverlayFile;
      if (!overlay.metadata?.environment) {
        issues.push(
          source.issue(
            ['metadata'],
            `group overlay '${name}' must name its environment in metadata.environment`,
          ),
        );
      }
    }
    if (issues.length > 0) throw new PolicyBundleError(dedupe(issues));

    const set = new PolicyBundleSet(dir, baseline, overlays, groups, options);
    // Validate every chain a target can resolve to.
    const chains: BundleSource[][] = [];
    for (const environment of ENVIRONMENTS) {
      chains.push(set.chain(environment, []));
      for (const [name, source] of overlays) {
        if ((ENVIRONMENTS as readonly string[]).includes(name)) continue;
        const env = (source.data as OverlayFile).metadata.environment;
        if (!env || env === environment) {
          chains.push(set.chain(environment, [name]));
        }
      }
    }
    for (const [name, source] of groups) {
      const env = (source.data as OverlayFile).metadata.environment!;
      chains.push(set.chain(env, [], name));
    }
    for (const chain of chains) {
      const environment = set.environmentOf(chain);
      const merged = set.merge(chain, issues);
      if (merged) set.check(merged, environment, issues);
    }
    if (issues.length > 0) throw new PolicyBundleError(dedupe(issues));
    return set;
  }

  /** Names of the overlays in `overlays/`. */
  overlayNames(): string[] {
    return [...this.overlays.keys()];
  }

  /** Names of the environment groups that have an overlay. */
  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  private environmentOf(chain: BundleSource[]): Environment {
    return (chain as unknown as { environment: Environment }).environment;
  }

  private chain(
    environment: Environment,
    extraOverlays: string[],
    group?: string,
  ): BundleSource[] {
    const chain: BundleSource[] = [this.baseline];
    const envOverlay = this.overlays.get(environment);
    if (envOverlay) chain.push(envOverlay);
    for (const name of extraOverlays) {
      if ((ENVIRONMENTS as readonly string[]).includes(name)) {
        if (name !== environment) {
          throw new PolicyBundleError([
            {
              file: `overlays/${name}.yaml`,
              message: `overlay '${name}' is for another environment than ${environment}`,
            },
          ]);
        }
        continue;
      }
      const overlay = this.overlays.get(name);
      if (!overlay) {
        throw new PolicyBundleError([
          {
            file: `overlays/${name}.yaml`,
            message: `policy overlay '${name}' does not exist`,
          },
        ]);
      }
      const env = (overlay.data as OverlayFile).metadata.environment;
      if (env && env !== environment) {
        throw new PolicyBundleError([
          {
            file: overlay.file,
            message: `overlay '${name}' is for ${env}, not ${environment}`,
          },
        ]);
      }
      if (!chain.includes(overlay)) chain.push(overlay);
    }
    if (group) {
      const overlay = this.groups.get(group);
      if (overlay) {
        const env = (overlay.data as OverlayFile).metadata.environment;
        if (env !== environment) {
          throw new PolicyBundleError([
            {
              file: overlay.file,
              message: `group overlay '${group}' is for ${env}, not ${environment}`,
            },
          ]);
        }
        chain.push(overlay);
      }
    }
    return Object.assign(chain, { environment });
  }

  /** Applies overlays to the baseline; reports references to missing rules. */
  private merge(
    chain: BundleSource[],
    issues: BundleIssue[],
  ): Merged | undefined {
    const before = issues.length;
    const [baselineSource, ...overlaySources] = chain;
    const baseline = baselineSource.data as BaselineFile;
    const rules = new Map<string, MergedRule>();
    const variables: MergedVariable[] = [];

    const addVariables = (
      source: BundleSource,
      list: PolicyNamedExpression[] | undefined,
    ) => {
      (list ?? []).forEach((variable, i) => {
        const at = ['spec', 'variables', i];
        if (variables.some(v => v.name === variable.name)) {
          issues.push(
            source.issue(at, `variable '${variable.name}' is declared twice`),
          );
        } else if (variable.name.startsWith(PARAM_VARIABLE_PREFIX)) {
          issues.push(
            source.issue(
              at,
              `variable names starting with '${PARAM_VARIABLE_PREFIX}' are reserved for parameters`,
            ),
          );
        } else {
          variables.push({
            ...variable,
            origin: { source, path: [...at, 'expression'] },
          });
        }
      });
    };
    const addRule = (source: BundleSource, rule: RuleFile, at: YamlPath) => {
      if (rules.has(rule.id)) {
        issues.push(
          source.issue([...at, 'id'], `rule '${rule.id}' is defined twice`, {
            ruleId: rule.id,
          }),
        );
        return;
      }
      rules.set(rule.id, {
        id: rule.id,
        description: rule.description,
        severity: rule.severity,
        enabled: rule.enabled ?? true,
        enforcement: rule.enforcement,
        match: {
          kinds: rule.match.kinds,
          operations: rule.match.operations ?? ['CREATE', 'UPDATE'],
          namespaceSelector: rule.match.namespaceSelector,
          excludedNamespaces: rule.match.excludedNamespaces,
          conditions: rule.match.conditions ?? [],
        },
        params: { ...(rule.params ?? {}) },
        variables: rule.variables ?? [],
        validations: rule.validations,
        sources: [source.file],
        origin: { source, path: at },
      });
    };

    addVariables(baselineSource, baseline.spec.variables);
    baseline.spec.rules.forEach((rule, i) =>
      addRule(baselineSource, rule, ['spec', 'rules', i]),
    );
    let enforcement: PolicyEnforcement =
      baseline.spec.defaults?.enforcement ?? 'Deny';
    const excludedNamespaces =
      baseline.spec.defaults?.excludedNamespaces ?? BUILTIN_EXCLUDED_NAMESPACES;

    for (const source of overlaySources) {
      const overlay = source.data as OverlayFile;
      if (overlay.spec.enforcement) enforcement = overlay.spec.enforcement;
      addVariables(source, overlay.spec.variables);
      for (const [id, patch] of Object.entries(overlay.spec.rules ?? {})) {
        const rule = rules.get(id);
        const at = ['spec', 'rules', id];
        if (!rule) {
          issues.push(
            source.issue(
              at,
              `overlay references rule '${id}', which is not defined by ${chain
                .slice(0, chain.indexOf(source))
                .map(s => s.file)
                .join(' or ')}`,
              { ruleId: id },
            ),
          );
          continue;
        }
        this.patchRule(source, rule, patch, at, issues);
      }
      (overlay.spec.addRules ?? []).forEach((rule, i) =>
        addRule(source, rule, ['spec', 'addRules', i]),
      );
    }
    if (issues.length > before) return undefined;
    return {
      name: (baseline.metadata.name as string) ?? 'kmp-baseline',
      enforcement,
      excludedNamespaces,
      variables,
      rules: [...rules.values()],
      files: chain.map(s => s.file),
    };
  }

  private patchRule(
    source: BundleSource,
    rule: MergedRule,
    patch: RulePatch,
    at: YamlPath,
    issues: BundleIssue[],
  ) {
    const ruleId = rule.id;
    rule.sources.push(source.file);
    if (patch.description) rule.description = patch.description;
    if (patch.severity) rule.severity = patch.severity;
    if (patch.enabled !== undefined) rule.enabled = patch.enabled;
    if (patch.enforcement) rule.enforcement = patch.enforcement;
    if (patch.excludedNamespaces) {
      rule.match.excludedNamespaces = patch.excludedNamespaces;
    }
    if (patch.namespaceSelector) {
      rule.match.namespaceSelector = patch.namespaceSelector;
    }
    for (const [key, mode] of [
      ['params', 'replace'],
      ['paramsAppend', 'append'],
    ] as const) {
      for (const [name, value] of Object.entries(patch[key] ?? {})) {
        const where = [...at, key, name];
        const current = rule.params[name];
        if (current === undefined) {
          issues.push(
            source.issue(
              where,
              `unknown parameter '${name}'; rule '${ruleId}' declares ${
                Object.keys(rule.params).join(', ') || 'no parameters'
              }`,
              { ruleId },
            ),
          );
          continue;
        }
        if (!sameParamType(current, value)) {
          issues.push(
            source.issue(
              where,
              `parameter '${name}' is a ${paramType(
                current,
              )}, not a ${paramType(value)}`,
              { ruleId },
            ),
          );
          continue;
        }
        if (mode === 'replace') {
          rule.params[name] = value;
        } else if (Array.isArray(current)) {
          rule.params[name] = [
            ...current,
            ...(value as string[]).filter(v => !current.includes(v)),
          ];
        } else if (typeof current === 'object') {
          const mergedMap: Record<string, any> = { ...current };
          for (const [k, v] of Object.entries(value as object)) {
            const prev = mergedMap[k];
            mergedMap[k] =
              Array.isArray(prev) && Array.isArray(v)
                ? [...prev, ...v.filter(x => !prev.includes(x))]
                : v;
          }
          rule.params[name] = mergedMap;
        } else {
          issues.push(
            source.issue(
              where,
              `paramsAppend needs a list or map parameter; '${name}' is a ${paramType(
                current,
              )}`,
              { ruleId },
            ),
          );
        }
      }
    }
  }

  /** Compiles and checks every expression of a merged chain. */
  private check(
    merged: Merged,
    environment: Environment,
    issues: BundleIssue[],
  ) {
    const bundleVariables: string[] = [];
    for (const variable of merged.variables) {
      const { source, path: at } = variable.origin;
      this.checkExpression({
        expression: variable.expression,
        source,
        at,
        params: {},
        variables: bundleVariables,
        resultType: undefined,
        issues,
        context: 'bundle variable',
      });
      bundleVariables.push(variable.name);
    }
    for (const rule of merged.rules) {
      const { source, path: rulePath } = rule.origin;
      const ruleId = rule.id;
      const enforcement = rule.enforcement ?? merged.enforcement;
      if (
        rule.enabled &&
        environment === 'production' &&
        enforcement !== 'Deny'
      ) {
        issues.push(
          source.issue(
            [...rulePath, 'id'],
            `is enforced with ${enforcement} in production (via ${merged.files.join(
              ' + ',
            )}); production rules must be enforced with Deny`,
            { ruleId },
          ),
        );
      }
      rule.match.kinds.forEach((entry, i) => {
        for (const group of entry.apiGroups) {
          for (const kind of entry.kinds) {
            if (!knownKind(group, kind)) {
              issues.push(
                source.issue(
                  [...rulePath, 'match', 'kinds', i],
                  `unknown kind '${kind}' in API group '${group || '(core)'}'`,
                  { ruleId },
                ),
              );
            }
          }
        }
      });
      const common = {
        source,
        params: rule.params,
        issues,
        ruleId,
      };
      rule.match.conditions.forEach((condition, i) =>
        this.checkExpression({
          ...common,
          expression: condition.expression,
          at: [...rulePath, 'match', 'conditions', i, 'expression'],
          variables: [],
          resultType: 'bool',
          context: 'match condition',
        }),
      );
      const visible = [...bundleVariables];
      rule.variables.forEach((variable, i) => {
        const at = [...rulePath, 'variables', i];
        if (visible.includes(variable.name)) {
          issues.push(
            source.issue(
              at,
              `variable '${variable.name}' is already declared`,
              { ruleId },
            ),
          );
        }
        if (variable.name.startsWith(PARAM_VARIABLE_PREFIX)) {
          issues.push(
            source.issue(
              at,
              `variable names starting with '${PARAM_VARIABLE_PREFIX}' are reserved for parameters`,
              { ruleId },
            ),
          );
        }
        this.checkExpression({
          ...common,
          expression: variable.expression,
          at: [...at, 'expression'],
          variables: visible,
          resultType: undefined,
          context: 'rule variable',
        });
        visible.push(variable.name);
      });
      rule.validations.forEach((validation, i) => {
        const at = [...rulePath, 'validations', i];
        this.checkExpression({
          ...common,
          expression: validation.expression,
          at: [...at, 'expression'],
          variables: visible,
          resultType: 'bool',
          context: 'validation',
        });
        if (validation.messageExpression) {
          this.checkExpression({
            ...common,
            expression: validation.messageExpression,
            at: [...at, 'messageExpression'],
            variables: visible,
            resultType: 'string',
            context: 'messageExpression',
          });
        }
        if (validation.message.includes('\n')) {
          issues.push(
            source.issue(
              [...at, 'message'],
              'message must be one line (Kubernetes refuses multi-line messages)',
              { ruleId },
            ),
          );
        }
      });
    }
  }

  private checkExpression(options: {
    expression: string;
    source: BundleSource;
    at: YamlPath;
    params: Record<string, PolicyParamValue>;
    variables: string[];
    resultType: 'bool' | 'string' | undefined;
    issues: BundleIssue[];
    ruleId?: string;
    context: string;
  }) {
    const { expression, source, at, issues, ruleId, context } = options;
    const report = (message: string, offset?: number) =>
      issues.push(
        source.issue(at, `${context}: ${message}`, { ruleId, offset }),
      );
    let program;
    try {
      program = compileCel(expression);
    } catch (error) {
      const e = error as {
        summary?: string;
        message: string;
        range?: { start: number };
      };
      report(
        `CEL does not compile: ${e.summary ?? e.message.split('\n')[0]}`,
        e.range?.start,
      );
      return;
    }
    const checked = program.check();
    if (!checked.valid) {
      const e = checked.error as unknown as {
        summary?: string;
        message: string;
        range?: { start: number };
      };
      report(
        `CEL does not type-check: ${e.summary ?? e.message.split('\n')[0]}`,
        e.range?.start,
      );
      return;
    }
    if (
      options.resultType &&
      checked.type !== options.resultType &&
      checked.type !== 'dyn'
    ) {
      report(`must evaluate to ${options.resultType}, not ${checked.type}`);
    }
    const analysis = analyseCel(program.ast);
    for (const ref of analysis.params) {
      if (!(ref.name in options.params)) {
        report(
          `unknown parameter '${ref.name}'${
            context === 'bundle variable'
              ? ' (bundle variables are shared by all rules and cannot use params)'
              : `; declared: ${
                  Object.keys(options.params).join(', ') || 'none'
                }`
          }`,
          ref.start,
        );
      }
    }
    for (const ref of analysis.bareParams) {
      report('use parameters as params.<name>', ref.start);
    }
    for (const ref of analysis.paramPresenceTests) {
      report(
        `has(params.${ref.name}) is not portable: parameters always have a value`,
        ref.start,
      );
    }
    for (const ref of analysis.variables) {
      if (!options.variables.includes(ref.name)) {
        report(
          `unknown variable 'variables.${ref.name}'${
            options.variables.length
              ? `; visible here: ${options.variables.join(', ')}`
              : ''
          }`,
          ref.start,
        );
      }
    }
    for (const call of analysis.calls) {
      if (!PORTABLE_FUNCTIONS.has(call.name)) {
        report(
          `function '${call.name}' is not available in Kubernetes CEL`,
          call.start,
        );
      }
    }
    for (const literal of analysis.regexLiterals) {
      const problem = re2Incompatibility(literal.name);
      if (problem) {
        report(`regular expression uses ${problem}`, literal.start);
      }
    }
  }

  /**
   * The effective bundle for an environment, its environment group and a
   * profile's overlays: cached per combination.
   */
  resolve(options: ResolveOptions): EffectivePolicyBundle {
    const overlays = [...new Set(options.overlays ?? [])].sort();
    const key = `${options.environment}|${
      options.environmentGroup ?? ''
    }|${overlays.join(',')}`;
    const cached = this.cache.get(key);
    if (cached) return cached;

    const chain = this.chain(
      options.environment,
      overlays,
      options.environmentGroup,
    );
    const issues: BundleIssue[] = [];
    const merged = this.merge(chain, issues);
    if (merged) this.check(merged, options.environment, issues);
    if (!merged || issues.length > 0) {
      throw new PolicyBundleError(dedupe(issues));
    }
    const configured =
      options.environment === 'production'
        ? undefined
        : this.options.enforcement?.[options.environment];
    const defaultEnforcement = configured ?? merged.enforcement;
    const rules: EffectivePolicyRule[] = merged.rules
      .filter(rule => rule.enabled)
      .map(rule => ({
        id: rule.id,
        description: rule.description,
        severity: rule.severity,
        enforcement: rule.enforcement ?? defaultEnforcement,
        match: {
          kinds: rule.match.kinds,
          operations: rule.match.operations,
          ...(rule.match.namespaceSelector
            ? { namespaceSelector: rule.match.namespaceSelector }
            : {}),
          excludedNamespaces:
            rule.match.excludedNamespaces ?? merged.excludedNamespaces,
          conditions: rule.match.conditions,
        },
        params: rule.params,
        variables: rule.variables,
        validations: rule.validations,
        sources: rule.sources,
      }));
    const content = {
      name: merged.name,
      environment: options.environment,
      environmentGroup: options.environmentGroup,
      variables: merged.variables.map(({ name, expression }) => ({
        name,
        expression,
      })),
      rules: rules.map(({ sources: _sources, ...rule }) => rule),
    };
    const bundle: EffectivePolicyBundle = {
      name: merged.name,
      version: contentHash(content),
      environment: options.environment,
      ...(options.environmentGroup
        ? { environmentGroup: options.environmentGroup }
        : {}),
      overlays: merged.files.slice(1),
      variables: content.variables,
      rules,
    };
    this.cache.set(key, bundle);
    return bundle;
  }
}

function dedupe(issues: BundleIssue[]): BundleIssue[] {
  const seen = new Set<string>();
  return issues
    .filter(issue => {
      const key = JSON.stringify(issue);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort(
      (a, b) =>
        a.file.localeCompare(b.file) ||
        (a.line ?? 0) - (b.line ?? 0) ||
        (a.column ?? 0) - (b.column ?? 0),
    );
}
