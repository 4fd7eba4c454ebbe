import {
  ASTNode,
  Environment,
  ParseError,
  ParseResult,
} from '@marcbachmann/cel-js';

/**
 * The variables of Kubernetes admission CEL (ValidatingAdmissionPolicy),
 * all dynamically typed as in the API server, which declares `object` and
 * `oldObject` as `dyn` too.
 */
export const ADMISSION_VARIABLES = [
  'object',
  'oldObject',
  'params',
  'request',
  'namespaceObject',
  'variables',
] as const;

/** Receiver of the Kubernetes `sets.*` functions. */
class KubernetesSets {}

function includesValue(list: unknown[], value: unknown): boolean {
  return list.some(v => v === value);
}

/**
 * Kubernetes CEL functions that cel-js lacks, with the Kubernetes
 * semantics: `sets.contains`, `sets.intersects`, `sets.equivalent`
 * (cel-go ext.Sets), `list.indexOf`/`lastIndexOf` (Kubernetes list library)
 * and `string.replace` (cel-go ext.Strings).
 */
function registerKubernetesLibrary(env: Environment): Environment {
  return env
    .registerType('KubernetesSets', KubernetesSets)
    .registerConstant('sets', 'KubernetesSets', new KubernetesSets())
    .registerFunction(
      'KubernetesSets.contains(list, list): bool',
      (_: unknown, a: unknown[], b: unknown[]) =>
        b.every(v => includesValue(a, v)),
    )
    .registerFunction(
      'KubernetesSets.intersects(list, list): bool',
      (_: unknown, a: unknown[], b: unknown[]) =>
        b.some(v => includesValue(a, v)),
    )
    .registerFunction(
      'KubernetesSets.equivalent(list, list): bool',
      (_: unknown, a: unknown[], b: unknown[]) =>
        a.every(v => includesValue(b, v)) && b.every(v => includesValue(a, v)),
    )
    .registerFunction({
      name: 'indexOf',
      receiverType: 'list',
      returnType: 'int',
      params: [{ name: 'value', type: 'dyn' }],
      handler: (list: unknown[], value: unknown) =>
        BigInt(list.findIndex(v => v === value)),
    })
    .registerFunction({
      name: 'lastIndexOf',
      receiverType: 'list',
      returnType: 'int',
      params: [{ name: 'value', type: 'dyn' }],
      handler: (list: unknown[], value: unknown) => {
        for (let i = list.length - 1; i >= 0; i--) {
          if (list[i] === value) return BigInt(i);
        }
        return -1n;
      },
    })
    .registerFunction(
      'string.replace(string, string): string',
      (s: string, from: string, to: string) => s.split(from).join(to),
    );
}

/**
 * Functions and macros a bundle may call: those that exist, with the same
 * meaning, both in cel-js (with the library above) and in the Kubernetes CEL
 * environment of the API servers KMP renders for (1.30+). A call outside
 * this list would compile here and fail in the cluster, so the loader
 * refuses it.
 */
export const PORTABLE_FUNCTIONS = new Set([
  // macros
  'has',
  'all',
  'exists',
  'exists_one',
  'map',
  'filter',
  // standard definitions
  'size',
  'matches',
  'startsWith',
  'endsWith',
  'contains',
  'int',
  'uint',
  'double',
  'string',
  'bool',
  'dyn',
  // Kubernetes string library (ext.Strings v2)
  'split',
  'lowerAscii',
  'upperAscii',
  'indexOf',
  'lastIndexOf',
  'substring',
  'join',
  'trim',
  'replace',
  // Kubernetes sets library (sets.contains, sets.intersects, sets.equivalent)
  'sets.contains',
  'sets.intersects',
  'sets.equivalent',
]);

let sharedEnvironment: Environment | undefined;

/**
 * The one cel-js environment of the policy domain: the admission variables
 * and the Kubernetes library functions. Creating an environment is
 * expensive, so it is created once per process.
 */
export function policyCelEnvironment(): Environment {
  if (!sharedEnvironment) {
    let env = new Environment({
      unlistedVariablesAreDyn: false,
      homogeneousAggregateLiterals: true,
      limits: {
        maxAstNodes: 10000,
        maxDepth: 100,
        maxListElements: 1000,
        maxMapEntries: 1000,
        maxCallArguments: 32,
      },
    });
    for (const name of ADMISSION_VARIABLES) {
      env = env.registerVariable(name, 'dyn');
    }
    sharedEnvironment = registerKubernetesLibrary(env);
  }
  return sharedEnvironment;
}

const compiled = new Map<string, ParseResult>();

/**
 * Parses an expression once per process; the same text in several rules or
 * bundle versions shares one program.
 */
export function compileCel(expression: string): ParseResult {
  let program = compiled.get(expression);
  if (!program) {
    program = policyCelEnvironment().parse(expression);
    compiled.set(expression, program);
  }
  return program;
}

/** Children of an AST node, in source order. */
export function astChildren(node: ASTNode): ASTNode[] {
  const isNode = (x: unknown): x is ASTNode =>
    !!x && typeof x === 'object' && 'op' in (x as object);
  switch (node.op) {
    case 'value':
    case 'id':
      return [];
    case '.':
    case '.?':
      return [node.args[0]];
    case 'call':
      return node.args[1];
    case 'rcall':
      return [node.args[1], ...node.args[2]];
    case 'list':
      return node.args;
    case 'map':
      return node.args.flat();
    default: {
      const args = node.args as unknown;
      if (Array.isArray(args)) return args.filter(isNode);
      return isNode(args) ? [args] : [];
    }
  }
}

