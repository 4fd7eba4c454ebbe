import { TestDatabases } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  createConditionTransformer,
  PermissionRuleset,
} from '@backstage/plugin-permission-node';
import { kmpClusterReadPermission } from '@kmp/plugin-kmp-common';
import { kmpClusterAccessRules, KmpPersonaPolicy } from '@kmp/plugin-kmp-node';
import { ClusterQuery, NO_CLUSTERS } from './clusterPermissions';
import { ClusterFields, ClusterStore } from './ClusterStore';
import { migratedDatabase, testClusterFields } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();

const fields = testClusterFields;

async function createStore(id: Parameters<typeof databases.init>[0]) {
  const db = await migratedDatabase(databases, id);
  return ClusterStore.create({ db });
}

/**
 * The clusters a user of the given groups sees through `list` with the
 * persona policy's kmp.cluster.read conditions as the plugin's ruleset
 * turns them into a database filter (the summary counts the same).
 */
function visibility(store: ClusterStore, policy: KmpPersonaPolicy) {
  const rules = Object.values(kmpClusterAccessRules);
  const toQuery = createConditionTransformer<ClusterQuery>({
    getRuleByName: name => rules.find(r => r.name === name)!,
  } as PermissionRuleset<any, ClusterQuery>);
  return async (...groups: string[]) => {
    const decision = policy.decide(kmpClusterReadPermission, {
      userEntityRef: 'user:default/u',
      ownershipEntityRefs: groups.map(g => `group:default/${g}`),
    });
    const criteria =
      decision.result === AuthorizeResult.CONDITIONAL
        ? toQuery(decision.conditions)
        : NO_CLUSTERS;
    const { items, totalCount } = await store.list({ criteria });
    expect(totalCount).toBe(items.length);
    expect((await store.summary(criteria)).total).toBe(items.length);
    return items.map(c => c.name);
  };
}

