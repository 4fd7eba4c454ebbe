import { Environment } from '../model/common';
import { Persona } from '../model/persona';
import { KmpAction, KMP_ACTIONS } from './actions';
import { decideAction, KMP_ACCESS_MATRIX } from './matrix';
import { KMP_RULES } from './rules';

/** The action table of PERSONAS.md, verbatim. */
const PERSONAS_MD = `
| action | developer non-prod | developer prod | ops non-prod | ops prod | platform non-prod | platform prod | edge-operator (edge) |
|---|---|---|---|---|---|---|---|
| read workloads, config, events, status | ✅ | ✅ | ✅ | ✅ | ✅ | ✅ | ✅ |
| read Secrets' values | ✅ own ns | — | — | — | ✅ | BG | — |
| logs (follow, previous) | ✅ | ✅ | ✅ | ✅ | ✅ | ✅ | ✅ |
| exec / attach / port-forward | ✅ | — | ✅ | BG | ✅ | BG | ✅ |
| restart workload, delete pod | ✅ | — | ✅ | ✅ | ✅ | ✅ | ✅ |
| scale | ✅ | — | ✅ | — (declared in Git) | ✅ | — | ✅ |
| create / change / delete objects (ClickOps) | ✅ guardrailed | — (GitOps) | ✅ guardrailed | — | ✅ | — | queued, guardrailed |
| create tenant namespace (golden path) | ✅ via template | ✅ via template → Git | ✅ | ✅ → Git | ✅ | ✅ → Git | ✅ |
| JIT kubeconfig | ✅ ns-scoped | ✅ read-only | ✅ | ✅ read-only | ✅ | ✅ read-only | ✅ |
| register / decommission clusters, profiles, policy bundles | — | — | — | — | ✅ | ✅ (via Git) | — |
| request break-glass | — | ✅ | — | ✅ | — | ✅ | ✅ |
| approve break-glass (never one's own) | — | — | — | ✅ | — | ✅ | — |
| read audit | own actions | own actions | ✅ | ✅ | ✅ | ✅ | ✅ edge |
`;

const ROWS: Record<string, KmpAction[]> = {
  'read workloads, config, events, status': ['read'],
  "read Secrets' values": ['read-secrets'],
  'logs (follow, previous)': ['logs'],
  'exec / attach / port-forward': ['exec'],
  'restart workload, delete pod': ['restart', 'delete-pod'],
  scale: ['scale'],
  'create / change / delete objects (ClickOps)': ['write'],
  'create tenant namespace (golden path)': ['create-namespace'],
  'JIT kubeconfig': ['kubeconfig'],
  'register / decommission clusters, profiles, policy bundles': [
    'manage-platform',
  ],
  'request break-glass': ['break-glass-request'],
  "approve break-glass (never one's own)": ['break-glass-approve'],
  'read audit': ['read-audit'],
};

const COLUMNS: Array<[Persona, Environment]> = [
  ['developer', 'non-production'],
  ['developer', 'production'],
  ['ops', 'non-production'],
  ['ops', 'production'],
  ['platform-engineer', 'non-production'],
  ['platform-engineer', 'production'],
  ['edge-operator', 'edge'],
];

const cells = PERSONAS_MD.trim()
  .split('\n')
  .slice(2)
  .flatMap(line => {
    const [label, ...values] = line
      .split('|')
      .slice(1, -1)
      .map(s => s.trim());
    const actions = ROWS[label];
    if (!actions) throw new Error(`unknown PERSONAS.md row '${label}'`);
    return actions.flatMap(action =>
      values.map((text, i) => ({
        action,
        persona: COLUMNS[i][0],
        environment: COLUMNS[i][1],
        text,
      })),
    );
  });