/** Visits every node depth-first; return false to skip a node's children. */
export function walkAst(
  node: ASTNode,
  visit: (node: ASTNode, parent?: ASTNode) => boolean | void,
  parent?: ASTNode,
): void {
  if (visit(node, parent) === false) return;
  for (const child of astChildren(node)) walkAst(child, visit, node);
}

export interface CelReference {
  name: string;
  start: number;
  end: number;
}

/** What an expression refers to, for the loader's checks and the renderers. */
export interface CelAnalysis {
  /** `params.<name>` selections. */
  params: CelReference[];
  /** Uses of `params` other than `params.<name>`. */
  bareParams: CelReference[];
  /** `has(params.<name>)`, which Kubernetes cannot express on variables. */
  paramPresenceTests: CelReference[];
  /** `variables.<name>` selections. */
  variables: CelReference[];
  /** Function and macro calls, `sets.contains` style for namespaced ones. */
  calls: CelReference[];
  /** String literals passed to `matches`. */
  regexLiterals: CelReference[];
}

export function analyseCel(ast: ASTNode): CelAnalysis {
  const result: CelAnalysis = {
    params: [],
    bareParams: [],
    paramPresenceTests: [],
    variables: [],
    calls: [],
    regexLiterals: [],
  };
  const selected = new Set<ASTNode>();
  walkAst(ast, node => {
    if (node.op === '.' && node.args[0].op === 'id') {
      const root = node.args[0].args;
      const ref = {
        name: node.args[1],
        start: node.range.start,
        end: node.range.end,
      };
      if (root === 'params') {
        result.params.push(ref);
        selected.add(node.args[0]);
      } else if (root === 'variables') {
        result.variables.push(ref);
        selected.add(node.args[0]);
      }
    } else if (node.op === 'id' && node.args === 'params') {
      if (!selected.has(node)) {
        result.bareParams.push({
          name: 'params',
          start: node.range.start,
          end: node.range.end,
        });
      }
    } else if (node.op === 'call') {
      const [name, args] = node.args;
      result.calls.push({
        name,
        start: node.range.start,
        end: node.range.end,
      });
      if (
        name === 'has' &&
        args[0]?.op === '.' &&
        args[0].args[0].op === 'id' &&
        args[0].args[0].args === 'params'
      ) {
        result.paramPresenceTests.push({
          name: args[0].args[1],
          start: node.range.start,
          end: node.range.end,
        });
      }
    } else if (node.op === 'rcall') {
      const [name, receiver, args] = node.args;
      const namespaced =
        receiver.op === 'id' && receiver.args === 'sets'
          ? `sets.${name}`
          : name;
      result.calls.push({
        name: namespaced,
        start: node.range.start,
        end: node.range.end,
      });
      if (name === 'matches' && args[0]?.op === 'value') {
        const value = args[0].args;
        if (typeof value === 'string') {
          result.regexLiterals.push({
            name: value,
            start: args[0].range.start,
            end: args[0].range.end,
          });
        }
      }
    }
    return undefined;
  });
  return result;
}

/** The admission variables an expression reads, directly. */
export interface CelInputs {
  /** Top-level variables used (`object`, `params`, `namespaceObject`, …). */
  roots: Set<string>;
  /** `variables.<name>` selections. */
  variables: Set<string>;
  /** `variables` used other than as `variables.<name>`. */
  bareVariables: boolean;
}

/**
 * What an expression depends on, for the evaluator's caching: a variable
 * that reads neither the object nor the request has the same value for
 * every object of a namespace. Comprehension variables that shadow an
 * admission variable count as uses of it, which only errs on the side of
 * evaluating more often.
 */
export function inputsOf(ast: ASTNode): CelInputs {
  const inputs: CelInputs = {
    roots: new Set(),
    variables: new Set(),
    bareVariables: false,
  };
  walkAst(ast, (node, parent) => {
    if (node.op !== 'id') return undefined;
    inputs.roots.add(node.args);
    if (node.args === 'variables') {
      if (parent?.op === '.' && parent.args[0] === node) {
        inputs.variables.add(parent.args[1]);
      } else {
        inputs.bareVariables = true;
      }
    }
    return undefined;
  });
  return inputs;
}

/**
 * Replaces every `params.<name>` in an expression's text, keeping the rest
 * byte for byte. The renderers use it to bind parameters the way each
 * engine provides them (VAP variables, Gatekeeper `variables.params`).
 */
export function rewriteParams(
  expression: string,
  replace: (name: string) => string,
): string {
  const { params } = analyseCel(compileCel(expression).ast);
  let out = '';
  let at = 0;
  for (const ref of [...params].sort((a, b) => a.start - b.start)) {
    out += expression.slice(at, ref.start) + replace(ref.name);
    at = ref.end;
  }
  return out + expression.slice(at);
}

/** Regular-expression syntax JavaScript accepts and RE2 (Kubernetes) refuses. */
export function re2Incompatibility(pattern: string): string | undefined {
  if (/\(\?<?[=!]/.test(pattern)) return 'lookaround assertions';
  if (/\\[1-9]/.test(pattern)) return 'backreferences';
  if (/\(\?<[A-Za-z]/.test(pattern)) {
    return 'named groups in (?<name>) form (RE2 needs (?P<name>))';
  }
  try {
    // eslint-disable-next-line no-new
    new RegExp(pattern, 'u');
  } catch (error) {
    return `an invalid pattern (${(error as Error).message})`;
  }
  return undefined;
}

export { ParseError };
