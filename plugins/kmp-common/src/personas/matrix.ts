import { Environment } from '../model/common';
import { Persona, PERSONA_INFO } from '../model/persona';
import { KmpAction } from './actions';
import { KMP_RULES } from './rules';

/**
 * Which namespaces an allowed action reaches: the caller's team's tenant
 * namespaces, every tenant namespace, or everything including system
 * namespaces and cluster-scoped resources.
 *
 * @public
 */
export type KmpScope = 'own-namespaces' | 'tenant-namespaces' | 'all';

/**
 * One cell of the persona matrix.
 *
 * - `allowed`: the persona may do it (through `via`, if given).
 * - `via: 'gitops'`: it happens as a change in Git (golden path, GitOps),
 *   never by hand; when `allowed` is false, GitOps is the way to do it.
 * - `via: 'break-glass'` (with `allowed: false`): only under an approved
 *   break-glass grant.
 * - `scope`: which namespaces it reaches.
 * - `readOnly`: a kubeconfig that can only read.
 * - `ownActionsOnly`: audit reading restricted to the caller's own actions.
 * - `reason`: the rule that refuses it, for the Status, UI and audit event.
 *
 * @public
 */
export interface KmpActionDecision {
  allowed: boolean;
  via?: 'break-glass' | 'gitops';
  scope?: KmpScope;
  readOnly?: boolean;
  ownActionsOnly?: boolean;
  reason?: string;
}

/**
 * The columns of PERSONAS.md. Edge clusters follow the non-production
 * column for developers, ops and platform engineers; an edge group marked
 * production follows the production rules (for edge operators too).
 *
 * @public
 */
export type KmpMatrixColumn =
  | 'developer:non-production'
  | 'developer:production'
  | 'ops:non-production'
  | 'ops:production'
  | 'platform-engineer:non-production'
  | 'platform-engineer:production'
  | 'edge-operator:edge'
  | 'edge-operator:production';

/** @public */
export function matrixColumn(
  persona: Persona,
  environment: Environment,
): KmpMatrixColumn {
  if (persona === 'edge-operator') {
    return environment === 'production'
      ? 'edge-operator:production'
      : 'edge-operator:edge';
  }
  return `${persona}:${
    environment === 'production' ? 'production' : 'non-production'
  }`;
}

type Cell = Omit<KmpActionDecision, 'scope'>;

const YES: Cell = { allowed: true };
const GIT: Cell = { allowed: true, via: 'gitops' };
const READ_ONLY: Cell = { allowed: true, readOnly: true };
const no = (reason: string): Cell => ({ allowed: false, reason });
const gitOnly = (reason: string = KMP_RULES.productionGitOps): Cell => ({
  allowed: false,
  via: 'gitops',
  reason,
});
const breakGlass = (reason: string): Cell => ({
  allowed: false,
  via: 'break-glass',
  reason,
});

const noSecrets = (persona: Persona) => no(KMP_RULES.noSecrets(persona));
const noBreakGlass = no(KMP_RULES.breakGlassProductionOnly);
const noApproval = no(KMP_RULES.breakGlassApprovers);
const platformOnly = no(KMP_RULES.platformOnly);

/**
 * The default access matrix of PERSONAS.md, as data: one row per action,
 * one cell per persona × environment column.
 *
 * @public
 */
export const KMP_ACCESS_MATRIX: Record<
  KmpAction,
  Record<KmpMatrixColumn, Cell>
