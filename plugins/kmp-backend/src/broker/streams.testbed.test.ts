import {
  ensureBinary,
  FakeKubelet,
  KubeRest,
  useTestbed,
} from '@kmp/kube-testbed';
import {
  Exec,
  KubeConfig,
  Log,
  RbacAuthorizationV1Api,
  V1Status,
} from '@kubernetes/client-node';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import tls from 'node:tls';
import request from 'supertest';
import WebSocket from 'ws';
import {
  BrokerTestBackend,
  startBrokerBackend,
  userHeader,
} from './__testUtils__/brokerTestBackend';
import {
  kubectlRunner,
  KubectlResult,
  spawnKubectl,
  startTlsFront,
  until,
} from './__testUtils__/kubectl';

jest.setTimeout(180_000);

const testbed = useTestbed({
  clusters: ['st-dev'],
  fixtures: { core: true, crds: false },
});

const alice = userHeader('user:default/alice');
const reader = userHeader('user:default/reader');
const petra = userHeader('user:default/petra');
const NS = 'team-payments';
const POD = 'web-0';
const EXEC_PATH = `/api/v1/namespaces/${NS}/pods/${POD}/exec`;

describe('exec, attach, port-forward and logs through the broker', () => {
  let broker: BrokerTestBackend;
  let kubelet: FakeKubelet;
  let binary: string;
  let dir: string;
  let tlsFront: tls.Server;
  let kubectl: (
    file: string,
    args: string[],
    stdin?: string,
  ) => Promise<KubectlResult>;

  beforeAll(async () => {
    const dev = testbed().cluster('st-dev');
    binary = (await ensureBinary({ log: () => {} })).binary;
    kubectl = kubectlRunner(binary);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-streams-'));
    const front = await startTlsFront(binary, dir, () => broker.port);
    tlsFront = front.server;
    broker = await startBrokerBackend({
      kmp: { catalog: { brokerCertificateAuthority: front.caBase64 } },
      clusters: [
        {
          name: 'st-dev',
          cluster: dev,
          environmentGroup: 'apps-nonprod',
          auth: 'cert',
        },
        // The same API server registered a second time, as production.
        {
          name: 'st-prod',
          cluster: dev,
          environmentGroup: 'apps-prod',
          auth: 'token',
        },
      ],
      broker: { externalUrl: `https://127.0.0.1:${front.port}/api/kmp` },
    });
    // A tenant namespace of team-payments (developers act only there).
    const rest = new KubeRest(dev);
    await rest.request(
      'PATCH',
      `/api/v1/namespaces/${NS}`,
      { metadata: { labels: { 'kmp.backstage.io/team': 'team-payments' } } },
      'application/merge-patch+json',
    );
    rest.close();
    kubelet = await FakeKubelet.start(dev, { binary });
    await kubelet.createPod({
      namespace: NS,
      name: POD,
      containers: ['app', 'sidecar'],
    });
    const rbac = dev.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    for (const user of ['user:default/alice', 'user:default/reader']) {
      await rbac.createNamespacedRoleBinding({
        namespace: NS,
        body: {
          metadata: { name: user.replace(/[^a-z]/g, '-') },
          roleRef: {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'ClusterRole',
            name: 'edit',
          },
          subjects: [
            { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user },
          ],
        },
      });
    }
  });

  afterAll(async () => {
    await kubelet?.stop();
    tlsFront?.close();
    await broker?.backend.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Issues a KMP kubeconfig and writes it where kubectl can read it. */
  async function kubeconfigFor(caller: string, cluster = 'st-dev') {
    const response = await request(broker.server)
      .post(`/api/kmp/clusters/${cluster}/kubeconfig`)
      .set('Authorization', caller)
      .send({ namespace: NS });
    expect(response.status).toBe(201);
    const file = path.join(dir, `${response.body.id}.kubeconfig`);
    fs.writeFileSync(file, response.body.kubeconfig, { mode: 0o600 });
    return { file, token: response.body.token as string };
  }

  /**
   * The events of the newest request of a subresource, oldest first, once
   * it has its outcome (a stream is recorded again when it ends).
   */
  async function lastRequestOf(subresource: string) {
    let events: any[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      const page = await request(broker.server)
        .get('/api/kmp/audit/events?action=proxy.request&order=desc&limit=200')
        .set('Authorization', petra);
      expect(page.status).toBe(200);
      const mine = (page.body.items as any[]).filter(
        e => e.target?.resource?.subresource === subresource,
      );
      events = mine
        .filter(e => e.correlationId === mine[0]?.correlationId)
        .reverse();
      if (events.some(e => e.outcome !== 'pending')) break;
      await new Promise(r => setTimeout(r, 100));
    }
    return events;
  }

  /** The events of one request, once it has its outcome. */
  async function settledAuditOf(response: { headers: any }) {
    let events: any[] = [];
    for (let attempt = 0; attempt < 50; attempt++) {
      events = await broker.auditOf(response);
      if (events.some(e => e.outcome !== 'pending')) break;
      await new Promise(r => setTimeout(r, 100));
    }
    return events;
  }

  /** A client-node KubeConfig whose server is the broker (plain http). */
  function brokerKubeConfig(caller: string, cluster = 'st-dev') {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [
        {
          name: cluster,
          server: `http://127.0.0.1:${broker.port}/api/kmp/proxy/clusters/${cluster}`,
          // (plain http to the test backend: no TLS to verify)
          skipTLSVerify: true,
        },
      ],
      users: [{ name: 'u', token: caller.replace(/^Bearer /, '') }],
      contexts: [{ name: cluster, cluster, user: 'u' }],
      currentContext: cluster,
    });
    return kc;
  }

  describe('logs', () => {
    it('kubectl logs, --previous and --tail through a KMP kubeconfig', async () => {
      const { file } = await kubeconfigFor(alice);
      const logs = await kubectl(file, ['logs', POD, '-c', 'app']);
      expect(logs.stderr).toBe('');
      expect(logs.stdout).toBe(
        [1, 2, 3, 4, 5].map(i => `${NS}/${POD}/app line ${i}\n`).join(''),
      );
      const previous = await kubectl(file, [
        'logs',
        POD,
        '-c',
        'sidecar',
        '-p',
      ]);
      expect(previous.stdout).toBe(
        [1, 2, 3, 4, 5]
          .map(i => `${NS}/${POD}/sidecar previous line ${i}\n`)
          .join(''),
      );
      const tail = await kubectl(file, ['logs', POD, '-c', 'app', '--tail=1']);
      expect(tail.stdout).toBe(`${NS}/${POD}/app line 5\n`);

      // Long-running: recorded pending before forwarding, then the outcome.
      const events = await lastRequestOf('log');
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
      expect(events[1]).toMatchObject({
        actor: { ref: 'user:default/alice', type: 'human' },
        target: {
          cluster: 'st-dev',
          namespace: NS,
          resource: { resource: 'pods', subresource: 'log', name: POD },
        },
        request: { method: 'GET', verb: 'get' },
        response: { status: 200 },
      });
    });

    it('kubectl logs -f streams lines as they are written', async () => {
      const { file } = await kubeconfigFor(alice);
      const follow = spawnKubectl(binary, file, [
        'logs',
        '-f',
        POD,
        '-c',
        'app',
      ]);
      try {
        await until(
          () => follow.out.stdout.includes('app line 5\n'),
          () => follow.out.stdout + follow.out.stderr,
        );
        await until(
          () => kubelet.followerCount(NS, POD, 'app') === 1,
          () => 'no follower at the kubelet',
        );
        const started = Date.now();
        kubelet.appendLog(NS, POD, 'app', 'written while following');
        await until(
          () => follow.out.stdout.includes('written while following\n'),
          () => follow.out.stdout,
        );
        // Relayed at once, not when the stream ends.
        expect(Date.now() - started).toBeLessThan(2_000);
        kubelet.endLog(NS, POD, 'app');
        expect(await follow.exited).toBe(0);
      } finally {
        follow.child.kill();
      }
      const events = await lastRequestOf('log');
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
      expect(events[1].details).toMatchObject({ longRunning: true });
    });

    it("@kubernetes/client-node's Log follows through the broker with a Backstage token", async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', d => {
        text += d;
      });
      const abort = await new Log(brokerKubeConfig(alice)).log(
        NS,
        POD,
        'sidecar',
        out,
        { follow: true, tailLines: 2 },
      );
      await until(
        () => text.includes('sidecar line 5\n'),
        () => text,
      );
      expect(text).toBe(
        `${NS}/${POD}/sidecar line 4\n${NS}/${POD}/sidecar line 5\n`,
      );
      kubelet.appendLog(NS, POD, 'sidecar', 'client-node saw this');
      await until(
        () => text.includes('client-node saw this\n'),
        () => text,
      );
      abort.abort();
      // The client went away: the stream is recorded as a success.
      await until(
        () => kubelet.followerCount(NS, POD, 'sidecar') === 0,
        () => 'the kubelet stream stayed open',
      );
    });
  });

  describe('exec', () => {
    it('kubectl exec through a KMP kubeconfig: output, exit codes, stdin', async () => {
      const { file } = await kubeconfigFor(alice);
      const echo = await kubectl(file, [
        'exec',
        POD,
        '-c',
        'app',
        '--',
        'echo',
        'hello',
        'broker',
      ]);
      expect(echo).toEqual({ code: 0, stdout: 'hello broker\n', stderr: '' });

      const failed = await kubectl(file, [
        'exec',
        POD,
        '-c',
        'app',
        '--',
        'exit',
        '7',
      ]);
      expect(failed.code).toBe(7);
      expect(failed.stderr).toContain('command terminated with exit code 7');

      const cat = await kubectl(
        file,
        ['exec', '-i', POD, '-c', 'app', '--', 'cat'],
        'piped through\nthe broker\n',
      );
      expect(cat).toMatchObject({
        code: 0,
        stdout: 'piped through\nthe broker\n',
      });

      const events = await lastRequestOf('exec');
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
      expect(events[1]).toMatchObject({
        actor: { ref: 'user:default/alice', type: 'human' },
        decision: { result: 'allow' },
        target: {
          cluster: 'st-dev',
          namespace: NS,
          resource: { resource: 'pods', subresource: 'exec', name: POD },
        },
        request: { method: 'GET', verb: 'create' },
        response: { status: 101 },
        details: { access: 'write', longRunning: true },
      });
      expect(events[1].details.bytesIn).toBeGreaterThan(
        'piped through\nthe broker\n'.length,
      );
      expect(events[1].details.bytesOut).toBeGreaterThan(
        'piped through\nthe broker\n'.length,
      );
      expect(events[1].details.kubeconfigToken).toBeTruthy();
    });

    it("@kubernetes/client-node's Exec through the broker with a Backstage token", async () => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = '';
      let err = '';
      stdout.on('data', d => {
        out += d;
      });
      stderr.on('data', d => {
        err += d;
      });
      const status = await new Promise<V1Status>((resolve, reject) => {
        new Exec(brokerKubeConfig(alice))
          .exec(
            NS,
            POD,
            'app',
            ['echo-stderr', 'to', 'stderr'],
            stdout,
            stderr,
            null,
            false,
            resolve,
          )
          .catch(reject);
      });
      expect(status.status).toBe('Success');
      expect(err).toBe('to stderr\n');
      expect(out).toBe('');

      const failure = await new Promise<V1Status>((resolve, reject) => {
        new Exec(brokerKubeConfig(alice))
          .exec(NS, POD, 'app', ['false'], null, null, null, false, resolve)
          .catch(reject);
      });
      expect(failure).toMatchObject({
        status: 'Failure',
        reason: 'NonZeroExitCode',
        details: { causes: [{ reason: 'ExitCode', message: '1' }] },
      });
    });

    it('accepts the token as a base64url.bearer.authorization.k8s.io WebSocket protocol and strips it', async () => {
      const token = alice.replace(/^Bearer /, '');
      const ws = new WebSocket(
        `ws://127.0.0.1:${broker.port}/api/kmp/proxy/clusters/st-dev${EXEC_PATH}?container=app&command=hostname&stdout=true`,
        [
          'v5.channel.k8s.io',
          `base64url.bearer.authorization.k8s.io.${Buffer.from(token).toString(
            'base64url',
          )}`,
        ],
      );
      const frames: Buffer[] = [];
      ws.on('message', (data: Buffer) => frames.push(Buffer.from(data)));
      const auditId = await new Promise<string>((resolve, reject) => {
        ws.once('upgrade', response =>
          resolve(String(response.headers['kmp-audit-id'])),
        );
        ws.once('unexpected-response', (_req, res) =>
          reject(new Error(`unexpected ${res.statusCode}`)),
        );
        ws.once('error', reject);
      });
      await new Promise(resolve => ws.once('close', resolve));
      expect(ws.protocol).toBe('v5.channel.k8s.io');
      // Channel 1 is stdout, channel 3 the exit status.
      const stdout = frames
        .filter(f => f[0] === 1)
        .map(f => f.subarray(1).toString())
        .join('');
      expect(stdout).toBe(`${POD}\n`);
      const statusFrame = frames.find(f => f[0] === 3);
      expect(JSON.parse(statusFrame!.subarray(1).toString()).status).toBe(
        'Success',
      );

      const events = await settledAuditOf({
        headers: { 'kmp-audit-id': auditId },
      });
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
      expect(events[1].details.strippedHeaders).toEqual([
        'sec-websocket-protocol (base64url.bearer.authorization.k8s.io entry)',
      ]);
      expect(JSON.stringify(events)).not.toContain(token);
    });

    it('attaches over v5.channel.k8s.io: stdin in, stdout out, stdin closed by the v5 close signal', async () => {
      const ws = new WebSocket(
        `ws://127.0.0.1:${broker.port}/api/kmp/proxy/clusters/st-dev/api/v1/namespaces/${NS}/pods/${POD}/attach?container=app&stdin=true&stdout=true`,
        ['v5.channel.k8s.io'],
        { headers: { authorization: alice } },
      );
      let stdout = '';
      let status: any;
      ws.on('message', (data: Buffer) => {
        if (data[0] === 1) stdout += data.subarray(1).toString();
        if (data[0] === 3) status = JSON.parse(data.subarray(1).toString());
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('attached\n')]));
      await until(
        () => stdout === 'attached\n',
        () => stdout,
      );
      // v5: channel 255 carries "close stream <id>"; stdin is stream 0.
      ws.send(Buffer.from([255, 0]));
      await new Promise(resolve => ws.once('close', resolve));
      expect(status).toMatchObject({ status: 'Success' });
      const events = await lastRequestOf('attach');
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
    });

    it('refuses exec before the upgrade, with a Status naming the rule', async () => {
      const upgradeHeaders = (authorization?: string) => ({
        ...(authorization ? { authorization } : {}),
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-protocol': 'v5.channel.k8s.io',
      });
      const execUrl = (cluster: string, kubePath = EXEC_PATH) =>
        `/api/kmp/proxy/clusters/${cluster}${kubePath}?container=app&command=true&stdout=true`;

      // A read-only kubeconfig token (reader may only read through KMP).
      const readOnly = await kubeconfigFor(reader);
      const denied = await broker.raw('GET', execUrl('st-dev'), {
        headers: upgradeHeaders(`Bearer ${readOnly.token}`),
      });
      expect(denied.status).toBe(403);
      expect(denied.json).toMatchObject({ kind: 'Status', code: 403 });
      expect(denied.json.message).toContain(
        'cannot create resource "pods/exec"',
      );
      expect(denied.json.message).toContain(
        'the kubeconfig token is read-only',
      );
      const [deniedEvent] = await broker.auditOf(denied);
      expect(deniedEvent).toMatchObject({
        decision: {
          result: 'deny',
          reason: 'the kubeconfig token is read-only',
        },
        outcome: 'failure',
      });

      // A developer's token only reaches their team's namespaces.
      const aliceToken = (await kubeconfigFor(alice)).token;
      const elsewhere = await broker.raw(
        'GET',
        execUrl('st-dev', '/api/v1/namespaces/kube-system/pods/x/exec'),
        { headers: upgradeHeaders(`Bearer ${aliceToken}`) },
      );
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.json.message).toContain('kube-system');

      // Production: no hand-made exec without break-glass.
      const prod = await broker.raw('GET', execUrl('st-prod'), {
        headers: upgradeHeaders(alice),
      });
      expect(prod.status).toBe(403);
      expect(prod.json.message).toMatch(/production/);
      const [prodEvent] = await broker.auditOf(prod);
      expect(prodEvent.decision.result).toBe('deny');
      expect(prod.json.message).toContain(prodEvent.decision.reason);

      // Unauthenticated, unknown cluster, hostile path, a non-stream upgrade.
      const anonymous = await broker.raw('GET', execUrl('st-dev'), {
        headers: upgradeHeaders(),
      });
      expect(anonymous.status).toBe(401);
      const unknown = await broker.raw('GET', execUrl('nowhere'), {
        headers: upgradeHeaders(alice),
      });
      expect(unknown.status).toBe(404);
      const hostile = await broker.raw(
        'GET',
        execUrl('st-dev', `/api/v1/namespaces/${NS}/pods/${POD}/../x/exec`),
        { headers: upgradeHeaders(alice) },
      );
      expect(hostile.status).toBe(400);
      const watch = await broker.raw(
        'GET',
        `/api/kmp/proxy/clusters/st-dev/api/v1/namespaces/${NS}/pods?watch=1`,
        { headers: upgradeHeaders(alice) },
      );
      expect(watch.status).toBe(400);
      expect(watch.json.message).toContain(
        'only exec, attach and port-forward',
      );
    });

    it('a read-only kubeconfig cannot exec; the cluster RBAC still applies', async () => {
      const { file } = await kubeconfigFor(reader);
      const exec = await kubectl(file, [
        'exec',
        POD,
        '-c',
        'app',
        '--',
        'true',
      ]);
      expect(exec.code).not.toBe(0);
      expect(exec.stderr).toContain('the kubeconfig token is read-only');

      // petra may exec through KMP but has no RBAC in the cluster: the
      // cluster's own refusal is passed on.
      const refused = await broker.raw(
        'GET',
        `/api/kmp/proxy/clusters/st-dev${EXEC_PATH}?container=app&command=true&stdout=true`,
        {
          headers: {
            authorization: petra,
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'sec-websocket-protocol': 'v5.channel.k8s.io',
          },
        },
      );
      expect(refused.status).toBe(403);
      expect(refused.json.message).toContain('User "user:default/petra"');
      const events = await settledAuditOf(refused);
      expect(events.map(e => e.outcome)).toEqual(['pending', 'failure']);
    });
  });

  describe('port-forward', () => {
    it('kubectl port-forward through a KMP kubeconfig carries bytes both ways', async () => {
      const { file } = await kubeconfigFor(alice);
      const pf = spawnKubectl(binary, file, [
        'port-forward',
        `pod/${POD}`,
        ':8080',
      ]);
      try {
        let port = 0;
        await until(
          () => {
            port =
              Number(/127\.0\.0\.1:(\d+) ->/.exec(pf.out.stdout)?.[1]) || 0;
            return port > 0;
          },
          () => pf.out.stdout + pf.out.stderr,
        );
        const payload = Buffer.alloc(512 * 1024);
        for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
        const echoed = await new Promise<Buffer>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          const chunks: Buffer[] = [];
          let length = 0;
          socket.on('data', (c: Buffer) => {
            chunks.push(c);
            length += c.length;
            if (length >= payload.length) {
              socket.end();
              resolve(Buffer.concat(chunks));
            }
          });
          socket.on('error', reject);
          Readable.from([payload]).pipe(socket, { end: false });
        });
        expect(echoed.equals(payload)).toBe(true);
      } finally {
        pf.child.kill();
      }
      const events = await lastRequestOf('portforward');
      expect(events.map(e => e.outcome)).toEqual(['pending', 'success']);
      expect(events[1].details.bytesIn).toBeGreaterThan(512 * 1024);
      expect(events[1].details.bytesOut).toBeGreaterThan(512 * 1024);
    });
  });
});
