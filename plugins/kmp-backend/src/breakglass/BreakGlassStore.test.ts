import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { TestDatabases } from '@backstage/backend-test-utils';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { Knex } from 'knex';
import { CallerIdentity } from '../broker/identity';
import { BreakGlassStore } from './BreakGlassStore';
import { recordClosedRequests } from './setupBreakGlass';
import { StoredBreakGlassGrants } from './StoredBreakGlassGrants';
import { migratedDatabase } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();
const migrations = resolvePackagePath('@kmp/plugin-kmp-backend', 'migrations');

async function createStore(databaseId: Parameters<typeof databases.init>[0]) {
  const db: Knex = await migratedDatabase(databases, databaseId);
  return { db, store: BreakGlassStore.create({ db }) };
}

const ALICE = 'user:default/alice';
const OSCAR = 'user:default/oscar';

const ask = (
  store: BreakGlassStore,
  overrides: Partial<Parameters<BreakGlassStore['create']>[0]> = {},
) =>
  store.create({
    cluster: 'payments-prod-eu1',
    environmentGroup: 'payments-prod',
    requester: ALICE,
    reason: 'checkout pods crash-loop, hotfix config map',
    durationSeconds: 1800,
    pendingSeconds: 3600,
    ...overrides,
  });

/** Moves a timestamp column of one request into the past. */
const backdate = (db: Knex, id: string, column: string) =>
  db('kmp_break_glass_requests')
    .where({ id })
    .update({ [column]: new Date(Date.now() - 1000) });

const person = (ref: string): CallerIdentity => ({
  kind: 'user',
  ref,
  groups: [],
  gitops: false,
});

const prod = { name: 'payments-prod-eu1' } as RegisteredCluster;

