import {
  BackstageCredentials,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { Config } from '@backstage/config';
import { AuditActor, Persona } from '@kmp/plugin-kmp-common';
import { KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import { BrokerToken, TokenAccess } from './TokenStore';

/** Who is calling through the broker. */
export interface CallerIdentity {
  /** Backstage credentials; absent for a KMP-issued token. */
  credentials?: BackstageCredentials;
  /** The KMP-issued token the caller presented, if that is how it came. */
  token?: { id: string; access: TokenAccess };
  kind: 'user' | 'service';
  /** The user's entity ref, or the service principal's subject. */
  ref: string;
  /** The user's ownership refs (their groups), without their own ref. */
  groups: string[];
  /** The configured GitOps identity: the only writer of production. */
  gitops: boolean;
}

/** The identity of a user or service caller. */
export async function identify(
  credentials: BackstageCredentials,
  userInfo: UserInfoService,
  gitopsIdentities: ReadonlySet<string>,
): Promise<CallerIdentity> {
  const principal = credentials.principal as {
    type: string;
    userEntityRef?: string;
    subject?: string;
  };
  if (principal.type === 'user' && principal.userEntityRef) {
    const ref = principal.userEntityRef;
    const info = await userInfo.getUserInfo(credentials);
    return {
      credentials,
      kind: 'user',
      ref,
      groups: info.ownershipEntityRefs.filter(r => r !== ref),
      gitops: gitopsIdentities.has(ref),
    };
  }
  const ref = principal.subject ?? principal.type;
  return {
    credentials,
    kind: 'service',
    ref,
    groups: [],
    gitops: gitopsIdentities.has(ref),
  };
}

/**
 * The identity behind a KMP-issued token: the actor and groups recorded when
 * the kubeconfig was issued.
 */
export function identifyToken(
  token: BrokerToken,
  gitopsIdentities: ReadonlySet<string>,
): CallerIdentity {
  return {
    kind: token.actorKind,
    ref: token.actorRef,
    groups: token.groups,
    gitops: gitopsIdentities.has(token.actorRef),
    token: { id: token.id, access: token.access },
  };
}

/**
 * A caller's personas per environment group, from the persona RBAC mapper
 * (`kmp.personas`, the same mapping the permission policy decides with).
 * The broker needs the persona names for the `kmp:persona:<persona>`
 * impersonation group and the audit trail.
 */
export class PersonaResolver {
  private constructor(readonly policy: KmpPersonaPolicy) {}

  /** From the root config (`kmp.personas`, `kmp.environmentGroups`). */
  static fromConfig(config: Config): PersonaResolver {
    return new PersonaResolver(KmpPersonaPolicy.fromConfig(config));
  }

  static fromPolicy(policy: KmpPersonaPolicy): PersonaResolver {
    return new PersonaResolver(policy);
  }

  /** The caller's ownership refs: their own ref and their groups. */
  static ownershipRefs(identity: CallerIdentity): string[] {
    return [identity.ref, ...identity.groups];
  }

  /** Most privileged first: the first is the persona an audit event names. */
  personasOf(identity: CallerIdentity, environmentGroup: string): Persona[] {
    if (identity.kind !== 'user') return [];
    return this.policy.personasIn(
      PersonaResolver.ownershipRefs(identity),
      environmentGroup,
    );
  }
}

/** The group that carries a persona to the cluster's RBAC. */
export const personaGroup = (persona: Persona) => `kmp:persona:${persona}`;

/**
 * Impersonation headers: the cluster sees the real actor and their groups
 * (and adds `system:authenticated` itself), never the broker's credential.
 */
export function impersonationHeaders(
  identity: CallerIdentity,
  personas: Persona[],
): Record<string, string | string[]> {
  const groups = [...identity.groups, ...personas.map(personaGroup)];
  return {
    'impersonate-user': identity.ref,
    ...(groups.length > 0 ? { 'impersonate-group': groups } : {}),
  };
}

/** The audit actor of a request. */
export function auditActor(
  identity: CallerIdentity | undefined,
  personas: Persona[],
  request: { ip?: string; userAgent?: string },
  breakGlass: boolean,
): AuditActor {
  const extra = {
    ...(request.ip ? { ip: request.ip.slice(0, 64) } : {}),
    ...(request.userAgent
      ? { userAgent: request.userAgent.slice(0, 512) }
      : {}),
  };
  if (!identity) {
    return { type: 'service', ref: 'unauthenticated', ...extra };
  }
  let type: AuditActor['type'] = identity.kind === 'user' ? 'human' : 'service';
  if (identity.gitops) type = 'gitops';
  if (breakGlass) type = 'break-glass';
  return {
    type,
    ref: identity.ref.slice(0, 512),
    ...(personas[0] ? { persona: personas[0] } : {}),
    ...extra,
  };
}
