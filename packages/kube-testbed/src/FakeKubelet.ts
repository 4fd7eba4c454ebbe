/*
 * A fake kubelet for the test bed: an HTTPS server in the test process,
 * registered as a Node whose address is 127.0.0.1 and whose kubelet port is
 * the server's, so that the real kube-apiserver proxies `pods/log`,
 * `pods/exec`, `pods/attach` and `pods/portforward` of pods bound to that
 * node to it. It serves deterministic container logs (and a previous
 * container's), a tiny fixed set of exec commands with exit codes, an
 * attach that echoes stdin, and a port-forward that echoes bytes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { promisify } from 'node:util';
import { ensureBinary } from './build';
import { KubeApiError, KubeRest, KubeRestTarget } from './rest';
import { SpdySession, SpdyStream } from './spdy';

/** What a fake kubelet needs of a cluster (a `TestbedCluster` fits). */
export interface FakeKubeletCluster extends KubeRestTarget {
  name: string;
}

export interface FakeKubeletOptions {
  /** Node name; default `<cluster>-fake-kubelet-<random>`. */
  nodeName?: string;
  /** Lines each container has logged before a request; default 5. */
  logLines?: number;
  /** The kube-testbed binary (for the serving certificate); default: built/cached. */
  binary?: string;
}

/** One request the fake kubelet received from the API server. */
export interface FakeKubeletRequest {
  method: string;
  path: string;
  query: Record<string, string[]>;
  upgrade?: string;
  protocol?: string;
}

export interface FakeKubeletPodOptions {
  namespace: string;
  name: string;
  /** Container names; default `['app']`. */
  containers?: string[];
  labels?: Record<string, string>;
}

/** The exit code of an exec that ran, as the error stream reports it. */
export interface FakeExecRecord {
  namespace: string;
  pod: string;
  container: string;
  command: string[];
  exitCode: number;
}

const PROTOCOL_V4 = 'v4.channel.k8s.io';
const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const STREAM_WAIT_MS = 30_000;

/** A Pod manifest bound to a node (no scheduler needed), deletable at once. */
export function podOnNode(nodeName: string, pod: FakeKubeletPodOptions): any {
  const containers = pod.containers ?? ['app'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: pod.name,
      namespace: pod.namespace,
      ...(pod.labels ? { labels: pod.labels } : {}),
    },
    spec: {
      nodeName,
      // Nobody confirms termination: a deleted pod goes at once.
      terminationGracePeriodSeconds: 0,
      containers: containers.map(name => ({
        name,
        image: 'registry.example.com/fake:1.0',
      })),
    },
  };
}

/**
 * The deterministic log of a container: `logLines` lines, each naming the
 * pod, container and line number (and `previous` for the container's
 * previous instance).
 */
export function fakeLogLines(
  namespace: string,
  pod: string,
  container: string,
  count: number,
  previous = false,
): string[] {
  return Array.from(
    { length: count },
    (_, i) =>
      `${namespace}/${pod}/${container}${previous ? ' previous' : ''} line ${
        i + 1
      }`,
  );
}

/** RFC 3339 timestamp of line `i` (fixed, so output is deterministic). */
const lineTimestamp = (i: number) =>
  new Date(Date.UTC(2026, 0, 1, 0, 0, i))
    .toISOString()
    .replace('.000Z', '.000000000Z');

function parseQuery(search: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) (out[k] ??= []).push(v);
  return out;
}

const truthy = (q: Record<string, string[]>, name: string) =>
  ['1', 'true', 'True'].includes(q[name]?.[0] ?? '');

/** Offered protocol versions (repeated and/or comma-separated headers). */
function offeredProtocols(req: http.IncomingMessage): string[] {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i].toLowerCase() === 'x-stream-protocol-version') {
      raw.push(req.rawHeaders[i + 1]);
    }
  }
  return raw.flatMap(v => v.split(',').map(s => s.trim()));
}

/**
 * A fake kubelet registered as a Node of a test bed cluster.
 *
 *   const kubelet = await FakeKubelet.start(testbed().cluster('dev'));
 *   await kubelet.createPod({ namespace: 'team-a', name: 'web-0' });
 *   // kubectl logs / exec / port-forward web-0 now reach the fake kubelet
 *   await kubelet.stop();
 */