> = {
  read: {
    'developer:non-production': YES,
    'developer:production': YES,
    'ops:non-production': YES,
    'ops:production': YES,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
  'read-secrets': {
    'developer:non-production': YES,
    'developer:production': no(KMP_RULES.developerProductionSecrets),
    'ops:non-production': noSecrets('ops'),
    'ops:production': noSecrets('ops'),
    'platform-engineer:non-production': YES,
    'platform-engineer:production': breakGlass(KMP_RULES.productionSecrets),
    'edge-operator:edge': noSecrets('edge-operator'),
    'edge-operator:production': noSecrets('edge-operator'),
  },
  logs: {
    'developer:non-production': YES,
    'developer:production': YES,
    'ops:non-production': YES,
    'ops:production': YES,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
  exec: {
    'developer:non-production': YES,
    'developer:production': no(KMP_RULES.developerProductionExec),
    'ops:non-production': YES,
    'ops:production': breakGlass(KMP_RULES.productionExec),
    'platform-engineer:non-production': YES,
    'platform-engineer:production': breakGlass(KMP_RULES.productionExec),
    'edge-operator:edge': YES,
    'edge-operator:production': breakGlass(KMP_RULES.productionExec),
  },
  restart: {
    'developer:non-production': YES,
    'developer:production': gitOnly(),
    'ops:non-production': YES,
    'ops:production': YES,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
  'delete-pod': {
    'developer:non-production': YES,
    'developer:production': gitOnly(),
    'ops:non-production': YES,
    'ops:production': YES,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
  scale: {
    'developer:non-production': YES,
    'developer:production': gitOnly(),
    'ops:non-production': YES,
    'ops:production': gitOnly(KMP_RULES.productionReplicasInGit),
    'platform-engineer:non-production': YES,
    'platform-engineer:production': gitOnly(KMP_RULES.productionReplicasInGit),
    'edge-operator:edge': YES,
    'edge-operator:production': gitOnly(KMP_RULES.productionReplicasInGit),
  },
  write: {
    'developer:non-production': YES,
    'developer:production': gitOnly(),
    'ops:non-production': YES,
    'ops:production': gitOnly(),
    'platform-engineer:non-production': YES,
    'platform-engineer:production': gitOnly(),
    'edge-operator:edge': YES,
    'edge-operator:production': gitOnly(),
  },
  'create-namespace': {
    'developer:non-production': YES,
    'developer:production': GIT,
    'ops:non-production': YES,
    'ops:production': GIT,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': GIT,
    'edge-operator:edge': YES,
    'edge-operator:production': GIT,
  },
  kubeconfig: {
    'developer:non-production': YES,
    'developer:production': READ_ONLY,
    'ops:non-production': YES,
    'ops:production': READ_ONLY,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': READ_ONLY,
    'edge-operator:edge': YES,
    'edge-operator:production': READ_ONLY,
  },
  'manage-platform': {
    'developer:non-production': platformOnly,
    'developer:production': platformOnly,
    'ops:non-production': platformOnly,
    'ops:production': platformOnly,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': GIT,
    'edge-operator:edge': platformOnly,
    'edge-operator:production': platformOnly,
  },
  'break-glass-request': {
    'developer:non-production': noBreakGlass,
    'developer:production': YES,
    'ops:non-production': noBreakGlass,
    'ops:production': YES,
    'platform-engineer:non-production': noBreakGlass,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
  'break-glass-approve': {
    'developer:non-production': noApproval,
    'developer:production': noApproval,
    'ops:non-production': noApproval,
    'ops:production': YES,
    'platform-engineer:non-production': noApproval,
    'platform-engineer:production': YES,
    'edge-operator:edge': noApproval,
    'edge-operator:production': noApproval,
  },
  'read-audit': {
    'developer:non-production': { allowed: true, ownActionsOnly: true },
    'developer:production': { allowed: true, ownActionsOnly: true },
    'ops:non-production': YES,
    'ops:production': YES,
    'platform-engineer:non-production': YES,
    'platform-engineer:production': YES,
    'edge-operator:edge': YES,
    'edge-operator:production': YES,
  },
};

/** Actions on a cluster's namespaced objects: the ones a scope applies to. */
const NAMESPACED_ACTIONS = new Set<KmpAction>([
  'read',
  'read-secrets',
  'logs',
  'exec',
  'restart',
  'delete-pod',
  'scale',
  'write',
]);

const READS = new Set<KmpAction>(['read', 'read-secrets', 'logs']);

/**
 * The scope of each persona: developers stay in their team's tenant
 * namespaces; ops and edge operators read everything (system namespaces
 * and cluster-scoped resources read-only) and act in tenant namespaces;
 * platform engineers reach everything.
 *
 * @public
 */
export const KMP_PERSONA_SCOPES: Record<
  Persona,
  { reads: KmpScope; changes: KmpScope }
> = {
  developer: { reads: 'own-namespaces', changes: 'own-namespaces' },
  ops: { reads: 'all', changes: 'tenant-namespaces' },
  'platform-engineer': { reads: 'all', changes: 'all' },
  'edge-operator': { reads: 'all', changes: 'tenant-namespaces' },
};

/** The scope of an action for a persona, where a scope applies. */
export function scopeOf(
  persona: Persona,
  action: KmpAction,
): KmpScope | undefined {
  if (action === 'kubeconfig') {
    return persona === 'developer' ? 'own-namespaces' : 'all';
  }
  if (!NAMESPACED_ACTIONS.has(action)) return undefined;
  const scopes = KMP_PERSONA_SCOPES[persona];
  return READS.has(action) ? scopes.reads : scopes.changes;
}

/**
 * The persona matrix: may a persona do an action in an environment, how,
 * and within which scope. Used by the permission policy, the broker and
 * the portal alike.
 *
 * @public
 */
export function decideAction(input: {
  persona: Persona;
  environment: Environment;
  action: KmpAction;
}): KmpActionDecision {
  const cell =
    KMP_ACCESS_MATRIX[input.action][
      matrixColumn(input.persona, input.environment)
    ];
  const scope = scopeOf(input.persona, input.action);
  return {
    ...cell,
    // Break-glass and Git-only cells keep the scope a grant admits them in.
    ...(scope && (cell.allowed || cell.via) ? { scope } : {}),
  };
}

/** Most privileged first: the persona that speaks for a caller. */
export const PERSONAS_BY_PRIVILEGE: readonly Persona[] = [
  'platform-engineer',
  'ops',
  'edge-operator',
  'developer',
];

/** @public */
export function personaTitle(persona: Persona): string {
  return PERSONA_INFO[persona].title;
}
