import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { KmpAuditSink } from '@kmp/plugin-kmp-node';
import { prepareAuditEvent } from '../AuditStore';
import {
  createAuditDb,
  DatabaseId,
  makeEvent,
} from '../__testUtils__/auditTestUtils';
import {
  expectInOrderAtLeastOnce,
  Receiver,
  selfSignedCertificate,
  startHttpReceiver,
  startSyslogReceiver,
} from '../__testUtils__/receivers';
import { AuditSinkRunner } from './AuditSinkRunner';
import { createHttpSink } from './httpSink';
import { SinkCursorStore } from './SinkCursorStore';
import { createSyslogSink } from './syslogSink';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3', 'POSTGRES_15'] });
const TOTAL = 10_000;

async function until(condition: () => Promise<boolean> | boolean, ms = 40_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 20));
  }
}

/**
 * Streams TOTAL events, appended while delivery runs, to a real receiver,
 * kills the receiver when it has seen about a third of them, restarts it a
 * little later, and checks that every event arrived in order.
 */
async function streamThroughCrash(
  receiver: Receiver,
  sink: KmpAuditSink,
  databaseId: DatabaseId = 'SQLITE_3',
) {
  const { db, store, writer } = await createAuditDb(databases, databaseId);
  const cursors = SinkCursorStore.create({ db });
  await cursors.ensure('siem', 'test', 0);
  const runner = AuditSinkRunner.create({
    name: 'siem',
    kind: 'test',
    sink,
    store,
    cursors,
    logger: mockServices.logger.mock(),
    instanceId: 'instance-a',
    batchSize: 250,
    timeoutMs: 3000,
    minBackoffMs: 20,
    maxBackoffMs: 200,
    pollIntervalMs: 50,
    onAppended: listener => writer.onAppended(listener),
  });
  const controller = new AbortController();
  const running = runner.run(controller.signal);

  let killed = false;
  let restarted: Promise<void> | undefined;
  const watchdog = setInterval(() => {
    if (!killed && receiver.seqs.length >= TOTAL / 3) {
      killed = true;
      restarted = receiver
        .kill()
        .then(() => new Promise(r => setTimeout(r, 400)))
        .then(() => receiver.restart());
    }
  }, 1);

  try {
    for (let chunk = 0; chunk < 10; chunk++) {
      await Promise.all(
        Array.from({ length: TOTAL / 10 }, (_, i) =>
          writer.append(prepareAuditEvent(makeEvent(chunk * 1000 + i))),
        ),
      );
      await new Promise(r => setTimeout(r, 30));
    }
    await until(async () => (await cursors.get('siem'))!.cursor === TOTAL);
  } finally {
    clearInterval(watchdog);
    controller.abort();
    await running;
    await restarted;
  }

  expect(killed).toBe(true);
  expectInOrderAtLeastOnce(receiver.seqs, TOTAL);
  const status = await cursors.get('siem');
  expect(status).toMatchObject({ cursor: TOTAL, state: 'healthy' });
  return status!;
}

describe('streaming audit events to real receivers', () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it.each(databases.eachSupportedId())(
    'HTTP (generic JSON) from %s: 10,000 events in order, through a receiver crash',
    async databaseId => {
      const http = await startHttpReceiver();
      receiver = http;
      const sink = createHttpSink(
        new ConfigReader({
          url: `http://127.0.0.1:${http.port}/ingest`,
          timeoutMs: 2000,
        }),
      );
      expect(
        (await streamThroughCrash(http, sink, databaseId)).deliveredCount,
      ).toBeGreaterThanOrEqual(TOTAL);
      await sink.close?.();
    },
  );

  it('syslog over TCP (RFC 5424, CEF): 10,000 events in order, through a receiver crash', async () => {
    const syslog = await startSyslogReceiver({});
    receiver = syslog;
    const sink = createSyslogSink(
      new ConfigReader({
        host: '127.0.0.1',
        port: syslog.port,
        timeoutMs: 2000,
      }),
    );
    await streamThroughCrash(syslog, sink);
    expect(syslog.messages[0]).toMatch(
      /^<108>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ kmp - audit - CEF:0\|KMP\|Kubernetes Management Platform\|1\|/,
    );
  });

  it('syslog over TLS: 10,000 events in order, through a receiver crash', async () => {
    const certificate = selfSignedCertificate();
    const syslog = await startSyslogReceiver({ tls: certificate });
    receiver = syslog;
    const sink = createSyslogSink(
      new ConfigReader({
        host: '127.0.0.1',
        port: syslog.port,
        transport: 'tls',
        tls: { ca: certificate.cert },
        timeoutMs: 3000,
      }),
    );
    expect(
      (await streamThroughCrash(syslog, sink)).deliveredCount,
    ).toBeGreaterThanOrEqual(TOTAL);
  });

  it('a TLS receiver with a certificate the sink does not trust is reported as failing, and nothing is skipped', async () => {
    const syslog = await startSyslogReceiver({ tls: selfSignedCertificate() });
    receiver = syslog;
    const { db, store, writer } = await createAuditDb(databases, 'SQLITE_3');
    const cursors = SinkCursorStore.create({ db });
    await cursors.ensure('siem', 'syslog', 0);
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        writer.append(prepareAuditEvent(makeEvent(i))),
      ),
    );
    const runner = AuditSinkRunner.create({
      name: 'siem',
      kind: 'syslog',
      sink: createSyslogSink(
        new ConfigReader({
          host: '127.0.0.1',
          port: syslog.port,
          transport: 'tls',
        }),
      ),
      store,
      cursors,
      logger: mockServices.logger.mock(),
      instanceId: 'a',
      batchSize: 100,
      timeoutMs: 2000,
      minBackoffMs: 10,
      maxBackoffMs: 50,
    });
    const controller = new AbortController();
    const running = runner.run(controller.signal);
    await until(
      async () => (await cursors.get('siem'))!.consecutiveFailures >= 3,
    );
    controller.abort();
    await running;
    const status = await cursors.get('siem');
    expect(status).toMatchObject({ cursor: 0, state: 'failing' });
    expect(status!.lastError).toMatch(/certificate/);
    expect(syslog.seqs).toEqual([]);
  });
});