describe('the persona matrix (PERSONAS.md)', () => {
  it('covers every action of the table and nothing else', () => {
    expect(new Set(cells.map(c => c.action))).toEqual(new Set(KMP_ACTIONS));
    expect(cells).toHaveLength(KMP_ACTIONS.length * COLUMNS.length);
  });

  /** What a cell of the table says, in the terms of `decideAction`. */
  const expectedOf = (text: string) => {
    if (text.startsWith('✅') || text.startsWith('queued')) {
      return {
        allowed: true,
        readOnly: text.includes('read-only'),
        gitops: /Git\b/.test(text),
        ownActionsOnly: false,
        breakGlass: false,
        named: false,
      };
    }
    if (text === 'own actions') {
      return {
        allowed: true,
        readOnly: false,
        gitops: false,
        ownActionsOnly: true,
        breakGlass: false,
        named: false,
      };
    }
    // — (refused, naming the rule) or BG (only through break-glass).
    return {
      allowed: false,
      readOnly: false,
      // Some refusals say "(GitOps)", others of the same rule say nothing.
      gitops:
        text.includes('GitOps') || text.includes('declared in Git')
          ? true
          : expect.any(Boolean),
      ownActionsOnly: false,
      breakGlass: text === 'BG',
      named: true,
    };
  };

  it.each(cells.map(c => [c.action, c.persona, c.environment, c.text, c]))(
    '%s by %s in %s: %s',
    (_a, _p, _e, _t, cell) => {
      const { action, persona, environment, text } = cell as (typeof cells)[0];
      expect(text).toMatch(/^(✅|—|BG$|own actions$|queued)/);
      const d = decideAction({ persona, environment, action });
      // Every refusal names its rule; allowed cells name none.
      expect({
        allowed: d.allowed,
        readOnly: d.readOnly ?? false,
        gitops: d.via === 'gitops',
        ownActionsOnly: d.ownActionsOnly ?? false,
        breakGlass: d.via === 'break-glass',
        named: typeof d.reason === 'string' && d.reason.length > 0,
      }).toEqual(expectedOf(text));
      expect(
        text.includes('own ns') || text.includes('ns-scoped')
          ? d.scope
          : 'own-namespaces',
      ).toBe('own-namespaces');
      expect(
        text.includes('GitOps') ? d.reason : KMP_RULES.productionGitOps,
      ).toBe(KMP_RULES.productionGitOps);
      expect(
        text.includes('declared in Git')
          ? d.reason
          : KMP_RULES.productionReplicasInGit,
      ).toBe(KMP_RULES.productionReplicasInGit);
      expect(text === 'BG' ? d.reason : 'break-glass').toMatch(/break-glass/);
    },
  );

  it('names the GitOps rule for hand-made production changes', () => {
    for (const persona of ['developer', 'ops', 'platform-engineer'] as const) {
      expect(
        decideAction({ persona, environment: 'production', action: 'write' }),
      ).toMatchObject({
        allowed: false,
        via: 'gitops',
        reason: 'production changes go through GitOps',
      });
    }
  });

  it('scopes developers to their own namespaces and ops writes to tenant namespaces', () => {
    const scope = (persona: Persona, action: KmpAction) =>
      decideAction({ persona, environment: 'non-production', action }).scope;
    expect(scope('developer', 'read')).toBe('own-namespaces');
    expect(scope('developer', 'write')).toBe('own-namespaces');
    expect(scope('ops', 'read')).toBe('all');
    expect(scope('ops', 'write')).toBe('tenant-namespaces');
    expect(scope('platform-engineer', 'write')).toBe('all');
    expect(scope('edge-operator', 'restart')).toBe('tenant-namespaces');
    expect(scope('developer', 'manage-platform')).toBeUndefined();
  });

  it('treats edge clusters as non-production for tenants and a production edge group as production', () => {
    expect(
      decideAction({
        persona: 'developer',
        environment: 'edge',
        action: 'write',
      }).allowed,
    ).toBe(true);
    expect(
      decideAction({
        persona: 'edge-operator',
        environment: 'production',
        action: 'write',
      }),
    ).toMatchObject({ allowed: false, via: 'gitops' });
    expect(
      decideAction({
        persona: 'edge-operator',
        environment: 'production',
        action: 'exec',
      }),
    ).toMatchObject({ allowed: false, via: 'break-glass' });
  });

  it('has a cell for every column of every action', () => {
    for (const row of Object.values(KMP_ACCESS_MATRIX)) {
      expect(Object.keys(row)).toHaveLength(8);
    }
  });
});
