import { mockServices, TestDatabases } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import net from 'node:net';
import { prepareAuditEvent } from '../AuditStore';
import { createAuditDb, makeEvent } from '../__testUtils__/auditTestUtils';
import {
  expectInOrderAtLeastOnce,
  startHttpReceiver,
} from '../__testUtils__/receivers';
import { AuditSinkRunner, backoffDelay } from './AuditSinkRunner';
import { createHttpSink } from './httpSink';
import { SinkCursorStore } from './SinkCursorStore';
import { createSyslogSink } from './syslogSink';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });

async function until(condition: () => Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise(r => setTimeout(r, 20));
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(r => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise(r => server.close(r));
  return port;
}

async function setup(count: number) {
  const { db, store, writer } = await createAuditDb(databases, 'SQLITE_3');
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      writer.append(prepareAuditEvent(makeEvent(i))),
    ),
  );
  const cursors = SinkCursorStore.create({ db });
  const runnerFor = async (name: string, sink: any, extra = {}) => {
    await cursors.ensure(name, 'http', 0);
    return AuditSinkRunner.create({
      name,
      kind: 'http',
      sink,
      store,
      cursors,
      logger: mockServices.logger.mock(),
      instanceId: 'instance-a',
      batchSize: 10,
      timeoutMs: 500,
      minBackoffMs: 10,
      maxBackoffMs: 80,
      pollIntervalMs: 20,
      onAppended: l => writer.onAppended(l),
      ...extra,
    });
  };
  return { db, store, writer, cursors, runnerFor };
}

describe('backoffDelay', () => {
  it('doubles up to the maximum, with jitter in the upper half', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 1)).toBe(100);
    expect(backoffDelay(4, 100, 10_000, () => 1)).toBe(800);
    expect(backoffDelay(30, 100, 10_000, () => 0.5)).toBe(7500);
  });
});

describe('sink faults', () => {
  it('retries 5xx answers, reports a 4xx as failing but keeps retrying, and delivers everything once the receiver heals', async () => {
    let mode: 'ok' | '503' | '400' = '503';
    const receiver = await startHttpReceiver({
      status: () => (mode === 'ok' ? 200 : Number(mode)),
    });
    try {
      const { cursors, runnerFor } = await setup(50);
      const runner = await runnerFor(
        'siem',
        createHttpSink(
          new ConfigReader({ url: `http://127.0.0.1:${receiver.port}/` }),
        ),
        { failingAfter: 100 },
      );
      const controller = new AbortController();
      const running = runner.run(controller.signal);

      await until(
        async () => (await cursors.get('siem'))!.consecutiveFailures >= 2,
      );
      expect(await cursors.get('siem')).toMatchObject({
        state: 'retrying',
        cursor: 0,
      });
      expect((await cursors.get('siem'))!.lastError).toContain('HTTP 503');

      mode = '400';
      await until(
        async () =>
          (await cursors.get('siem'))!.lastError?.includes('HTTP 400') ?? false,
      );
      expect(await cursors.get('siem')).toMatchObject({
        state: 'failing',
        cursor: 0,
      });
      const requestsWhileFailing = receiver.requests;
      await until(async () => receiver.requests > requestsWhileFailing + 1);

      mode = 'ok';
      await until(async () => (await cursors.get('siem'))!.cursor === 50);
      controller.abort();
      await running;
      expect(await cursors.get('siem')).toMatchObject({
        state: 'healthy',
        consecutiveFailures: 0,
        deliveredCount: 50,
      });
      expect(receiver.seqs).toEqual(
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    } finally {
      await receiver.close();
    }
  });

  it('times out a receiver that never answers, and retries', async () => {
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer(s => sockets.push(s));
    await new Promise<void>(r => blackHole.listen(0, '127.0.0.1', () => r()));
    const port = (blackHole.address() as net.AddressInfo).port;
    try {
      const { cursors, runnerFor } = await setup(5);
      const runner = await runnerFor(
        'slow',
        createSyslogSink(
          new ConfigReader({ host: '127.0.0.1', port, timeoutMs: 200 }),
        ),
      );
      const controller = new AbortController();
      const running = runner.run(controller.signal);
      await until(
        async () => (await cursors.get('slow'))!.consecutiveFailures >= 2,
      );
      controller.abort();
      await running;
      const status = await cursors.get('slow');
      expect(status).toMatchObject({ cursor: 0, state: 'retrying' });
      expect(status!.lastError).toMatch(/within 200 ms|timed out/);
    } finally {
      sockets.forEach(s => s.destroy());
      await new Promise(r => blackHole.close(r));
    }
  });

  it('a sink that is down blocks neither appends nor the other sinks', async () => {
    const receiver = await startHttpReceiver();
    try {
      const { cursors, runnerFor, writer } = await setup(0);
      const good = await runnerFor(
        'good',
        createHttpSink(
          new ConfigReader({ url: `http://127.0.0.1:${receiver.port}/` }),
        ),
      );
      const down = await runnerFor(
        'down',
        createHttpSink(
          new ConfigReader({ url: `http://127.0.0.1:${await freePort()}/` }),
        ),
      );
      const controller = new AbortController();
      const running = [
        good.run(controller.signal),
        down.run(controller.signal),
      ];

      const started = Date.now();
      for (let i = 0; i < 10; i++) {
        await Promise.all(
          Array.from({ length: 100 }, (_, j) =>
            writer.append(prepareAuditEvent(makeEvent(i * 100 + j))),
          ),
        );
      }
      expect(Date.now() - started).toBeLessThan(5000);

      await until(async () => (await cursors.get('good'))!.cursor === 1000);
      controller.abort();
      await Promise.all(running);
      expectInOrderAtLeastOnce(receiver.seqs, 1000);
      const downStatus = await cursors.get('down');
      expect(downStatus).toMatchObject({ cursor: 0 });
      expect(['retrying', 'failing']).toContain(downStatus!.state);
      expect(downStatus!.lastError).toMatch(/ECONNREFUSED/);
    } finally {
      await receiver.close();
    }
  });

  it('delivers from one instance at a time, and another takes over when its lease lapses', async () => {
    const receiver = await startHttpReceiver();
    try {
      const { cursors, runnerFor, writer } = await setup(200);
      const sink = createHttpSink(
        new ConfigReader({ url: `http://127.0.0.1:${receiver.port}/` }),
      );
      const a = await runnerFor('siem', sink, {
        instanceId: 'a',
        leaseMs: 300,
      });
      const b = await runnerFor('siem', sink, {
        instanceId: 'b',
        leaseMs: 300,
      });
      const controllerA = new AbortController();
      const controllerB = new AbortController();
      const runningA = a.run(controllerA.signal);
      await until(async () => (await cursors.get('siem'))!.leaseOwner === 'a');
      const runningB = b.run(controllerB.signal);
      await until(async () => (await cursors.get('siem'))!.cursor === 200);
      expect((await cursors.get('siem'))!.leaseOwner).toBe('a');

      controllerA.abort();
      await runningA;
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          writer.append(prepareAuditEvent(makeEvent(500 + i))),
        ),
      );
      await until(async () => (await cursors.get('siem'))!.cursor === 300);
      expect((await cursors.get('siem'))!.leaseOwner).toBe('b');
      controllerB.abort();
      await runningB;
      expectInOrderAtLeastOnce(receiver.seqs, 300);
    } finally {
      await receiver.close();
    }
  });
});
