import { KMP_ANNOTATIONS, KMP_PREFIX } from '../annotations';
import { Environment } from '../model/common';
import { Persona } from '../model/persona';
import { KmpAction } from './actions';
import { decideAction, KmpScope, PERSONAS_BY_PRIVILEGE } from './matrix';
import { KMP_RULES } from './rules';

/**
 * The label naming the team that owns a tenant namespace, e.g.
 * `kmp.backstage.io/team: team-payments` (the team's group name).
 *
 * @public
 */
export const KMP_TEAM_LABEL = KMP_ANNOTATIONS.team;

/**
 * The label marking a namespace as a system namespace
 * (`kmp.backstage.io/system: "true"`), besides `kube-*` and `default`.
 *
 * @public
 */
export const KMP_SYSTEM_LABEL = `${KMP_PREFIX}/system`;

/** @public */
export function isSystemNamespace(
  name: string,
  labels?: Record<string, string>,
): boolean {
  return (
    name === 'default' ||
    name.startsWith('kube-') ||
    labels?.[KMP_SYSTEM_LABEL] === 'true'
  );
}

/**
 * The team names of a caller: the names of the groups among their
 * ownership refs (`group:default/team-payments` → `team-payments`).
 *
 * @public
 */
export function teamsOf(ownershipRefs: readonly string[]): string[] {
  return ownershipRefs
    .filter(ref => ref.toLocaleLowerCase('en-US').startsWith('group:'))
    .map(ref => ref.slice(ref.lastIndexOf('/') + 1 || 'group:'.length));
}

/**
 * One request as the access rules see it: what is done, where, and what the
 * cluster says about the namespace.
 *
 * @public
 */
export interface KmpAccessRequest {
  action: KmpAction;
  /** Absent for cluster-scoped requests and lists across all namespaces. */
  namespace?: string;
  /** The namespace's `kmp.backstage.io/team` label, if any. */
  namespaceTeam?: string;
  /** `kube-*`, `default` or labelled `kmp.backstage.io/system: "true"`. */
  systemNamespace?: boolean;
  /** API discovery and self-subject reviews: no scope applies. */
  discovery?: boolean;
  /** The caller holds an approved break-glass grant for it. */
  breakGlass?: boolean;
}

/** @public */
export interface KmpAccessCheck {
  allowed: boolean;
  /** Set when a break-glass grant is what allows it. */
  via?: 'break-glass' | 'gitops';
  /** The rule that refuses it. */
  reason?: string;
}

/**
 * Why a persona's scope does not reach a request, or undefined when it does.
 *
 * @public
 */
export function scopeRefusal(
  scope: KmpScope,
  persona: Persona,
  request: KmpAccessRequest,
  teams: readonly string[],
): string | undefined {
  if (scope === 'all') return undefined;
  // Discovery carries no cluster data (and is always a read).
  if (request.discovery && request.action === 'read') return undefined;
  const { namespace } = request;
  if (!namespace) {
    return persona === 'developer'
      ? KMP_RULES.developerClusterWide
      : KMP_RULES.clusterScopedChanges;
  }
  if (request.systemNamespace) {
    return persona === 'developer'
      ? KMP_RULES.systemNamespaceOutOfScope(namespace)
      : KMP_RULES.systemNamespaceReadOnly(namespace, persona);
  }
  if (!request.namespaceTeam) {
    return KMP_RULES.namespaceWithoutTeam(namespace);
  }
  if (scope === 'own-namespaces' && !teams.includes(request.namespaceTeam)) {
    return KMP_RULES.namespaceOfTeam(namespace, request.namespaceTeam);
  }
  return undefined;
}

/**
 * May a person with this persona do this request directly (through the
 * broker) in this environment? The matrix cell, the break-glass grant and
 * the persona's namespace scope, with the rule that refuses it. Actions
 * the matrix allows only through Git are refused here (production changes
 * go through GitOps); an approved break-glass grant admits them and the
 * break-glass cells, within the persona's scope.
 *
 * @public
 */
export function checkAccess(input: {
  persona: Persona;
  environment: Environment;
  request: KmpAccessRequest;
  teams: readonly string[];
}): KmpAccessCheck {
  const { persona, environment, request, teams } = input;
  const decision = decideAction({
    persona,
    environment,
    action: request.action,
  });
  let via: KmpAccessCheck['via'];
  // An approved break-glass grant admits the break-glass cells and the
  // changes that otherwise go through Git; never what the matrix refuses
  // outright.
  const direct = decision.allowed && decision.via !== 'gitops';
  if (!direct) {
    if (!decision.via || !request.breakGlass) {
      return decision.allowed
        ? { allowed: false, via: 'gitops', reason: KMP_RULES.productionGitOps }
        : {
            allowed: false,
            reason: decision.reason,
            ...(decision.via ? { via: decision.via } : {}),
          };
    }
    via = 'break-glass';
  }
  const refusal = decision.scope
    ? scopeRefusal(decision.scope, persona, request, teams)
    : undefined;
  if (refusal) return { allowed: false, reason: refusal };
  return { allowed: true, ...(via ? { via } : {}) };
}

/**
 * {@link checkAccess} for a caller with several personas in the
 * environment group: allowed when one of them allows it; otherwise the
 * rule named is that of the most privileged persona.
 *
 * @public
 */
export function checkAccessOfPersonas(input: {
  personas: readonly Persona[];
  environmentGroup: string;
  environment: Environment;
  request: KmpAccessRequest;
  teams: readonly string[];
}): KmpAccessCheck {
  const personas = PERSONAS_BY_PRIVILEGE.filter(p =>
    input.personas.includes(p),
  );
  if (personas.length === 0) {
    return {
      allowed: false,
      reason: KMP_RULES.noPersona(input.environmentGroup),
    };
  }
  const checks = personas.map(persona => checkAccess({ ...input, persona }));
  return (
    checks.find(c => c.allowed && !c.via) ??
    checks.find(c => c.allowed) ??
    checks[0]
  );
}
