import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { Knex } from 'knex';
import { startHttpReceiver } from '../audit/__testUtils__/receivers';
import { AuditSinkRunner } from '../audit/sinks/AuditSinkRunner';
import { SinkCursorStore } from '../audit/sinks/SinkCursorStore';
import { AlertCondition, AlertEvent, AlertStore } from './AlertStore';
import { AlertReceiverConfig } from './config';
import {
  createAlertReceiver,
  ReceiverUrlPolicy,
  toAlertmanagerWebhook,
  toPagerDutyEvent,
} from './receivers';
import { ALERT_RECEIVER_CURSORS } from './setupAlerts';
import { migratedDatabase } from '../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create();

const links = {
  externalUrl: 'https://portal.example.com',
  clusterAlertsUrl: (cluster: string) =>
    `https://portal.example.com/api/kmp/clusters/${cluster}/alerts`,
};

const condition = (
  cluster: string,
  alertname = 'KmpClusterUnreachable',
): AlertCondition => ({
  cluster,
  alertname,
  severity: 'critical',
  summary: `Cluster ${cluster} is unreachable from KMP`,
  description: 'no answer',
  labels: { environment: 'production', source: 'kmp' },
  forSeconds: 0,
});

const receiverConfig = (
  url: string,
  patch: Partial<AlertReceiverConfig> = {},
): AlertReceiverConfig => ({
  name: 'alertmanager',
  type: 'alertmanager-webhook',
  url,
  batchSize: 2,
  timeoutMs: 2000,
  minBackoffMs: 20,
  maxBackoffMs: 200,
  ...patch,
});

const loopbackPolicy = ReceiverUrlPolicy.fromConfig({
  allowedReceiverHosts: ['127.0.0.1'],
  allowInsecureHttp: true,
});

async function until(done: () => boolean, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 20));
  }
}

type Webhook = ReturnType<typeof toAlertmanagerWebhook>;

describe.each(databases.eachSupportedId())(
  'alert forwarding on %s',
  databaseId => {
    let db: Knex;
    beforeEach(async () => {
      db = await migratedDatabase(databases, databaseId);
    });

    it('delivers every transition queued while the receiver was down once it is back, in order, once', async () => {
      const store = AlertStore.create({ db });
      const cursors = SinkCursorStore.create({
        db,
        table: ALERT_RECEIVER_CURSORS,
      });
      const webhooks: Webhook[] = [];
      const headers: Array<string | undefined> = [];
      const receiver = await startHttpReceiver({
        parse: () => [],
        onRequest: ({ body, headers: h }) => {
          webhooks.push(JSON.parse(body));
          headers.push(h.authorization);
        },
      });
      await receiver.kill();

      const logger = mockServices.logger.mock();
      const secret = 'Bearer am-secret-token';
      const sink = await createAlertReceiver(
        receiverConfig(`http://127.0.0.1:${receiver.port}/api/v2/webhook`, {
          headers: { Authorization: secret },
        }),
        { index: 0, policy: loopbackPolicy, links },
      );
      await cursors.ensure('alertmanager', sink.type, await store.head());
      const runner = AuditSinkRunner.create<AlertEvent>({
        name: 'alertmanager',
        kind: sink.type,
        label: 'Alert receiver',
        sink,
        store,
        cursors,
        logger,
        instanceId: 'instance-a',
        batchSize: 2,
        timeoutMs: 2000,
        minBackoffMs: 20,
        maxBackoffMs: 200,
        pollIntervalMs: 20,
      });
      const controller = new AbortController();
      const running = runner.run(controller.signal);
      try {
        // Three transitions while the receiver is down.
        await store.reconcile([condition('a'), condition('b')]);
        await store.reconcile([condition('b')]);
        await until(() => logger.warn.mock.calls.length > 0);
        const failing = await cursors.get('alertmanager');
        expect(failing?.state).toMatch(/retrying|failing/);
        expect(failing?.lastError).toContain('POST http://127.0.0.1');

        await receiver.restart();
        await until(() => webhooks.flatMap(w => w.alerts).length >= 3);
        // Let any duplicate show up before counting.
        await new Promise(r => setTimeout(r, 300));
      } finally {
        controller.abort();
        await running;
        await sink.close();
        await receiver.close();
      }

      const alerts = webhooks.flatMap(w => w.alerts);
      expect(alerts.map(a => `${a.labels.cluster}:${a.status}`)).toEqual([
        'a:firing',
        'b:firing',
        'a:resolved',
      ]);
      // Batches of two: the first notification carries both firing alerts.
      expect(webhooks[0]).toMatchObject({
        version: '4',
        status: 'firing',
        receiver: 'alertmanager',
        groupLabels: { alertname: 'KmpClusterUnreachable' },
        commonLabels: {
          alertname: 'KmpClusterUnreachable',
          severity: 'critical',
          source: 'kmp',
        },
        externalURL: 'https://portal.example.com',
        truncatedAlerts: 0,
      });
      expect(webhooks[0].groupKey).toBe(
        '{}:{alertname="KmpClusterUnreachable"}',
      );
      expect(alerts[0]).toMatchObject({
        annotations: {
          summary: 'Cluster a is unreachable from KMP',
          description: 'no answer',
        },
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'https://portal.example.com/api/kmp/clusters/a/alerts',
      });
      expect(alerts[2].fingerprint).toBe(alerts[0].fingerprint);
      expect(Date.parse(alerts[2].endsAt)).toBeGreaterThanOrEqual(
        Date.parse(alerts[2].startsAt),
      );
      expect(webhooks[webhooks.length - 1]).toMatchObject({
        status: 'resolved',
        groupKey: '{}:{alertname="KmpClusterUnreachable", cluster="a"}',
      });
      // The header reached the receiver and no log line.
      expect(headers.every(h => h === secret)).toBe(true);
      const logged = JSON.stringify([
        ...logger.warn.mock.calls,
        ...logger.info.mock.calls,
        ...logger.debug.mock.calls,
      ]);
      expect(logged).not.toContain('am-secret-token');
      expect(await cursors.get('alertmanager')).toMatchObject({
        state: 'healthy',
        cursor: await store.head(),
        deliveredCount: 3,
      });
    });

    it('retries a batch the receiver answered with 503 and never skips it', async () => {
      const store = AlertStore.create({ db });
      const cursors = SinkCursorStore.create({
        db,
        table: ALERT_RECEIVER_CURSORS,
      });
      const statuses: number[] = [];
      const receiver = await startHttpReceiver({
        parse: body =>
          (JSON.parse(body) as Webhook).alerts.map(a =>
            a.status === 'firing' ? 1 : 2,
          ),
        status: n => {
          const status = n <= 2 ? 503 : 200;
          statuses.push(status);
          return status;
        },
      });
      const sink = await createAlertReceiver(
        receiverConfig(`http://127.0.0.1:${receiver.port}/hook`, {
          batchSize: 10,
        }),
        { index: 0, policy: loopbackPolicy, links },
      );
      await cursors.ensure('alertmanager', sink.type, 0);
      const runner = AuditSinkRunner.create<AlertEvent>({
        name: 'alertmanager',
        kind: sink.type,
        sink,
        store,
        cursors,
        logger: mockServices.logger.mock(),
        instanceId: 'instance-a',
        batchSize: 10,
        timeoutMs: 2000,
        minBackoffMs: 20,
        maxBackoffMs: 100,
        pollIntervalMs: 20,
      });
      await store.reconcile([condition('a')]);
      await store.reconcile([]);
      const controller = new AbortController();
      const running = runner.run(controller.signal);
      try {
        await until(() => receiver.seqs.length >= 2);
        await new Promise(r => setTimeout(r, 200));
      } finally {
        controller.abort();
        await running;
        await sink.close();
        await receiver.close();
      }
      expect(statuses).toEqual([503, 503, 200]);
      // firing then resolved, delivered by the one accepted request.
      expect(receiver.seqs).toEqual([1, 2]);
    });
  },
);

