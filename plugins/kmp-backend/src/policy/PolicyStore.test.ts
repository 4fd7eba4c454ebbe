import { TestDatabases } from '@backstage/backend-test-utils';
import { PolicyStore } from './PolicyStore';
import { migratedDatabase } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();

async function createStore(id: Parameters<typeof databases.init>[0]) {
  const db = await migratedDatabase(databases, id);
  return PolicyStore.create({ db });
}

describe.each(databases.eachSupportedId())('PolicyStore on %s', databaseId => {
  it('records installations, drift and compliance per cluster', async () => {
    const store = await createStore(databaseId);
    const installed = await store.recordInstallation({
      cluster: 'prod-eu1',
      bundleVersion: 'aaaa',
      mode: 'apply',
      enforcement: { 'approved-registries': 'Deny' },
      contentHash: 'h1',
      actor: 'user:default/petra',
    });
    expect(installed).toMatchObject({
      cluster: 'prod-eu1',
      bundleVersion: 'aaaa',
      mode: 'apply',
      installedBy: 'user:default/petra',
      drift: { status: 'in-sync', details: [], liveVersion: 'aaaa' },
    });
    await store.recordDrift('prod-eu1', {
      status: 'drifted',
      details: ['ValidatingAdmissionPolicy kmp-x: missing'],
      liveVersion: 'aaaa',
    });
    expect((await store.getInstallation('prod-eu1'))?.drift).toMatchObject({
      status: 'drifted',
      details: ['ValidatingAdmissionPolicy kmp-x: missing'],
      checkedAt: expect.any(String),
    });
    // re-installing replaces the row
    await store.recordInstallation({
      cluster: 'prod-eu1',
      bundleVersion: 'bbbb',
      mode: 'gitops',
      enforcement: {},
      contentHash: 'h2',
      location: '/srv/gitops/prod-eu1',
      actor: 'kmp:test',
    });
    await store.recordInstallation({
      cluster: 'edge-1',
      bundleVersion: 'cccc',
      mode: 'gitops',
      enforcement: {},
      contentHash: 'h3',
      actor: 'kmp:test',
    });
    const page = await store.listInstallations({ limit: 1, offset: 0 });
    expect(page.totalCount).toBe(2);
    expect(page.items.map(i => i.cluster)).toEqual(['edge-1']);
    expect(
      (
        await store.listInstallations({
          limit: 10,
          offset: 0,
          clusters: ['prod-eu1'],
        })
      ).items,
    ).toEqual([
      expect.objectContaining({
        bundleVersion: 'bbbb',
        mode: 'gitops',
        location: '/srv/gitops/prod-eu1',
        drift: expect.objectContaining({ status: 'unknown' }),
      }),
    ]);

    await store.recordCompliance({
      cluster: 'prod-eu1',
      bundleVersion: 'bbbb',
      status: 'ok',
      scannedAt: new Date('2026-11-25T10:00:00Z').toISOString(),
      objectsScanned: 12,
      engines: ['kyverno'],
      rules: [
        {
          ruleId: 'approved-registries',
          governed: true,
          violations: 1,
          bySource: { 'kmp-scan': 1 },
        },
      ],
      findings: [
        {
          source: 'kmp-scan',
          ruleId: 'approved-registries',
          governed: true,
          object: { kind: 'Deployment', name: 'web' },
          message: 'images from unapproved registries: docker.io/library/nginx',
        },
      ],
      truncated: false,
    });
    expect(await store.getCompliance('prod-eu1')).toMatchObject({
      status: 'ok',
      objectsScanned: 12,
      engines: ['kyverno'],
      scannedAt: '2026-11-25T10:00:00.000Z',
      truncated: false,
    });
    expect(await store.getCompliance('nope')).toBeUndefined();

    // A fleet page reads them in one query per table, without findings.
    await store.recordCompliance({
      cluster: 'dev-eu1',
      bundleVersion: 'cccc',
      status: 'failed',
      scannedAt: new Date('2026-11-25T11:00:00Z').toISOString(),
      objectsScanned: 0,
      error: 'cluster unreachable',
      engines: [],
      rules: [
        { ruleId: 'a', governed: true, violations: 2, bySource: {} },
        { ruleId: 'b', governed: true, violations: 3, bySource: {} },
      ],
      findings: [],
      truncated: false,
    });
    const summaries = await store.getComplianceSummaries([
      'prod-eu1',
      'dev-eu1',
      'nope',
    ]);
    expect(Object.fromEntries(summaries)).toEqual({
      'prod-eu1': {
        status: 'ok',
        scannedAt: '2026-11-25T10:00:00.000Z',
        bundleVersion: 'bbbb',
        violations: 1,
      },
      'dev-eu1': {
        status: 'failed',
        scannedAt: '2026-11-25T11:00:00.000Z',
        bundleVersion: 'cccc',
        violations: 5,
      },
    });
    const installations = await store.getInstallations(['prod-eu1', 'nope']);
    expect([...installations.keys()]).toEqual(['prod-eu1']);
    expect(installations.get('prod-eu1')).toEqual(
      await store.getInstallation('prod-eu1'),
    );
    expect((await store.getComplianceSummaries([])).size).toBe(0);
  });
});