describe.each(databases.eachSupportedId())('ClusterStore on %s', databaseId => {
  it('registers, updates and decommissions with history and revisions', async () => {
    const store = await createStore(databaseId);
    const registered = await store.register({
      fields: fields('prod-eu1', { labels: { tier: 'gold' } }),
      source: 'api',
      credentials: 'v1.cipher',
      actor: 'user:default/petra',
    });
    expect(registered).toMatchObject({
      name: 'prod-eu1',
      lifecycleState: 'registering',
      labels: { tier: 'gold' },
      source: 'api',
      revision: 1,
    });
    expect(registered).not.toHaveProperty('credentials');
    await expect(
      store.register({ fields: fields('prod-eu1'), source: 'api', actor: 'x' }),
    ).rejects.toThrow("cluster 'prod-eu1' is already registered");

    const updated = await store.update({
      name: 'prod-eu1',
      fields: { region: 'eu-central-1', title: 'Prod EU 1' },
      actor: 'user:default/petra',
    });
    expect(updated).toMatchObject({
      region: 'eu-central-1',
      title: 'Prod EU 1',
      revision: 2,
    });

    // An update that changes nothing takes no revision and writes no history.
    await store.update({
      name: 'prod-eu1',
      fields: { region: 'eu-central-1' },
      actor: 'x',
    });
    expect((await store.get('prod-eu1'))?.revision).toBe(2);

    const gone = await store.decommission({
      name: 'prod-eu1',
      actor: 'user:default/petra',
    });
    expect(gone.lifecycleState).toBe('decommissioned');
    expect(gone.decommissionedAt).toBeDefined();
    expect(await store.getCredentialsCiphertext('prod-eu1')).toBeUndefined();

    const history = await store.history('prod-eu1');
    expect(history.map(h => [h.action, h.actor])).toEqual([
      ['register', 'user:default/petra'],
      ['update', 'user:default/petra'],
      ['decommission', 'user:default/petra'],
    ]);
    expect(history[1].changes).toEqual({
      region: ['eu-west-1', 'eu-central-1'],
      title: [null, 'Prod EU 1'],
    });
    expect(JSON.stringify(history)).not.toContain('v1.cipher');

    // A decommissioned name can be registered again.
    const again = await store.register({
      fields: fields('prod-eu1'),
      source: 'api',
      actor: 'x',
    });
    expect(again.lifecycleState).toBe('registering');
    expect(again.decommissionedAt).toBeUndefined();
  });

  it('lists with filters, text search, ordering and paging', async () => {
    const store = await createStore(databaseId);
    for (let i = 0; i < 25; i++) {
      await store.register({
        fields: fields(`c-${String(i).padStart(2, '0')}`, {
          environment: i % 2 ? 'production' : 'edge',
          environmentGroup: i % 2 ? 'payments-prod' : 'retail-edge',
          region: i < 5 ? 'store_0042' : 'eu-west-1',
          title: i === 7 ? 'The 100% special cluster' : undefined,
        }),
        source: 'api',
        actor: 'x',
      });
    }
    await store.decommission({ name: 'c-00', actor: 'x' });

    const page = await store.list({ limit: 10, offset: 10 });
    expect(page.totalCount).toBe(24);
    expect(page.items.map(c => c.name)).toEqual(
      Array.from(
        { length: 10 },
        (_, i) => `c-${String(i + 11).padStart(2, '0')}`,
      ),
    );

    const edge = await store.list({ filter: { environment: ['edge'] } });
    expect(edge.totalCount).toBe(12);
    expect(edge.items.every(c => c.environment === 'edge')).toBe(true);

    expect(
      (await store.list({ filter: { text: '100%' } })).items.map(c => c.name),
    ).toEqual(['c-07']);
    // '_' is a literal, not a wildcard.
    expect((await store.list({ filter: { text: 'store_' } })).totalCount).toBe(
      4,
    );
    expect((await store.list({ filter: { text: 'STORE' } })).totalCount).toBe(
      4,
    );

    const desc = await store.list({ orderBy: 'name', order: 'desc', limit: 1 });
    expect(desc.items[0].name).toBe('c-24');

    expect(
      (await store.list({ filter: { lifecycleState: ['decommissioned'] } }))
        .totalCount,
    ).toBe(1);

    const scoped = await store.list({
      criteria: {
        anyOf: [{ column: 'environment_group', values: ['retail-edge'] }],
      },
    });
    expect(scoped.totalCount).toBe(12);
    const negated = await store.list({
      criteria: {
        not: { column: 'environment_group', values: ['retail-edge'] },
      },
    });
    expect(
      negated.items.every(c => c.environmentGroup === 'payments-prod'),
    ).toBe(true);
  });

  it("filters in the database by the persona policy's kmp.cluster.read conditions", async () => {
    const store = await createStore(databaseId);
    const fleet: Array<[string, Partial<ClusterFields>]> = [
      ['prod-1', {}],
      ['prod-store', { connectivity: 'edge' }],
      [
        'dev-1',
        { environment: 'non-production', environmentGroup: 'payments-dev' },
      ],
      [
        'store-1',
        {
          environment: 'edge',
          environmentGroup: 'retail-edge',
          connectivity: 'edge-async',
        },
      ],
      ['store-2', { environment: 'edge', environmentGroup: 'retail-edge' }],
    ];
    for (const [name, patch] of fleet) {
      await store.register({
        fields: fields(name, patch),
        source: 'api',
        actor: 'x',
      });
    }
    const policy = KmpPersonaPolicy.create({
      mappings: [
        {
          group: 'group:default/ops',
          persona: 'ops',
          environmentGroups: ['payments-dev', 'retail-edge'],
        },
        {
          group: 'group:default/edge',
          persona: 'edge-operator',
          environmentGroups: ['payments-prod', 'retail-edge'],
        },
        { group: 'group:default/edge-all', persona: 'edge-operator' },
      ],
      environmentGroups: [],
      gitopsIdentities: [],
    });
    const visibleTo = visibility(store, policy);
    expect(await visibleTo('ops')).toEqual(['dev-1', 'store-1', 'store-2']);
    expect(await visibleTo('edge')).toEqual([
      'prod-store',
      'store-1',
      'store-2',
    ]);
    expect(await visibleTo('edge-all')).toEqual([
      'prod-store',
      'store-1',
      'store-2',
    ]);
    expect(await visibleTo('ops', 'edge')).toEqual([
      'dev-1',
      'prod-store',
      'store-1',
      'store-2',
    ]);
    expect(await visibleTo('nobody')).toEqual([]);
  });

  it('records the tenant namespaces a probe saw and shows developers the clusters of their team', async () => {
    const store = await createStore(databaseId);
    for (const name of ['prod-1', 'prod-2', 'prod-3']) {
      await store.register({ fields: fields(name), source: 'api', actor: 'x' });
    }
    const ok = {
      ok: true as const,
      nodeCount: 1,
      nodesReady: 1,
      controlPlaneHealthy: true,
    };
    const probe = (name: string, tenants?: Array<[string, string]>) =>
      store.recordProbe(
        name,
        tenants
          ? {
              ...ok,
              tenants: tenants.map(([namespace, team]) => ({
                namespace,
                team,
              })),
            }
          : ok,
        { unreachableAfter: 2 },
      );
    await probe('prod-1', [
      ['checkout', 'team-payments'],
      ['search', 'team-search'],
    ]);
    await probe('prod-2', [['search', 'team-search']]);

    expect((await store.get('prod-1'))?.tenants).toEqual([
      { namespace: 'checkout', team: 'team-payments' },
      { namespace: 'search', team: 'team-search' },
    ]);
    expect((await store.get('prod-3'))?.tenants).toBeUndefined();

    const policy = KmpPersonaPolicy.create({
      mappings: [
        {
          group: 'group:default/team-payments',
          persona: 'developer',
          environmentGroups: ['payments-prod'],
        },
        {
          group: 'group:default/team-search',
          persona: 'developer',
          environmentGroups: ['payments-prod'],
        },
      ],
      environmentGroups: [],
      gitopsIdentities: [],
    });
    const visibleTo = visibility(store, policy);
    expect(await visibleTo('team-payments')).toEqual(['prod-1']);
    expect(await visibleTo('team-search')).toEqual(['prod-1', 'prod-2']);

    // The next probe sees the namespace moved to another team and a new one;
    // a probe that could not list namespaces keeps the last observation.
    await probe('prod-1', [['search', 'team-search']]);
    await probe('prod-3', [
      ['checkout', 'team-payments'],
      ['search', 'team-payments'],
    ]);
    await probe('prod-2');
    expect(await visibleTo('team-payments')).toEqual(['prod-3']);
    expect(await visibleTo('team-search')).toEqual(['prod-1', 'prod-2']);
    expect((await store.list({})).items.map(c => c.tenants?.length)).toEqual([
      1, 1, 2,
    ]);
    // An empty observation clears them.
    await probe('prod-1', []);
    expect((await store.get('prod-1'))?.tenants).toBeUndefined();
    expect(await visibleTo('team-search')).toEqual(['prod-2']);
  });

  it('moves lifecycle state with probes and feeds changes by revision', async () => {
    const store = await createStore(databaseId);
    await store.register({ fields: fields('a'), source: 'api', actor: 'x' });
    await store.register({ fields: fields('b'), source: 'api', actor: 'x' });
    const start = await store.currentRevision();

    const ok = {
      ok: true as const,
      kubernetesVersion: 'v1.34.2',
      nodeCount: 3,
      nodesReady: 3,
      controlPlaneHealthy: true,
    };
    expect(await store.recordProbe('a', ok, { unreachableAfter: 2 })).toEqual({
      before: 'registering',
      after: 'active',
    });
    const afterActive = await store.currentRevision();
    expect(afterActive).toBe(start + 1);

    // The same observation again changes nothing the catalog shows.
    await store.recordProbe('a', ok, { unreachableAfter: 2 });
    expect(await store.currentRevision()).toBe(afterActive);

    const down = { ok: false as const, error: 'connect ECONNREFUSED' };
    expect(await store.recordProbe('a', down, { unreachableAfter: 2 })).toEqual(
      { before: 'active', after: 'active' },
    );
    expect(await store.recordProbe('a', down, { unreachableAfter: 2 })).toEqual(
      { before: 'active', after: 'unreachable' },
    );
    expect((await store.get('a'))?.status).toMatchObject({
      consecutiveFailures: 2,
      lastError: 'connect ECONNREFUSED',
    });

    expect(
      await store.recordProbe(
        'a',
        { ...ok, nodesReady: 2 },
        { unreachableAfter: 2 },
      ),
    ).toEqual({
      before: 'unreachable',
      after: 'degraded',
    });
    expect(await store.recordProbe('a', ok, { unreachableAfter: 2 })).toEqual({
      before: 'degraded',
      after: 'active',
    });

    const changes = await store.changesSince(start);
    expect(changes.map(c => c.name)).toEqual(['a']);
    expect(changes[0].kubernetesVersion).toBe('v1.34.2');
    expect(
      (await store.history('a')).filter(h => h.action === 'state-change'),
    ).toHaveLength(4);

    await store.decommission({ name: 'b', actor: 'x' });
    const latest = await store.changesSince(
      (await store.currentRevision()) - 1,
    );
    expect(latest.map(c => [c.name, c.lifecycleState])).toEqual([
      ['b', 'decommissioned'],
    ]);
    expect(await store.listProbeTargets()).toEqual(['a']);
  });

  it('keeps the last complete GitOps observation, without a new revision, and forgets it when the cluster is registered anew', async () => {
    const store = await createStore(databaseId);
    await store.register({ fields: fields('a'), source: 'api', actor: 'x' });
    const ok = {
      ok: true as const,
      nodeCount: 1,
      nodesReady: 1,
      controlPlaneHealthy: true,
    };
    await store.recordProbe('a', ok, { unreachableAfter: 2 });
    expect((await store.get('a'))?.status).not.toHaveProperty('gitops');
    const revision = await store.currentRevision();

    const failing = {
      engine: 'flux' as const,
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'infrastructure',
      state: 'failed' as const,
      reason: 'BuildFailed',
      message: 'kustomize build failed',
      since: '2026-12-06T11:50:00.000Z',
    };
    const gitops = {
      objects: 4,
      failingCount: 1,
      outOfSyncCount: 0,
      failing: [failing],
      outOfSync: [],
    };
    const seen = new Date('2026-12-06T12:00:00.000Z');
    await store.recordProbe(
      'a',
      { ...ok, gitops },
      { unreachableAfter: 2, now: seen },
    );
    const expected = { ...gitops, checkedAt: seen.toISOString() };
    expect((await store.get('a'))?.status.gitops).toEqual(expected);
    expect((await store.list({})).items[0].status.gitops).toEqual(expected);
    // Not something the catalog shows.
    expect(await store.currentRevision()).toBe(revision);

    // GitOps not listable, or the cluster not answering: the last stays.
    await store.recordProbe('a', ok, { unreachableAfter: 2 });
    await store.recordProbe(
      'a',
      { ok: false, error: 'timeout' },
      { unreachableAfter: 2 },
    );
    expect((await store.get('a'))?.status.gitops).toEqual(expected);

    // All reconciled now.
    await store.recordProbe(
      'a',
      { ...ok, gitops: { ...gitops, failingCount: 0, failing: [] } },
      { unreachableAfter: 2, now: seen },
    );
    expect((await store.get('a'))?.status.gitops).toMatchObject({
      failingCount: 0,
      failing: [],
    });

    await store.decommission({ name: 'a', actor: 'x' });
    await store.register({ fields: fields('a'), source: 'api', actor: 'x' });
    expect((await store.get('a'))?.status).not.toHaveProperty('gitops');
  });

  it('keeps the node problems of the last node list, without a new revision, and forgets them when the cluster is registered anew', async () => {
    const store = await createStore(databaseId);
    await store.register({ fields: fields('a'), source: 'api', actor: 'x' });
    const ok = {
      ok: true as const,
      nodeCount: 3,
      nodesReady: 3,
      controlPlaneHealthy: true,
    };
    await store.recordProbe('a', ok, { unreachableAfter: 2 });
    expect((await store.get('a'))?.status).not.toHaveProperty('nodeProblems');
    const revision = await store.currentRevision();

    const nodeProblems = {
      pressure: [
        {
          node: 'worker-1',
          conditions: ['MemoryPressure' as const, 'DiskPressure' as const],
        },
      ],
      pressureCount: 1,
      unschedulable: ['worker-2'],
      unschedulableCount: 1,
      networkUnavailable: ['worker-3'],
      networkUnavailableCount: 1,
    };
    const seen = new Date('2026-12-06T12:00:00.000Z');
    await store.recordProbe(
      'a',
      { ...ok, nodeProblems },
      { unreachableAfter: 2, now: seen },
    );
    const expected = { ...nodeProblems, checkedAt: seen.toISOString() };
    expect((await store.get('a'))?.status.nodeProblems).toEqual(expected);
    expect((await store.list({})).items[0].status.nodeProblems).toEqual(
      expected,
    );
    // Not something the catalog shows, nor a change of state: all nodes
    // are Ready.
    expect(await store.currentRevision()).toBe(revision);
    expect((await store.get('a'))?.lifecycleState).toBe('active');

    // The cluster not answering: the last observation stays.
    await store.recordProbe(
      'a',
      { ok: false, error: 'timeout' },
      { unreachableAfter: 2 },
    );
    expect((await store.get('a'))?.status.nodeProblems).toEqual(expected);

    // All fine now.
    const later = new Date('2026-12-06T12:05:00.000Z');
    const fine = {
      pressure: [],
      pressureCount: 0,
      unschedulable: [],
      unschedulableCount: 0,
      networkUnavailable: [],
      networkUnavailableCount: 0,
    };
    await store.recordProbe(
      'a',
      { ...ok, nodeProblems: fine },
      { unreachableAfter: 2, now: later },
    );
    expect((await store.get('a'))?.status.nodeProblems).toEqual({
      ...fine,
      checkedAt: later.toISOString(),
    });

    await store.decommission({ name: 'a', actor: 'x' });
    await store.register({ fields: fields('a'), source: 'api', actor: 'x' });
    expect((await store.get('a'))?.status).not.toHaveProperty('nodeProblems');
  });
});