describe('alert receivers', () => {
  it('refuses receiver URLs to internal addresses unless allow-listed, and plain http unless allowed', async () => {
    const strict = ReceiverUrlPolicy.fromConfig({
      allowedReceiverHosts: [],
      allowInsecureHttp: false,
    });
    const create = (url: string, policy = strict) =>
      createAlertReceiver(receiverConfig(url), { index: 3, policy, links });
    await expect(create('https://169.254.169.254/hook')).rejects.toThrow(
      "kmp.alerts.receivers[3].url 'https://169.254.169.254/hook' is refused: 169.254.169.254 is a link-local address (this includes cloud metadata endpoints); allow it with kmp.alerts.allowedReceiverHosts",
    );
    await expect(create('https://10.1.2.3/hook')).rejects.toThrow(
      /private-network address; allow it with kmp\.alerts\.allowedReceiverHosts/,
    );
    await expect(create('http://127.0.0.1:9093/hook')).rejects.toThrow(
      'kmp.alerts.receivers[3].url must use https; plain http needs kmp.alerts.allowInsecureHttp and the host in kmp.alerts.allowedReceiverHosts',
    );
    await expect(
      create('https://user:pw@alerts.example.com/hook'),
    ).rejects.toThrow('must not carry credentials');

    const allowed = ReceiverUrlPolicy.fromConfig({
      allowedReceiverHosts: ['10.0.0.0/8'],
      allowInsecureHttp: false,
    });
    const receiver = await create('https://10.1.2.3/hook', allowed);
    await receiver.close();
  });

  it('maps transitions to PagerDuty Events v2 trigger and resolve events deduplicated by fingerprint', () => {
    const alert = {
      fingerprint: '0123456789abcdef',
      cluster: 'pay-eu1',
      alertname: 'KmpControlPlaneUnhealthy',
      severity: 'high' as const,
      status: 'firing' as const,
      summary: 'Control plane of pay-eu1 reports not ready',
      description: 'readyz fails',
      labels: { environment_group: 'payments-prod' },
      startsAt: '2026-12-06T12:00:00.000Z',
    };
    const trigger = toPagerDutyEvent(
      { seq: 1, status: 'firing', alert, createdAt: alert.startsAt },
      { routingKey: 'rk', links },
    );
    expect(trigger).toMatchObject({
      routing_key: 'rk',
      event_action: 'trigger',
      dedup_key: '0123456789abcdef',
      payload: {
        summary: alert.summary,
        source: 'pay-eu1',
        severity: 'error',
        class: 'KmpControlPlaneUnhealthy',
        group: 'payments-prod',
      },
    });
    expect(
      toPagerDutyEvent(
        {
          seq: 2,
          status: 'resolved',
          alert: { ...alert, status: 'resolved' },
          createdAt: alert.startsAt,
        },
        { routingKey: 'rk', links },
      ),
    ).toEqual({
      routing_key: 'rk',
      event_action: 'resolve',
      dedup_key: '0123456789abcdef',
    });
  });
});