export class FakeKubelet {
  /** Requests received, oldest first. */
  readonly requests: FakeKubeletRequest[] = [];
  /** Execs that finished, oldest first. */
  readonly execs: FakeExecRecord[] = [];
  private readonly followers = new Map<string, Set<http.ServerResponse>>();
  private readonly appended = new Map<string, string[]>();
  private readonly sockets = new Set<Duplex>();

  private constructor(
    readonly nodeName: string,
    private readonly server: https.Server,
    private readonly rest: KubeRest,
    private readonly dir: string,
    private readonly logLines: number,
  ) {}

  /** Starts the server and registers its Node (Ready, 127.0.0.1:port). */
  static async start(
    cluster: FakeKubeletCluster,
    options: FakeKubeletOptions = {},
  ): Promise<FakeKubelet> {
    const binary = options.binary ?? (await ensureBinary({})).binary;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-fake-kubelet-'));
    const { stdout } = await promisify(execFile)(binary, [
      'certs',
      '--dir',
      dir,
      '--name',
      'fake-kubelet',
    ]);
    const pki = JSON.parse(stdout) as {
      servingCert: string;
      servingKey: string;
    };
    const server = https.createServer({
      cert: fs.readFileSync(pki.servingCert),
      key: fs.readFileSync(pki.servingKey),
    });
    const nodeName =
      options.nodeName ??
      `${cluster.name}-fake-kubelet-${randomBytes(3).toString('hex')}`;
    const kubelet = new FakeKubelet(
      nodeName,
      server,
      new KubeRest(cluster),
      dir,
      options.logLines ?? 5,
    );
    server.on('request', (req, res) => kubelet.onRequest(req, res));
    server.on('upgrade', (req, socket) => kubelet.onUpgrade(req, socket));
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    await kubelet.register();
    return kubelet;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private async register() {
    const node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.nodeName,
        labels: {
          'kubernetes.io/hostname': this.nodeName,
          'kubernetes.io/os': 'linux',
          'kube-testbed.kmp.io/fake-kubelet': 'true',
        },
      },
      spec: {},
    };
    await this.rest.createOrReplace(node);
    const now = new Date().toISOString();
    await this.rest.patchStatus(node, {
      // Only an InternalIP: the API server prefers Hostname, which would
      // not resolve.
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: this.port } },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'fake kubelet is posting ready status',
          lastHeartbeatTime: now,
          lastTransitionTime: now,
        },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.35.4-fake',
        operatingSystem: 'linux',
        architecture: 'amd64',
        containerRuntimeVersion: 'fake://1.0',
        kernelVersion: os.release(),
        osImage: 'fake',
        kubeProxyVersion: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    });
  }

  /**
   * Creates a pod bound to this node, Running, each container once
   * restarted (so `--previous` has something to show).
   */
  async createPod(pod: FakeKubeletPodOptions): Promise<any> {
    const manifest = podOnNode(this.nodeName, pod);
    // A new namespace gets its default service account a moment later.
    for (let attempt = 0; ; attempt++) {
      try {
        await this.rest.createOrReplace(manifest);
        break;
      } catch (e) {
        const waiting =
          e instanceof KubeApiError &&
          e.status === 403 &&
          /serviceaccount .* not found/.test(e.message);
        if (!waiting || attempt >= 50) throw e;
        await new Promise(r => setTimeout(r, 200));
      }
    }
    const now = new Date().toISOString();
    return this.rest.patchStatus(manifest, {
      phase: 'Running',
      hostIP: '127.0.0.1',
      podIP: '127.0.0.1',
      startTime: now,
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }],
      containerStatuses: manifest.spec.containers.map((c: any) => ({
        name: c.name,
        image: c.image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 1,
        state: { running: { startedAt: now } },
        lastState: {
          terminated: { exitCode: 1, reason: 'Error', finishedAt: now },
        },
      })),
    });
  }

  /**
   * Appends a line to a container's log; followers (`follow=true`) get it
   * at once.
   */
  appendLog(namespace: string, pod: string, container: string, line: string) {
    const key = `${namespace}/${pod}/${container}`;
    const lines = this.appended.get(key) ?? [];
    lines.push(line);
    this.appended.set(key, lines);
    for (const res of this.followers.get(key) ?? []) res.write(`${line}\n`);
  }

  /** Number of open follow streams of a container. */
  followerCount(namespace: string, pod: string, container: string): number {
    return this.followers.get(`${namespace}/${pod}/${container}`)?.size ?? 0;
  }

  /** Ends the follow streams of a container (the container stopped). */
  endLog(namespace: string, pod: string, container: string) {
    const key = `${namespace}/${pod}/${container}`;
    for (const res of this.followers.get(key) ?? []) res.end();
    this.followers.delete(key);
  }

  /** Deletes the Node and stops the server. */
  async stop(): Promise<void> {
    try {
      await this.rest.delete({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: this.nodeName },
      });
    } catch {
      // the cluster may be gone already
    }
    this.rest.close();
    for (const set of this.followers.values()) {
      for (const res of set) res.destroy();
    }
    for (const socket of this.sockets) socket.destroy();
    this.server.closeAllConnections();
    await new Promise<void>(resolve => this.server.close(() => resolve()));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private record(req: http.IncomingMessage): {
    segments: string[];
    query: Record<string, string[]>;
  } {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const query = parseQuery(url.search);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query,
      ...(req.headers.upgrade ? { upgrade: req.headers.upgrade } : {}),
    });
    return {
      segments: url.pathname.split('/').filter(Boolean).map(decodeURIComponent),
      query,
    };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse) {
    const { segments, query } = this.record(req);
    if (segments[0] === 'healthz') {
      res.end('ok');
      return;
    }
    if (
      req.method !== 'GET' ||
      segments[0] !== 'containerLogs' ||
      segments.length !== 4
    ) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`fake kubelet: ${req.method} ${req.url} is not served\n`);
      return;
    }
    const [, namespace, pod, container] = segments;
    const key = `${namespace}/${pod}/${container}`;
    const previous = truthy(query, 'previous');
    let lines = fakeLogLines(
      namespace,
      pod,
      container,
      this.logLines,
      previous,
    );
    if (!previous) lines = lines.concat(this.appended.get(key) ?? []);
    if (truthy(query, 'timestamps')) {
      lines = lines.map((l, i) => `${lineTimestamp(i)} ${l}`);
    }
    const tail = Number(query.tailLines?.[0]);
    if (query.tailLines && tail >= 0) {
      lines = tail === 0 ? [] : lines.slice(-tail);
    }
    let body = lines.map(l => `${l}\n`).join('');
    const limit = Number(query.limitBytes?.[0]);
    if (limit > 0) body = body.slice(0, limit);
    res.writeHead(200, { 'content-type': 'text/plain' });
    if (!truthy(query, 'follow') || previous) {
      res.end(body);
      return;
    }
    res.write(body);
    const set = this.followers.get(key) ?? new Set();
    set.add(res);
    this.followers.set(key, set);
    res.on('close', () => set.delete(res));
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex) {
    const { segments, query } = this.record(req);
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const refuse = (status: number, message: string) =>
      socket.end(
        `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n` +
          `Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(
            message,
          )}\r\nConnection: close\r\n\r\n${message}`,
      );
    if (!/^spdy\/3\.1$/i.test(req.headers.upgrade ?? '')) {
      // The API server translates WebSocket (v5, port-forward tunnelling)
      // clients to SPDY; older WebSocket protocols are not served here.
      refuse(400, 'fake kubelet: only SPDY/3.1 upgrades are served\n');
      return;
    }
    const kind = segments[0];
    const interactive = kind === 'exec' || kind === 'attach';
    if (
      !(interactive && segments.length === 4) &&
      !(kind === 'portForward' && segments.length === 3)
    ) {
      refuse(404, `fake kubelet: ${req.url} is not served\n`);
      return;
    }
    const wanted = interactive ? PROTOCOL_V4 : PORT_FORWARD_PROTOCOL;
    if (!offeredProtocols(req).includes(wanted)) {
      refuse(
        403,
        `unable to upgrade: unable to negotiate protocol: client supports ${offeredProtocols(
          req,
        ).join(', ')}, server supports ${wanted}\n`,
      );
      return;
    }
    const last = this.requests[this.requests.length - 1];
    last.protocol = wanted;
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n' +
        `X-Stream-Protocol-Version: ${wanted}\r\n\r\n`,
    );
    const session = new SpdySession(socket);
    if (interactive) {
      const [, namespace, pod, container] = segments;
      const command = kind === 'attach' ? ['cat'] : query.command ?? ['sh'];
      this.serveExec(session, query, { namespace, pod, container, command });
    } else {
      this.servePortForward(session);
    }
  }

  /**
   * The remote command protocol v4: the client opens an error stream, then
   * stdin/stdout/stderr (as asked for) and resize (tty); the command's exit
   * status is a `Status` on the error stream.
   */
  private serveExec(
    session: SpdySession,
    query: Record<string, string[]>,
    target: Omit<FakeExecRecord, 'exitCode'>,
  ) {
    const tty = truthy(query, 'tty');
    const expected = new Set(['error']);
    if (truthy(query, 'input')) expected.add('stdin');
    if (truthy(query, 'output')) expected.add('stdout');
    if (truthy(query, 'error') && !tty) expected.add('stderr');
    if (tty) expected.add('resize');
    const streams = new Map<string, SpdyStream>();
    const timer = setTimeout(() => session.goAway(), STREAM_WAIT_MS);
    session.on('close', () => clearTimeout(timer));
    session.on('stream', (stream: SpdyStream) => {
      const type = stream.headers.streamtype;
      streams.set(type, stream);
      if (type === 'resize') stream.resume();
      if ([...expected].every(t => streams.has(t))) {
        clearTimeout(timer);
        this.runCommand(target, streams).then(
          exitCode => {
            this.execs.push({ ...target, exitCode });
            const error = streams.get('error')!;
            error.end(JSON.stringify(exitStatus(target.command, exitCode)));
            for (const name of ['stdout', 'stderr']) streams.get(name)?.end();
            // Let the last frames go out before GOAWAY ends the socket.
            setTimeout(() => session.goAway(), 50);
          },
          () => session.goAway(),
        );
      }
    });
  }

  private async runCommand(
    target: Omit<FakeExecRecord, 'exitCode'>,
    streams: Map<string, SpdyStream>,
  ): Promise<number> {
    const stdin = streams.get('stdin');
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr') ?? stdout;
    const [cmd, ...args] = target.command;
    const write = (s: Duplex | undefined, text: string) =>
      new Promise<void>(resolve => {
        if (!s) resolve();
        else s.write(text, () => resolve());
      });
    switch (cmd) {
      case 'echo':
        await write(stdout, `${args.join(' ')}\n`);
        return 0;
      case 'hostname':
        await write(stdout, `${target.pod}\n`);
        return 0;
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'exit':
        return Number(args[0] ?? 0) & 0xff;
      case 'echo-stderr':
        await write(stderr, `${args.join(' ')}\n`);
        return 0;
      case 'sleep':
        await new Promise(r => setTimeout(r, Number(args[0] ?? 0) * 1000));
        return 0;
      case 'cat': {
        if (!stdin) return 0;
        await new Promise<void>(resolve => {
          stdin.on('data', (chunk: Buffer) => {
            if (stdout && !stdout.write(chunk)) {
              stdin.pause();
              stdout.once('drain', () => stdin.resume());
            }
          });
          stdin.once('end', () => resolve());
          stdin.once('close', () => resolve());
        });
        return 0;
      }
      default:
        await write(stderr, `fake-kubelet: ${cmd}: command not found\n`);
        return 127;
    }
  }

  /**
   * The port-forward protocol: per forwarded connection the client opens an
   * error and a data stream with the same `requestid`; every port echoes
   * what it receives.
   */
  private servePortForward(session: SpdySession) {
    const errors = new Map<string, SpdyStream>();
    session.on('stream', (stream: SpdyStream) => {
      const id = stream.headers.requestid ?? stream.headers.port ?? '';
      if (stream.headers.streamtype === 'error') {
        errors.set(id, stream);
        stream.resume();
        return;
      }
      stream.pipe(stream);
      stream.once('end', () => {
        errors.get(id)?.end();
        errors.delete(id);
      });
    });
  }
}

/** The v4 error-stream Status of a finished command. */
function exitStatus(command: string[], exitCode: number) {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(
      ' ',
    )}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: {
      causes: [{ reason: 'ExitCode', message: String(exitCode) }],
    },
  };
}
