import { z } from 'zod';

/**
 * The GitOps engines KMP reads: Flux (Kustomizations, HelmReleases, source
 * objects) and Argo CD (Applications).
 *
 * @public
 */
export const gitOpsEngineSchema = z.enum(['flux', 'argocd']);

/** @public */
export type GitOpsEngine = z.infer<typeof gitOpsEngineSchema>;

/**
 * Where a GitOps object stands: `ready` (applied and healthy),
 * `progressing` (reconciling, or waiting for a dependency), `failed` (the
 * last reconciliation failed, or what it applied is degraded),
 * `out-of-sync` (Argo CD: the cluster differs from Git and nothing failed),
 * `suspended` (reconciliation switched off) or `unknown`.
 *
 * @public
 */
export const gitOpsStateSchema = z.enum([
  'ready',
  'progressing',
  'failed',
  'out-of-sync',
  'suspended',
  'unknown',
]);

/** @public */
export type GitOpsState = z.infer<typeof gitOpsStateSchema>;

/**
 * The fields of a Flux object or an Argo CD Application that the
 * classification reads; anything else is ignored.
 *
 * @public
 */
export interface GitOpsObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; generation?: number };
  spec?: { suspend?: boolean };
  status?: {
    conditions?: Array<{
      type: string;
      status?: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }>;
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    artifact?: { revision?: string };
    history?: Array<{ chartVersion?: string }>;
    sync?: { status?: string; revision?: string; revisions?: string[] };
    health?: { status?: string; message?: string };
    operationState?: {
      phase?: string;
      message?: string;
      finishedAt?: string;
    };
    reconciledAt?: string;
  };
}

/**
 * A GitOps object's state, with the reason and message that explain it,
 * the revision it last applied (or attempted) and when its state last
 * changed, as far as the object tells.
 *
 * @public
 */
export interface GitOpsClassification {
  engine: GitOpsEngine;
  state: GitOpsState;
  reason?: string;
  message?: string;
  revision?: string;
  /** ISO 8601; Flux: the Ready condition's last transition; Argo CD: the last operation's end, else the last reconciliation. */
  since?: string;
}

/** Flux `Ready=False` reasons that mean "not there yet", not "failed". */
const FLUX_PROGRESSING_REASONS = new Set(['Progressing', 'DependencyNotReady']);

/** Argo CD Application conditions that mean it cannot be reconciled at all. */
const ARGO_ERROR_CONDITIONS = new Set([
  'ComparisonError',
  'InvalidSpecError',
  'SyncError',
]);

function isoOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Drops undefined fields, so that results compare and serialise cleanly. */
function compact(c: GitOpsClassification): GitOpsClassification {
  return Object.fromEntries(
    Object.entries(c).filter(([, v]) => v !== undefined && v !== ''),
  ) as unknown as GitOpsClassification;
}

/**
 * Classifies a Flux object (Kustomization, HelmRelease, GitRepository and
 * the other sources) by its `Ready` condition and `spec.suspend`.
 *
 * @public
 */
export function classifyFluxObject(o: GitOpsObject): GitOpsClassification {
  const status = o.status ?? {};
  const ready = status.conditions?.find(c => c.type === 'Ready');
  const revision =
    status.lastAppliedRevision ??
    status.artifact?.revision ??
    status.history?.[0]?.chartVersion ??
    status.lastAttemptedRevision;
  const base = {
    engine: 'flux' as const,
    revision,
    message: ready?.message,
    since: isoOf(ready?.lastTransitionTime),
  };
  if (o.spec?.suspend === true) {
    return compact({ ...base, state: 'suspended', reason: 'Suspended' });
  }
  if (!ready) return compact({ ...base, state: 'unknown' });
  let state: GitOpsState;
  if (ready.status === 'True') state = 'ready';
  else if (
    ready.status === 'False' &&
    !FLUX_PROGRESSING_REASONS.has(ready.reason ?? '')
  ) {
    state = 'failed';
  } else state = 'progressing';
  return compact({ ...base, state, reason: ready.reason });
}

/**
 * Classifies an Argo CD Application: failed when its health is Degraded or
 * Missing, when it cannot be compared or synced (an error condition), or
 * when its last sync operation failed and it has not reached Synced and
 * Healthy since; out-of-sync when it is OutOfSync without any of those.
 *
 * @public
 */
export function classifyArgoApplication(o: GitOpsObject): GitOpsClassification {
  const status = o.status ?? {};
  const sync = status.sync?.status;
  const health = status.health?.status;
  const operation = status.operationState;
  const base = {
    engine: 'argocd' as const,
    revision: status.sync?.revision ?? status.sync?.revisions?.[0],
    since: isoOf(operation?.finishedAt) ?? isoOf(status.reconciledAt),
  };
  const error = status.conditions?.find(c => ARGO_ERROR_CONDITIONS.has(c.type));
  const converged = sync === 'Synced' && health === 'Healthy';
  if (health === 'Degraded' || health === 'Missing') {
    return compact({
      ...base,
      state: 'failed',
      reason: health,
      message: status.health?.message ?? operation?.message,
    });
  }
  if (error) {
    return compact({
      ...base,
      state: 'failed',
      reason: error.type,
      message: error.message,
    });
  }
  if (
    (operation?.phase === 'Failed' || operation?.phase === 'Error') &&
    !converged
  ) {
    return compact({
      ...base,
      state: 'failed',
      reason: `Sync${operation.phase}`,
      message: operation.message,
    });
  }
  const message = status.health?.message ?? operation?.message;
  if (sync === 'OutOfSync') {
    return compact({ ...base, state: 'out-of-sync', reason: sync, message });
  }
  if (health === 'Progressing' || operation?.phase === 'Running') {
    return compact({
      ...base,
      state: 'progressing',
      reason: health === 'Progressing' ? health : 'Syncing',
      message,
    });
  }
  if (health === 'Suspended') {
    return compact({ ...base, state: 'suspended', reason: health, message });
  }
  if (converged) {
    return compact({ ...base, state: 'ready', reason: sync, message });
  }
  return compact({
    ...base,
    state: 'unknown',
    reason: sync ?? health,
    message,
  });
}

/**
 * Classifies a GitOps object by its API group: `argoproj.io` Applications
 * as Argo CD, `*.toolkit.fluxcd.io` as Flux; undefined for anything else.
 *
 * @public
 */
export function classifyGitOpsObject(
  o: GitOpsObject,
): GitOpsClassification | undefined {
  const group = o.apiVersion?.split('/')[0] ?? '';
  if (group === 'argoproj.io' && o.kind === 'Application') {
    return classifyArgoApplication(o);
  }
  if (group.endsWith('.toolkit.fluxcd.io')) return classifyFluxObject(o);
  return undefined;
}
