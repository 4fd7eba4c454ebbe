import {
  checkAccess,
  checkAccessOfPersonas,
  isSystemNamespace,
  KmpAccessRequest,
  teamsOf,
} from './access';
import { personaGrantsOf, personasIn } from './mapping';

const ns = (
  namespace: string,
  team?: string,
  more: Partial<KmpAccessRequest> = {},
): KmpAccessRequest => ({
  action: 'read',
  namespace,
  namespaceTeam: team,
  systemNamespace: isSystemNamespace(namespace),
  ...more,
});

describe('checkAccess', () => {
  const teams = ['team-payments'];

  it('keeps developers in their own team namespaces, naming the owner', () => {
    const dev = (request: KmpAccessRequest) =>
      checkAccess({
        persona: 'developer',
        environment: 'non-production',
        request,
        teams,
      });
    expect(dev(ns('payments-dev', 'team-payments'))).toEqual({ allowed: true });
    expect(dev(ns('retail-dev', 'team-retail'))).toEqual({
      allowed: false,
      reason: 'namespace retail-dev belongs to team team-retail',
    });
    expect(dev(ns('scratch'))).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('not a tenant namespace'),
    });
    expect(dev(ns('kube-system'))).toMatchObject({
      allowed: false,
      reason: 'system namespace kube-system is for ops and platform engineers',
    });
    expect(dev({ action: 'read' })).toMatchObject({
      allowed: false,
      reason: expect.stringContaining('cluster-wide requests'),
    });
    expect(dev({ action: 'read', discovery: true })).toEqual({ allowed: true });
  });

  it('lets ops read system namespaces but change only tenant namespaces', () => {
    const ops = (request: KmpAccessRequest) =>
      checkAccess({
        persona: 'ops',
        environment: 'production',
        request,
        teams,
      });
    expect(ops(ns('kube-system'))).toEqual({ allowed: true });
    expect(ops({ action: 'read' })).toEqual({ allowed: true });
    expect(ops(ns('kube-system', undefined, { action: 'delete-pod' }))).toEqual(
      {
        allowed: false,
        reason: 'system namespace kube-system is read-only for the Ops persona',
      },
    );
    expect(ops(ns('retail', 'team-retail', { action: 'restart' }))).toEqual({
      allowed: true,
    });
    expect(ops(ns('retail', 'team-retail', { action: 'write' }))).toEqual({
      allowed: false,
      via: 'gitops',
      reason: 'production changes go through GitOps',
    });
  });

  it('admits break-glass cells only with a grant', () => {
    const request = ns('payments', 'team-payments', { action: 'exec' });
    expect(
      checkAccess({
        persona: 'ops',
        environment: 'production',
        request,
        teams,
      }),
    ).toMatchObject({ allowed: false, via: 'break-glass' });
    expect(
      checkAccess({
        persona: 'ops',
        environment: 'production',
        request: { ...request, breakGlass: true },
        teams,
      }),
    ).toEqual({ allowed: true, via: 'break-glass' });
    // A grant does not open what the matrix closes outright.
    expect(
      checkAccess({
        persona: 'developer',
        environment: 'production',
        request: { ...request, breakGlass: true },
        teams,
      }).allowed,
    ).toBe(false);
  });

  it('lets a grant admit hand-made production changes, within the scope', () => {
    const write = (namespace: string, team: string) =>
      checkAccess({
        persona: 'developer',
        environment: 'production',
        request: ns(namespace, team, { action: 'write', breakGlass: true }),
        teams,
      });
    expect(write('payments', 'team-payments')).toEqual({
      allowed: true,
      via: 'break-glass',
    });
    expect(write('retail', 'team-retail')).toEqual({
      allowed: false,
      reason: 'namespace retail belongs to team team-retail',
    });
  });

  it('refuses direct namespace creation in production: it goes through Git', () => {
    expect(
      checkAccess({
        persona: 'platform-engineer',
        environment: 'production',
        request: { action: 'create-namespace' },
        teams,
      }),
    ).toEqual({
      allowed: false,
      via: 'gitops',
      reason: 'production changes go through GitOps',
    });
  });

  it('takes the most permissive persona and names the most privileged refusal', () => {
    const input = {
      environmentGroup: 'payments-prod',
      environment: 'production' as const,
      teams,
    };
    expect(
      checkAccessOfPersonas({
        ...input,
        personas: ['developer', 'ops'],
        request: ns('kube-system', undefined, { action: 'logs' }),
      }),
    ).toEqual({ allowed: true });
    expect(
      checkAccessOfPersonas({
        ...input,
        personas: [],
        request: ns('payments', 'team-payments'),
      }),
    ).toEqual({
      allowed: false,
      reason: 'no KMP persona in environment group payments-prod',
    });
  });
});

describe('persona mapping', () => {
  const mappings = [
    {
      group: 'group:default/team-payments',
      persona: 'developer' as const,
      environmentGroups: ['payments-nonprod', 'payments-prod'],
    },
    {
      group: 'group:default/Platform-Team',
      persona: 'platform-engineer' as const,
    },
  ];

  it('maps ownership refs to personas per environment group', () => {
    const grants = personaGrantsOf(mappings, [
      'user:default/alice',
      'group:default/team-payments',
    ]);
    expect(personasIn(grants, 'payments-prod')).toEqual(['developer']);
    expect(personasIn(grants, 'retail-edge')).toEqual([]);
    const petra = personaGrantsOf(mappings, ['group:default/platform-team']);
    expect(personasIn(petra, 'anything')).toEqual(['platform-engineer']);
  });

  it('derives team names and system namespaces', () => {
    expect(
      teamsOf([
        'user:default/alice',
        'group:default/team-payments',
        'group:ops',
      ]),
    ).toEqual(['team-payments', 'ops']);
    expect(isSystemNamespace('kube-public')).toBe(true);
    expect(isSystemNamespace('default')).toBe(true);
    expect(
      isSystemNamespace('monitoring', { 'kmp.backstage.io/system': 'true' }),
    ).toBe(true);
    expect(isSystemNamespace('payments')).toBe(false);
  });
});
