import { mockServices } from '@backstage/backend-test-utils';
import { TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { ClusterNodeProblems } from '@kmp/plugin-kmp-common';
import { selfSignedCertificate } from '../audit/__testUtils__/receivers';
import { CredentialCipher } from '../registry/CredentialCipher';
import { PolicyStore } from '../policy/PolicyStore';
import {
  ClusterFields,
  ClusterStore,
  ProbeResult,
} from '../registry/ClusterStore';
import { AlertEvaluator } from './AlertEvaluator';
import { alertFingerprint, AlertStore } from './AlertStore';
import { ALERT_RULES, AlertRuleName, AlertRuleSettings } from './config';
import { migratedDatabase, testClusterFields } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();

const fields = testClusterFields;

const rules = (
  forSeconds: Partial<Record<AlertRuleName, number>> = {},
): Record<AlertRuleName, AlertRuleSettings> =>
  Object.fromEntries(
    ALERT_RULES.map(rule => [
      rule,
      { enabled: true, forSeconds: forSeconds[rule] ?? 0 },
    ]),
  ) as Record<AlertRuleName, AlertRuleSettings>;

const healthy: ProbeResult = {
  ok: true,
  kubernetesVersion: 'v1.31.2',
  nodeCount: 3,
  nodesReady: 3,
  controlPlaneHealthy: true,
};

async function setup(
  databaseId: Parameters<typeof databases.init>[0],
  forSeconds: Partial<Record<AlertRuleName, number>> = {},
) {
  const db: Knex = await migratedDatabase(databases, databaseId);
  const clusters = ClusterStore.create({ db });
  const policies = PolicyStore.create({ db });
  const alerts = AlertStore.create({ db });
  // The registry keeps credentials encrypted; alerts read them decrypted.
  const cipher = CredentialCipher.create({
    secret: 'test-key-test-key-test-key-test-key-0000',
  });
  const evaluator = AlertEvaluator.create({
    alerts,
    clusters,
    policies,
    rules: rules(forSeconds),
    certificates: { warnDays: 30, criticalDays: 7 },
    credentialsOf: async name => {
      const ciphertext = await clusters.getCredentialsCiphertext(name);
      return ciphertext ? cipher.decrypt(name, ciphertext) : undefined;
    },
    logger: mockServices.logger.mock(),
  });
  const register = (
    name: string,
    patch: Partial<ClusterFields> = {},
    credentials?: Parameters<CredentialCipher['encrypt']>[1],
  ) =>
    clusters.register({
      fields: fields(name, patch),
      source: 'api',
      credentials: credentials && cipher.encrypt(name, credentials),
      actor: 'user:default/petra',
    });
  const probe = (name: string, result: ProbeResult, now?: Date) =>
    clusters.recordProbe(name, result, { unreachableAfter: 2, now });
  const rotate = (
    name: string,
    credentials: Parameters<CredentialCipher['encrypt']>[1],
  ) =>
    clusters.update({
      name,
      fields: {},
      credentials: cipher.encrypt(name, credentials),
      actor: 'user:default/petra',
    });
  return {
    db,
    clusters,
    policies,
    alerts,
    evaluator,
    register,
    probe,
    rotate,
  };
}

const at = (seconds: number) => new Date(Date.UTC(2026, 11, 6, 12, 0, seconds));

describe.each(databases.eachSupportedId())('alerts on %s', databaseId => {
  it('fires when the registry sees a cluster unreachable, once, and resolves when it answers again', async () => {
    const { alerts, evaluator, register, probe } = await setup(databaseId);
    await register('pay-eu1');
    await probe('pay-eu1', healthy);
    expect((await evaluator.evaluate(at(0))).fired).toEqual([]);

    await probe('pay-eu1', { ok: false, error: 'connect ECONNREFUSED' });
    await probe('pay-eu1', { ok: false, error: 'connect ECONNREFUSED' });
    const first = await evaluator.evaluate(at(10));
    expect(first.fired).toEqual([
      expect.objectContaining({
        fingerprint: alertFingerprint('KmpClusterUnreachable', 'pay-eu1'),
        cluster: 'pay-eu1',
        alertname: 'KmpClusterUnreachable',
        severity: 'critical',
        status: 'firing',
        startsAt: at(10).toISOString(),
        labels: {
          alertname: 'KmpClusterUnreachable',
          cluster: 'pay-eu1',
          severity: 'critical',
          environment: 'production',
          environment_group: 'payments-prod',
          region: 'eu-west-1',
          source: 'kmp',
        },
      }),
    ]);
    expect(first.fired[0].description).toContain('connect ECONNREFUSED');
    expect(first.fired[0]).not.toHaveProperty('endsAt');

    // Still unreachable: the same alert, no second transition.
    await probe('pay-eu1', { ok: false, error: 'timeout' });
    const again = await evaluator.evaluate(at(20));
    expect(again).toMatchObject({ fired: [], resolved: [] });
    expect((await alerts.list({ limit: 10, offset: 0 })).totalCount).toBe(1);

    await probe('pay-eu1', healthy);
    const cleared = await evaluator.evaluate(at(30));
    expect(cleared.resolved).toEqual([
      expect.objectContaining({
        fingerprint: first.fired[0].fingerprint,
        status: 'resolved',
        startsAt: at(10).toISOString(),
        endsAt: at(30).toISOString(),
      }),
    ]);

    // The outbox holds exactly the two transitions, in order.
    const events = await alerts.readAfter(0, 100);
    expect(events.map(e => [e.status, e.alert.alertname])).toEqual([
      ['firing', 'KmpClusterUnreachable'],
      ['resolved', 'KmpClusterUnreachable'],
    ]);
    expect(events[1].seq).toBeGreaterThan(events[0].seq);
    expect(await alerts.head()).toBe(events[1].seq);

    // A new episode fires again under the same fingerprint.
    await probe('pay-eu1', { ok: false, error: 'x' });
    await probe('pay-eu1', { ok: false, error: 'x' });
    const second = await evaluator.evaluate(at(40));
    expect(second.fired).toEqual([
      expect.objectContaining({
        fingerprint: first.fired[0].fingerprint,
        startsAt: at(40).toISOString(),
      }),
    ]);
    expect(second.fired[0]).not.toHaveProperty('endsAt');
    expect(await alerts.lastEvaluation()).toEqual({
      evaluatedAt: at(40).toISOString(),
      clusters: 1,
    });
  });

  it('announces a transition once when two instances evaluate at the same time', async () => {
    const { alerts, evaluator, register, probe, clusters, policies } =
      await setup(databaseId);
    const other = AlertEvaluator.create({
      alerts,
      clusters,
      policies,
      rules: rules(),
      logger: mockServices.logger.mock(),
    });
    await register('pay-eu1');
    await probe('pay-eu1', healthy);
    await evaluator.evaluate(at(0));
    await probe('pay-eu1', { ok: false, error: 'x' });
    await probe('pay-eu1', { ok: false, error: 'x' });
    const results = await Promise.all([
      evaluator.evaluate(at(10)),
      other.evaluate(at(10)),
    ]);
    expect(results.flatMap(r => r.fired)).toHaveLength(1);
    expect((await alerts.readAfter(0, 10)).map(e => e.status)).toEqual([
      'firing',
    ]);
  });

  it('waits forSeconds before firing, from when the condition was first seen, and drops a condition that clears first', async () => {
    const { alerts, evaluator, register, probe } = await setup(databaseId, {
      controlPlaneUnhealthy: 120,
      nodesNotReady: 120,
    });
    await register('pay-eu1');
    await register('pay-eu2');
    const sick = { ...healthy, controlPlaneHealthy: false };
    await probe('pay-eu1', sick);
    await probe('pay-eu2', { ...healthy, nodesReady: 1 });

    expect((await evaluator.evaluate(at(0))).fired).toEqual([]);
    expect((await evaluator.evaluate(at(60))).fired).toEqual([]);
    // Pending alerts are not announced anywhere.
    expect((await alerts.list({ limit: 10, offset: 0 })).items).toEqual([]);
    expect((await alerts.summary({})).firing).toBe(0);

    // pay-eu2's nodes recover before the alert fired: it never does.
    await probe('pay-eu2', healthy);
    const fired = await evaluator.evaluate(at(121));
    expect(fired.fired).toEqual([
      expect.objectContaining({
        alertname: 'KmpControlPlaneUnhealthy',
        cluster: 'pay-eu1',
        severity: 'critical',
        startsAt: at(0).toISOString(),
      }),
    ]);
    expect(fired.resolved).toEqual([]);
    expect((await alerts.readAfter(0, 10)).map(e => e.status)).toEqual([
      'firing',
    ]);
  });

  it('raises prolonged admission policy drift from the policy domain, and resolves alerts of decommissioned clusters', async () => {
    const { policies, evaluator, register, probe, clusters } = await setup(
      databaseId,
      { policyDrift: 1800 },
    );
    await register('pay-eu1');
    await probe('pay-eu1', healthy);
    await policies.recordInstallation({
      cluster: 'pay-eu1',
      bundleVersion: '2026.12.1',
      mode: 'apply',
      enforcement: {},
      contentHash: 'abc',
      actor: 'user:default/petra',
    });
    await policies.recordDrift('pay-eu1', {
      status: 'drifted',
      details: ['ValidatingAdmissionPolicy kmp-no-privileged was deleted'],
    });
    expect((await evaluator.evaluate(at(0))).fired).toEqual([]);
    const { fired } = await evaluator.evaluate(at(1800));
    expect(fired).toEqual([
      expect.objectContaining({
        alertname: 'KmpAdmissionPolicyDrift',
        severity: 'high',
        startsAt: at(0).toISOString(),
        labels: expect.objectContaining({ bundle_version: '2026.12.1' }),
      }),
    ]);
    expect(fired[0].description).toContain('kmp-no-privileged was deleted');

    await clusters.decommission({
      name: 'pay-eu1',
      actor: 'user:default/petra',
    });
    const { resolved } = await evaluator.evaluate(at(1900));
    expect(resolved.map(a => a.alertname)).toEqual(['KmpAdmissionPolicyDrift']);
  });

  it('warns of expiring certificates KMP holds for a cluster, escalates to critical, and resolves after rotation', async () => {
    const { alerts, evaluator, register, probe, rotate } = await setup(
      databaseId,
    );
    // A certificate valid for one day from now, generated for the test.
    const { cert, key } = selfSignedCertificate();
    await register('pay-eu1', {}, { clientCertificate: cert, clientKey: key });
    await probe('pay-eu1', healthy);
    const day = 86_400_000;
    const now = Date.now();

    expect((await evaluator.evaluate(new Date(now - 40 * day))).fired).toEqual(
      [],
    );
    const warned = await evaluator.evaluate(new Date(now - 20 * day));
    expect(warned.fired).toEqual([
      expect.objectContaining({
        alertname: 'KmpClientCertificateExpiring',
        severity: 'high',
        labels: expect.objectContaining({ certificate: 'client' }),
      }),
    ]);
    expect(warned.fired[0].summary).toMatch(
      /^The client certificate KMP uses for pay-eu1 expires in 2[01] day\(s\)$/,
    );
    expect(warned.fired[0].description).toContain('CN=kmp-audit-test');
    expect(JSON.stringify(warned)).not.toContain('PRIVATE KEY');

    const escalated = await evaluator.evaluate(new Date(now));
    expect(escalated.fired).toEqual([
      expect.objectContaining({
        fingerprint: warned.fired[0].fingerprint,
        severity: 'critical',
      }),
    ]);

    await rotate('pay-eu1', { token: 'a-new-token' });
    const rotated = await evaluator.evaluate(new Date(now + 1000));
    expect(rotated.resolved.map(a => a.alertname)).toEqual([
      'KmpClientCertificateExpiring',
    ]);
    expect((await alerts.readAfter(0, 10)).map(e => e.status)).toEqual([
      'firing',
      'firing',
      'resolved',
    ]);
  });

  it('warns of an expiring API server serving certificate seen by the refresh loop, and resolves once it is renewed', async () => {
    const { evaluator, register, probe, clusters } = await setup(databaseId);
    await register('pay-eu1');
    const day = 86_400_000;
    const now = Date.now();
    const serving = (days: number) => ({
      ...healthy,
      servingCertificate: {
        notAfter: new Date(now + days * day).toISOString(),
        subject: 'CN=kube-apiserver',
      },
    });
    await probe('pay-eu1', serving(20));
    expect((await clusters.get('pay-eu1'))?.status.servingCertificate).toEqual({
      notAfter: new Date(now + 20 * day).toISOString(),
      subject: 'CN=kube-apiserver',
    });
    const warned = await evaluator.evaluate(new Date(now));
    expect(warned.fired).toEqual([
      expect.objectContaining({
        alertname: 'KmpServingCertificateExpiring',
        severity: 'high',
        labels: expect.objectContaining({ certificate: 'serving' }),
      }),
    ]);
    expect(warned.fired[0].summary).toMatch(
      /^The serving certificate of the API server of pay-eu1 expires in (19|20) day\(s\)$/,
    );
    expect(warned.fired[0].description).toContain('CN=kube-apiserver');

    // Renewed on the cluster: the next probe sees the new one.
    await probe('pay-eu1', serving(365));
    const renewed = await evaluator.evaluate(new Date(now + 1000));
    expect(renewed.resolved.map(a => a.alertname)).toEqual([
      'KmpServingCertificateExpiring',
    ]);
  });

  describe('GitOps', () => {
    const buildFailed = {
      engine: 'flux' as const,
      kind: 'Kustomization',
      namespace: 'flux-system',
      name: 'infrastructure',
      state: 'failed' as const,
      reason: 'BuildFailed',
      message:
        "kustomize build failed: accumulating resources from 'ingress-nginx'",
      since: '2026-12-06T11:50:00.000Z',
    };
    const degraded = {
      engine: 'argocd' as const,
      kind: 'Application',
      namespace: 'argocd',
      name: 'payments',
      state: 'failed' as const,
      reason: 'Degraded',
    };
    const outOfSync = {
      engine: 'argocd' as const,
      kind: 'Application',
      namespace: 'argocd',
      name: 'search',
      state: 'out-of-sync' as const,
      reason: 'OutOfSync',
    };
    const gitops = (
      failing: Array<typeof buildFailed | typeof degraded>,
      drifting: Array<typeof outOfSync> = [],
    ): ProbeResult => ({
      ...healthy,
      gitops: {
        objects: 5,
        failingCount: failing.length,
        outOfSyncCount: drifting.length,
        failing,
        outOfSync: drifting,
      },
    });

    it('raises a failing Kustomization after forSeconds, keeps it while GitOps cannot be listed, and resolves when it is ready', async () => {
      const { alerts, evaluator, register, probe, clusters } = await setup(
        databaseId,
        { gitopsReconciliation: 600, gitopsDrift: 1800 },
      );
      await register('pay-eu1');
      await probe('pay-eu1', gitops([buildFailed]), at(0));
      expect((await clusters.get('pay-eu1'))?.status.gitops).toEqual({
        objects: 5,
        failingCount: 1,
        outOfSyncCount: 0,
        failing: [buildFailed],
        outOfSync: [],
        checkedAt: at(0).toISOString(),
      });

      expect((await evaluator.evaluate(at(0))).fired).toEqual([]);
      expect((await evaluator.evaluate(at(599))).fired).toEqual([]);
      // Pending: not listed, not sent.
      expect((await alerts.list({ limit: 10, offset: 0 })).items).toEqual([]);
      expect(await alerts.readAfter(0, 10)).toEqual([]);

      const { fired } = await evaluator.evaluate(at(600));
      expect(fired).toEqual([
        expect.objectContaining({
          fingerprint: alertFingerprint(
            'KmpGitOpsReconciliationFailing',
            'pay-eu1',
          ),
          alertname: 'KmpGitOpsReconciliationFailing',
          severity: 'high',
          status: 'firing',
          startsAt: at(0).toISOString(),
          summary: '1 GitOps object failing to reconcile on pay-eu1',
          labels: expect.objectContaining({
            cluster: 'pay-eu1',
            engine: 'flux',
          }),
        }),
      ]);
      expect(fired[0].description).toContain(
        "Kustomization flux-system/infrastructure: BuildFailed — kustomize build failed: accumulating resources from 'ingress-nginx'",
      );

      // A refresh that could not list the GitOps objects keeps the last
      // observation: the alert stays.
      await probe('pay-eu1', healthy, at(700));
      expect(await evaluator.evaluate(at(700))).toMatchObject({
        fired: [],
        resolved: [],
      });
      expect((await clusters.get('pay-eu1'))?.status.gitops?.checkedAt).toBe(
        at(0).toISOString(),
      );

      await probe('pay-eu1', gitops([]), at(800));
      const { resolved } = await evaluator.evaluate(at(800));
      expect(resolved).toEqual([
        expect.objectContaining({
          alertname: 'KmpGitOpsReconciliationFailing',
          status: 'resolved',
          endsAt: at(800).toISOString(),
        }),
      ]);
      expect((await alerts.readAfter(0, 10)).map(e => e.status)).toEqual([
        'firing',
        'resolved',
      ]);
    });

    it('raises prolonged Argo CD drift with its own forSeconds, names failing objects of both engines without an engine label, and skips unreachable clusters', async () => {
      const { evaluator, register, probe } = await setup(databaseId, {
        gitopsReconciliation: 600,
        gitopsDrift: 1800,
      });
      await register('pay-eu1');
      await register('pay-eu2');
      await probe('pay-eu1', gitops([degraded, buildFailed], [outOfSync]));
      await probe('pay-eu2', gitops([], [outOfSync]));

      expect((await evaluator.evaluate(at(0))).fired).toEqual([]);
      const failing = await evaluator.evaluate(at(600));
      expect(failing.fired).toEqual([
        expect.objectContaining({
          alertname: 'KmpGitOpsReconciliationFailing',
          cluster: 'pay-eu1',
          summary: '2 GitOps objects failing to reconcile on pay-eu1',
        }),
      ]);
      expect(failing.fired[0].labels).not.toHaveProperty('engine');
      expect(failing.fired[0].description).toContain(
        'Application argocd/payments: Degraded',
      );
      expect(failing.fired[0].description).toContain(
        'Kustomization flux-system/infrastructure: BuildFailed',
      );
      expect((await evaluator.evaluate(at(1799))).fired).toEqual([]);

      // pay-eu2 syncs before its drift was prolonged: never fires.
      await probe('pay-eu2', gitops([]));
      const drift = await evaluator.evaluate(at(1800));
      expect(drift.fired).toEqual([
        expect.objectContaining({
          alertname: 'KmpGitOpsOutOfSync',
          cluster: 'pay-eu1',
          severity: 'high',
          startsAt: at(0).toISOString(),
          summary: '1 Argo CD application out of sync on pay-eu1',
          labels: expect.objectContaining({ engine: 'argocd' }),
        }),
      ]);
      expect(drift.fired[0].description).toContain(
        'Application argocd/search: OutOfSync',
      );

      // Unreachable: the GitOps rules do not apply to what is stale.
      await probe('pay-eu1', { ok: false, error: 'x' });
      await probe('pay-eu1', { ok: false, error: 'x' });
      const down = await evaluator.evaluate(at(1900));
      expect(down.fired.map(a => a.alertname)).toEqual([
        'KmpClusterUnreachable',
      ]);
      expect(down.resolved.map(a => a.alertname).sort()).toEqual([
        'KmpGitOpsOutOfSync',
        'KmpGitOpsReconciliationFailing',
      ]);
    });
  });

  describe('node problems', () => {
    const fine: Omit<ClusterNodeProblems, 'checkedAt'> = {
      pressure: [],
      pressureCount: 0,
      unschedulable: [],
      unschedulableCount: 0,
      networkUnavailable: [],
      networkUnavailableCount: 0,
    };
    /** A healthy probe whose nodes have these problems (all named). */
    const nodes = (
      problems: Partial<
        Pick<
          ClusterNodeProblems,
          'pressure' | 'unschedulable' | 'networkUnavailable'
        >
      >,
    ): ProbeResult => ({
      ...healthy,
      nodeProblems: {
        ...fine,
        ...problems,
        pressureCount: problems.pressure?.length ?? 0,
        unschedulableCount: problems.unschedulable?.length ?? 0,
        networkUnavailableCount: problems.networkUnavailable?.length ?? 0,
      },
    });
    const troubled = nodes({
      pressure: [
        { node: 'worker-1', conditions: ['MemoryPressure', 'DiskPressure'] },
        { node: 'worker-2', conditions: ['PIDPressure'] },
      ],
      unschedulable: ['worker-3'],
      networkUnavailable: ['edge-7'],
    });

    it('raises each node rule after its own forSeconds, names the nodes, and resolves when a later refresh shows them fine', async () => {
      const { alerts, evaluator, register, probe, clusters } = await setup(
        databaseId,
        {
          nodePressure: 600,
          nodesUnschedulable: 3600,
          nodeNetworkUnavailable: 300,
        },
      );
      await register('pay-eu1');
      await probe('pay-eu1', troubled, at(0));
      expect((await clusters.get('pay-eu1'))?.status.nodeProblems).toEqual({
        pressure: [
          { node: 'worker-1', conditions: ['MemoryPressure', 'DiskPressure'] },
          { node: 'worker-2', conditions: ['PIDPressure'] },
        ],
        pressureCount: 2,
        unschedulable: ['worker-3'],
        unschedulableCount: 1,
        networkUnavailable: ['edge-7'],
        networkUnavailableCount: 1,
        checkedAt: at(0).toISOString(),
      });

      expect((await evaluator.evaluate(at(0))).fired).toEqual([]);
      expect((await evaluator.evaluate(at(299))).fired).toEqual([]);
      // Pending: not listed, not sent.
      expect((await alerts.list({ limit: 10, offset: 0 })).items).toEqual([]);
      expect(await alerts.readAfter(0, 10)).toEqual([]);

      const cni = await evaluator.evaluate(at(300));
      expect(cni.fired).toEqual([
        expect.objectContaining({
          fingerprint: alertFingerprint('KmpNodeNetworkUnavailable', 'pay-eu1'),
          alertname: 'KmpNodeNetworkUnavailable',
          severity: 'critical',
          status: 'firing',
          startsAt: at(0).toISOString(),
          summary: 'Network unavailable on 1 node of pay-eu1',
          labels: expect.objectContaining({
            cluster: 'pay-eu1',
            environment: 'production',
          }),
        }),
      ]);
      expect(cni.fired[0].description).toContain('NetworkUnavailable');
      expect(cni.fired[0].description).toContain(': edge-7.');

      expect((await evaluator.evaluate(at(599))).fired).toEqual([]);
      const pressure = await evaluator.evaluate(at(600));
      expect(pressure.fired).toEqual([
        expect.objectContaining({
          alertname: 'KmpNodePressure',
          severity: 'high',
          startsAt: at(0).toISOString(),
          summary: '2 nodes of pay-eu1 under resource pressure',
        }),
      ]);
      expect(pressure.fired[0].description).toContain(
        'worker-1 (MemoryPressure, DiskPressure), worker-2 (PIDPressure)',
      );

      // A cordon for maintenance is normal for a while.
      expect((await evaluator.evaluate(at(3599))).fired).toEqual([]);
      const cordon = await evaluator.evaluate(at(3600));
      expect(cordon.fired).toEqual([
        expect.objectContaining({
          alertname: 'KmpNodesUnschedulable',
          severity: 'high',
          startsAt: at(0).toISOString(),
          summary: '1 node of pay-eu1 cordoned',
        }),
      ]);
      expect(cordon.fired[0].description).toContain(
        'marked unschedulable (checked 2026-12-06T12:00:00.000Z): worker-3.',
      );

      // A refresh without a node summary keeps the last observation.
      await probe('pay-eu1', healthy, at(3650));
      expect(await evaluator.evaluate(at(3650))).toMatchObject({
        fired: [],
        resolved: [],
      });

      // Only the cordon is lifted: only its alert resolves.
      await probe(
        'pay-eu1',
        nodes({
          pressure: [{ node: 'worker-2', conditions: ['PIDPressure'] }],
          networkUnavailable: ['edge-7'],
        }),
        at(3700),
      );
      const uncordoned = await evaluator.evaluate(at(3700));
      expect(uncordoned.fired).toEqual([]);
      expect(uncordoned.resolved).toEqual([
        expect.objectContaining({
          alertname: 'KmpNodesUnschedulable',
          status: 'resolved',
          endsAt: at(3700).toISOString(),
        }),
      ]);

      await probe('pay-eu1', nodes({}), at(3800));
      const recovered = await evaluator.evaluate(at(3800));
      expect(recovered.resolved.map(a => a.alertname).sort()).toEqual([
        'KmpNodeNetworkUnavailable',
        'KmpNodePressure',
      ]);
      expect(
        (await alerts.list({ limit: 10, offset: 0, status: ['firing'] })).items,
      ).toEqual([]);
      expect((await alerts.readAfter(0, 20)).map(e => e.status)).toEqual([
        'firing',
        'firing',
        'firing',
        'resolved',
        'resolved',
        'resolved',
      ]);
    });

    it('drops a cordon lifted before forSeconds, counts nodes beyond those named, and skips unreachable clusters', async () => {
      const { evaluator, register, probe } = await setup(databaseId, {
        nodePressure: 600,
        nodesUnschedulable: 3600,
        nodeNetworkUnavailable: 300,
      });
      await register('pay-eu1');
      await register('pay-eu2');
      const names = Array.from({ length: 50 }, (_, i) => `node-${i}`);
      await probe(
        'pay-eu1',
        {
          ...healthy,
          nodeProblems: {
            ...fine,
            networkUnavailable: names,
            networkUnavailableCount: 75,
          },
        },
        at(0),
      );
      await probe('pay-eu2', nodes({ unschedulable: ['worker-3'] }), at(0));
      expect((await evaluator.evaluate(at(0))).fired).toEqual([]);

      // pay-eu2 is uncordoned after its maintenance: never fires.
      await probe('pay-eu2', nodes({}), at(1800));
      const { fired } = await evaluator.evaluate(at(3600));
      expect(fired).toEqual([
        expect.objectContaining({
          alertname: 'KmpNodeNetworkUnavailable',
          cluster: 'pay-eu1',
          summary: 'Network unavailable on 75 nodes of pay-eu1',
        }),
      ]);
      expect(fired[0].description).toContain('node-18, node-19 and 55 more. ');
      expect(fired[0].description).not.toContain('node-20');

      // Unreachable: the node rules do not apply to what is stale.
      await probe('pay-eu1', { ok: false, error: 'x' });
      await probe('pay-eu1', { ok: false, error: 'x' });
      const down = await evaluator.evaluate(at(3700));
      expect(down.fired.map(a => a.alertname)).toEqual([
        'KmpClusterUnreachable',
      ]);
      expect(down.resolved.map(a => a.alertname)).toEqual([
        'KmpNodeNetworkUnavailable',
      ]);
    });

    it('raises nothing for a disabled node rule', async () => {
      const { alerts, clusters, policies, register, probe } = await setup(
        databaseId,
      );
      const evaluator = AlertEvaluator.create({
        alerts,
        clusters,
        policies,
        rules: {
          ...rules(),
          nodePressure: { enabled: false, forSeconds: 0 },
          nodesUnschedulable: { enabled: false, forSeconds: 0 },
        },
        logger: mockServices.logger.mock(),
      });
      await register('pay-eu1');
      await probe('pay-eu1', troubled, at(0));
      const { fired } = await evaluator.evaluate(at(10));
      expect(fired.map(a => a.alertname)).toEqual([
        'KmpNodeNetworkUnavailable',
      ]);
    });
  });

  it('lists with filters, paging and the caller\u2019s cluster criteria, and counts open alerts per cluster', async () => {
    const { alerts, evaluator, register, probe } = await setup(databaseId);
    for (const [name, group] of [
      ['a-prod', 'payments-prod'],
      ['b-prod', 'payments-prod'],
      ['c-edge', 'retail-edge'],
    ]) {
      await register(name, { environmentGroup: group });
      await probe(name, {
        ...healthy,
        controlPlaneHealthy: false,
        nodesReady: 2,
      });
    }
    await evaluator.evaluate(at(0));
    await probe('b-prod', { ...healthy, nodesReady: 2 });
    await evaluator.evaluate(at(10));

    const all = await alerts.list({ limit: 100, offset: 0 });
    expect(all.totalCount).toBe(6);
    // Firing first, resolved last.
    expect(all.items.map(a => a.status)).toEqual([
      'firing',
      'firing',
      'firing',
      'firing',
      'firing',
      'resolved',
    ]);

    const page = await alerts.list({ limit: 2, offset: 2 });
    expect(page.totalCount).toBe(6);
    expect(page.items).toHaveLength(2);
    expect(page.items).toEqual(all.items.slice(2, 4));

    expect(
      (
        await alerts.list({
          status: ['firing'],
          severity: ['high'],
          limit: 100,
          offset: 0,
        })
      ).items.map(a => a.cluster),
    ).toEqual(expect.arrayContaining(['a-prod', 'b-prod', 'c-edge']));
    expect(
      (await alerts.list({ cluster: ['b-prod'], limit: 100, offset: 0 })).items
        .map(a => `${a.alertname}:${a.status}`)
        .sort(),
    ).toEqual(['KmpControlPlaneUnhealthy:resolved', 'KmpNodesNotReady:firing']);

    const criteria = {
      column: 'environment_group' as const,
      values: ['retail-edge'],
    };
    const scoped = await alerts.list({ criteria, limit: 100, offset: 0 });
    expect(scoped.totalCount).toBe(2);
    expect(new Set(scoped.items.map(a => a.cluster))).toEqual(
      new Set(['c-edge']),
    );

    expect(await alerts.summary({})).toEqual({
      firing: 5,
      bySeverity: { critical: 2, high: 3 },
      clusters: [
        { cluster: 'a-prod', firing: 2, bySeverity: { critical: 1, high: 1 } },
        { cluster: 'b-prod', firing: 1, bySeverity: { high: 1 } },
        { cluster: 'c-edge', firing: 2, bySeverity: { critical: 1, high: 1 } },
      ],
    });
    expect(
      await alerts.summary({ criteria, clusters: ['c-edge', 'a-prod'] }),
    ).toMatchObject({ firing: 2, clusters: [{ cluster: 'c-edge' }] });
  });
});