describe.each(databases.eachSupportedId())('BreakGlassStore on %s', id => {
  it('approves a pending request once: the grant runs from the approval for its duration', async () => {
    const { store } = await createStore(id);
    const request = await ask(store, { namespace: 'team-payments' });
    expect(request).toMatchObject({
      state: 'pending',
      requester: ALICE,
      namespace: 'team-payments',
      durationSeconds: 1800,
    });
    expect(request.expiresAt).toBeUndefined();

    const approved = await store.decide(request.id, {
      approve: true,
      by: OSCAR,
      comment: 'go',
    });
    expect(approved).toMatchObject({
      state: 'approved',
      decidedBy: OSCAR,
      comment: 'go',
    });
    expect(
      Date.parse(approved!.expiresAt!) - Date.parse(approved!.decidedAt!),
    ).toBe(1800 * 1000);

    // Decided is decided: neither a second approval nor a denial lands.
    expect(
      await store.decide(request.id, { approve: false, by: OSCAR }),
    ).toBeUndefined();
    expect((await store.get(request.id))!.state).toBe('approved');
  });

  it('lets exactly one of two concurrent decisions win', async () => {
    const { store } = await createStore(id);
    const request = await ask(store);
    const results = await Promise.all([
      store.decide(request.id, { approve: true, by: OSCAR }),
      store.decide(request.id, { approve: false, by: 'user:default/petra' }),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('serves only live grants of the requester on that cluster, honouring the namespace scope', async () => {
    const { store } = await createStore(id);
    const grants = StoredBreakGlassGrants.create({ store });
    const scoped = await ask(store, { namespace: 'team-payments' });
    await ask(store); // pending, never approved
    await store.decide(scoped.id, { approve: true, by: OSCAR });

    const write = (namespace?: string) =>
      ({ namespace, verb: 'create', apiGroup: '' } as any);
    expect(
      await grants.activeGrant(person(ALICE), prod, write('team-payments')),
    ).toEqual({ id: scoped.id, expiresAt: expect.any(String) });
    expect(
      await grants.activeGrant(person(ALICE), prod, write('kube-system')),
    ).toBeUndefined();
    expect(
      await grants.activeGrant(person(ALICE), prod, write(undefined)),
    ).toBeUndefined();
    expect(
      await grants.activeGrant(person(OSCAR), prod, write('team-payments')),
    ).toBeUndefined();
    expect(
      await grants.activeGrant(
        person(ALICE),
        { name: 'payments-prod-us1' } as RegisteredCluster,
        write('team-payments'),
      ),
    ).toBeUndefined();
    expect(
      await grants.activeGrant(
        { ...person(ALICE), kind: 'service' },
        prod,
        write('team-payments'),
      ),
    ).toBeUndefined();

    const wide = await ask(store);
    await store.decide(wide.id, { approve: true, by: OSCAR });
    expect(
      (await grants.activeGrant(person(ALICE), prod, write(undefined)))?.id,
    ).toBe(wide.id);
  });

  it('ends a grant on revocation and on expiry', async () => {
    const { db, store } = await createStore(id);
    const grants = StoredBreakGlassGrants.create({ store });
    const first = await ask(store);
    await store.decide(first.id, { approve: true, by: OSCAR });
    const revoked = await store.revoke(first.id, OSCAR, 'incident over');
    expect(revoked).toMatchObject({
      state: 'revoked',
      revokedBy: OSCAR,
      revokeReason: 'incident over',
    });
    expect(await grants.activeGrant(person(ALICE), prod)).toBeUndefined();
    expect(await store.revoke(first.id, ALICE)).toBeUndefined();

    const second = await ask(store);
    await store.decide(second.id, { approve: true, by: OSCAR });
    expect((await grants.activeGrant(person(ALICE), prod))?.id).toBe(second.id);
    await backdate(db, second.id, 'expires_at');
    expect(await grants.activeGrant(person(ALICE), prod)).toBeUndefined();
    expect((await store.get(second.id))!.state).toBe('expired');
    // An expired grant cannot be revoked (there is nothing left to end).
    expect(await store.revoke(second.id, ALICE)).toBeUndefined();
  });

  it('lets an undecided request lapse: it can no longer be approved', async () => {
    const { db, store } = await createStore(id);
    const request = await ask(store);
    await backdate(db, request.id, 'pending_until');
    expect((await store.get(request.id))!.state).toBe('expired');
    expect(
      await store.decide(request.id, { approve: true, by: OSCAR }),
    ).toBeUndefined();
  });

  it('claims each expired grant and lapsed request exactly once', async () => {
    const { db, store } = await createStore(id);
    const grant = await ask(store);
    await store.decide(grant.id, { approve: true, by: OSCAR });
    const lapsed = await ask(store);
    const live = await ask(store);
    await store.decide(live.id, { approve: true, by: OSCAR });
    await backdate(db, grant.id, 'expires_at');
    await backdate(db, lapsed.id, 'pending_until');

    const claimed = await store.claimClosed();
    expect(
      claimed
        .map(c => ({ id: c.request.id, lapsed: c.lapsed }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    ).toEqual(
      [
        { id: grant.id, lapsed: false },
        { id: lapsed.id, lapsed: true },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await store.claimClosed()).toEqual([]);
  });

  it('writes the end of expired grants and lapsed requests to the audit trail once', async () => {
    const { db, store } = await createStore(id);
    const grant = await ask(store, { namespace: 'team-payments' });
    await store.decide(grant.id, { approve: true, by: OSCAR });
    const lapsed = await ask(store);
    await backdate(db, grant.id, 'expires_at');
    await backdate(db, lapsed.id, 'pending_until');
    const recorded: any[] = [];
    const audit = { record: async (e: any) => recorded.push(e) } as any;

    expect(await recordClosedRequests(store, audit)).toBe(2);
    expect(await recordClosedRequests(store, audit)).toBe(0);
    expect(recorded).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'break-glass.expire',
          actor: { type: 'service', ref: 'plugin:kmp' },
          target: {
            cluster: 'payments-prod-eu1',
            environmentGroup: 'payments-prod',
            namespace: 'team-payments',
          },
          details: expect.objectContaining({
            requestId: grant.id,
            requester: ALICE,
          }),
        }),
        expect.objectContaining({
          action: 'break-glass.lapse',
          details: expect.objectContaining({ requestId: lapsed.id }),
        }),
      ]),
    );
    expect(recorded).toHaveLength(2);
  });

  it('tries again when the audit trail could not take the record', async () => {
    const { db, store } = await createStore(id);
    const grant = await ask(store);
    await store.decide(grant.id, { approve: true, by: OSCAR });
    await backdate(db, grant.id, 'expires_at');
    const failing = {
      record: async () => {
        throw new Error('audit store down');
      },
    } as any;
    expect(await recordClosedRequests(store, failing)).toBe(0);
    const recorded: any[] = [];
    const audit = { record: async (e: any) => recorded.push(e) } as any;
    expect(await recordClosedRequests(store, audit)).toBe(1);
    expect(recorded.map(e => e.details.requestId)).toEqual([grant.id]);
  });

  it("lists one's own requests, plus others' open ones for approvers", async () => {
    const { store } = await createStore(id);
    const mine = await ask(store, { requester: OSCAR });
    const open = await ask(store);
    const denied = await ask(store);
    await store.decide(denied.id, { approve: false, by: OSCAR });
    const granted = await ask(store);
    await store.decide(granted.id, { approve: true, by: OSCAR });

    const ids = (items: Array<{ id: string }>) => items.map(i => i.id).sort();
    expect(
      ids(
        await store.list({ requester: OSCAR, includeOpen: false, limit: 10 }),
      ),
    ).toEqual([mine.id]);
    expect(
      ids(await store.list({ requester: OSCAR, includeOpen: true, limit: 10 })),
    ).toEqual([mine.id, open.id, granted.id].sort());
    expect(
      ids(
        await store.list({ requester: ALICE, includeOpen: false, limit: 10 }),
      ),
    ).toEqual([open.id, denied.id, granted.id].sort());
    expect(
      ids(
        await store.list({
          requester: ALICE,
          includeOpen: false,
          state: 'approved',
          limit: 10,
        }),
      ),
    ).toEqual([granted.id]);
    expect(
      await store.list({ requester: ALICE, includeOpen: false, limit: 1 }),
    ).toHaveLength(1);
  });

  it('runs the migrations down and up again', async () => {
    const { db } = await createStore(id);
    await db.migrate.rollback({ directory: migrations }, true);
    expect(await db.schema.hasTable('kmp_break_glass_requests')).toBe(false);
    await db.migrate.latest({ directory: migrations });
    expect(await db.schema.hasTable('kmp_break_glass_requests')).toBe(true);
  });
});
