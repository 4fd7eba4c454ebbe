/*
 * Real Kubernetes control planes for tests and demos: one embedded etcd and
 * one kube-apiserver process (with the essential kube-controller-manager
 * controllers in-process) per cluster, each cluster under its own etcd
 * prefix with its own CA, credentials and service-account issuer key.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { ensureBinary } from './build';
import { getFreePort, httpsRequest, isPortInUse } from './net';
import {
  MemoryInfo,
  ProcessExitError,
  readMemoryInfo,
  ServerProcess,
} from './processes';
import { applyFixtures, FixtureOptions } from './fixtures';

const execFileAsync = promisify(execFile);

export interface TestbedOptions {
  /** Cluster names (lowercase DNS labels), or a count (cluster-1, ...). */
  clusters: string[] | number;
  /**
   * Where data, certificates, kubeconfigs and logs go. Default: a new
   * temporary directory, removed by stopAll() (unless keepDir or
   * KUBE_TESTBED_KEEP=1). An existing baseDir is reused: same CA,
   * credentials and ports (when free), and the etcd data survives.
   */
  baseDir?: string;
  keepDir?: boolean;
  /** Apply the standard fixtures (nodes, workloads, CRDs, CRs, ...). */
  fixtures?: boolean | FixtureOptions;
  /** Path of the kube-testbed binary; default: built/cached by ensureBinary. */
  binary?: string;
  /** Extra kube-apiserver flags for every cluster (appended, so they win). */
  apiserverArgs?: string[];
  /**
   * kube-controller-manager controllers to run in each apiserver process;
   * default: namespace, serviceaccount, serviceaccount-token,
   * root-ca-certificate-publisher, garbage-collector, clusterrole-aggregation,
   * validatingadmissionpolicy-status. false: none.
   */
  controllers?: string[] | false;
  /**
   * Extra environment for the apiserver processes. By default GOMEMLIMIT
   * is 250MiB (KUBE_TESTBED_GOMEMLIMIT overrides it): a soft limit that
   * makes the Go GC work harder near it, which keeps an apiserver with all
   * fixture CRDs at ~380 MB RSS instead of 550-650 MB.
   */
  env?: NodeJS.ProcessEnv;
  /** Per-process readiness timeout; default 120 s. */
  readyTimeoutMs?: number;
  /** Progress messages; default: silent. */
  log?: (msg: string) => void;
}

export type KubeconfigAuth = 'cert' | 'token';

export interface KubeconfigOptions {
  /** admin client certificate (default) or static admin token */
  auth?: KubeconfigAuth;
  /** context/cluster name; default: the cluster name */
  contextName?: string;
  /** impersonate this user (kubeconfig `as`) */
  impersonate?: string;
}

const NAME_RE = /^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$/;

interface CertFiles {
  dir: string;
  caCert: string;
  servingCert: string;
  servingKey: string;
  adminCert: string;
  adminKey: string;
  adminUser: string;
  adminToken: string;
  tokenAuthFile: string;
  frontProxyCACert: string;
  frontProxyClientCert: string;
  frontProxyClientKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Memory-saving flags, measured to matter on a 2-core/24 GB machine. */
export const DEFAULT_APISERVER_TUNING = [
  '--enable-priority-and-fairness=false',
  '--max-requests-inflight=100',
  '--max-mutating-requests-inflight=50',
  '--profiling=false',
];

function controllerArgs(controllers: string[] | false | undefined): string[] {
  if (controllers === false) return ['--testbed-controllers=none'];
  if (controllers) return [`--testbed-controllers=${controllers.join(',')}`];
  return [];
}

/** Default soft memory limit of each apiserver process (Go GOMEMLIMIT). */
export const DEFAULT_GOMEMLIMIT = '250MiB';

export type ClusterState = 'stopped' | 'running' | 'unreachable';

/** One cluster (= one kube-apiserver process). */
export class TestbedCluster {
  readonly dir: string;
  readonly logFile: string;
  private certs?: CertFiles;
  private proc?: ServerProcess;
  private _port?: number;
  private _state: ClusterState = 'stopped';
  private unreachableMode?: 'hang' | 'down';
  /** ms from spawn to /readyz OK of the last start */
  lastStartMs?: number;

  /** @internal */
  constructor(
    readonly name: string,
    private readonly testbed: Testbed,
    baseDir: string,
  ) {
    this.dir = path.join(baseDir, 'clusters', name);
    this.logFile = path.join(baseDir, 'logs', `apiserver-${name}.log`);
  }

  get state(): ClusterState {
    return this._state;
  }

  get port(): number {
    if (!this._port) throw new Error(`cluster ${this.name} was never started`);
    return this._port;
  }

  /** https://127.0.0.1:PORT */
  get server(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** etcd key prefix of this cluster */
  get etcdPrefix(): string {
    return `/kube-testbed/${this.name}`;
  }

  private get files(): CertFiles {
    if (!this.certs) throw new Error(`cluster ${this.name} was never started`);
    return this.certs;
  }

  get caPem(): string {
    return fs.readFileSync(this.files.caCert, 'utf8');
  }
  get caFile(): string {
    return this.files.caCert;
  }
  /** static admin bearer token (user kube-testbed-admin, group system:masters) */
  get token(): string {
    return this.files.adminToken;
  }
  /** admin client certificate (CN kube-testbed-admin, O system:masters) */
  get clientCertPem(): string {
    return fs.readFileSync(this.files.adminCert, 'utf8');
  }
  get clientKeyPem(): string {
    return fs.readFileSync(this.files.adminKey, 'utf8');
  }
  get clientCertFile(): string {
    return this.files.adminCert;
  }
  get clientKeyFile(): string {
    return this.files.adminKey;
  }
  get adminUser(): string {
    return this.files.adminUser;
  }
  /** issuer of the service-account tokens of this cluster */
  get serviceAccountIssuer(): string {
    return 'https://kubernetes.default.svc.cluster.local';
  }

  /** pid of the apiserver process while running */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** resident set size of the apiserver process (bytes) */
  rssBytes(): number | undefined {
    return this.proc?.rssBytes();
  }

  /** /proc/<pid>/status memory figures of the apiserver process (bytes) */
  memory(): MemoryInfo | undefined {
    return this.pid ? readMemoryInfo(this.pid) : undefined;
  }

  /** Kubeconfig YAML for this cluster. */
  kubeconfig(opts: KubeconfigOptions = {}): string {
    const name = opts.contextName ?? this.name;
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const auth = opts.auth ?? 'cert';
    const user =
      auth === 'token'
        ? `    token: ${this.token}\n`
        : `    client-certificate-data: ${b64(this.clientCertPem)}\n` +
          `    client-key-data: ${b64(this.clientKeyPem)}\n`;
    const as = opts.impersonate
      ? `    as: ${JSON.stringify(opts.impersonate)}\n`
      : '';
    return (
      `apiVersion: v1\nkind: Config\n` +
      `clusters:\n- name: ${name}\n  cluster:\n    server: ${this.server}\n` +
      `    certificate-authority-data: ${b64(this.caPem)}\n` +
      `users:\n- name: ${name}-${
        auth === 'token' ? 'token' : 'admin'
      }\n  user:\n${user}${as}` +
      `contexts:\n- name: ${name}\n  context:\n    cluster: ${name}\n    user: ${name}-${
        auth === 'token' ? 'token' : 'admin'
      }\n` +
      `current-context: ${name}\n`
    );
  }

  async writeKubeconfig(file: string, opts?: KubeconfigOptions): Promise<void> {
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, this.kubeconfig(opts), { mode: 0o600 });
  }

  /** A @kubernetes/client-node KubeConfig for this cluster. */
  kubeConfig(opts?: KubeconfigOptions): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfig(opts));
    return kc;
  }

  private async ensureCerts(binary: string) {
    if (this.certs) return;
    const { stdout } = await execFileAsync(binary, [
      'certs',
      '--dir',
      this.dir,
      '--name',
      this.name,
    ]);
    this.certs = JSON.parse(stdout) as CertFiles;
  }

  private apiserverArgs(etcdURL: string, port: number): string[] {
    const f = this.files;
    const opts = this.testbed.options;
    const controllers = opts.controllers;
    const args = [
      'apiserver',
      `--testbed-kubeconfig=${path.join(this.dir, 'admin.kubeconfig')}`,
      `--testbed-root-ca-file=${f.caCert}`,
      ...controllerArgs(controllers),
      `--etcd-servers=${etcdURL}`,
      `--etcd-prefix=${this.etcdPrefix}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${port}`,
      `--cert-dir=${this.dir}`,
      `--tls-cert-file=${f.servingCert}`,
      `--tls-private-key-file=${f.servingKey}`,
      `--client-ca-file=${f.caCert}`,
      `--token-auth-file=${f.tokenAuthFile}`,
      `--requestheader-client-ca-file=${f.frontProxyCACert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${f.frontProxyClientCert}`,
      `--proxy-client-key-file=${f.frontProxyClientKey}`,
      `--service-account-issuer=${this.serviceAccountIssuer}`,
      `--service-account-key-file=${f.serviceAccountPub}`,
      `--service-account-signing-key-file=${f.serviceAccountKey}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      '--allow-privileged=true',
      '--endpoint-reconciler-type=none',
      ...DEFAULT_APISERVER_TUNING,
      ...(opts.apiserverArgs ?? []),
    ];
    return args;
  }

  /**
   * Starts (or restarts) the apiserver: same port and same etcd data as
   * before when restarting.
   */
  async start(): Promise<void> {
    if (this._state !== 'stopped') {
      throw new Error(`cluster ${this.name} is ${this._state}`);
    }
    const tb = this.testbed;
    const binary = await tb.binary();
    const etcdURL = tb.etcdURL;
    await this.ensureCerts(binary);
    fs.mkdirSync(path.dirname(this.logFile), { recursive: true });

    const portFile = path.join(this.dir, 'port');
    const fixedPort = Boolean(this._port);
    if (!this._port) {
      const saved = Number(
        fs.existsSync(portFile) ? fs.readFileSync(portFile, 'utf8') : NaN,
      );
      if (saved > 0 && !(await isPortInUse(saved))) {
        this._port = saved;
      } else {
        this._port = await getFreePort();
      }
    }

    const timeout = tb.options.readyTimeoutMs ?? 120_000;
    for (let attempt = 1; ; attempt++) {
      const port = this._port;
      fs.writeFileSync(portFile, String(port));
      // controllers in the apiserver process use this kubeconfig
      await this.writeKubeconfig(path.join(this.dir, 'admin.kubeconfig'));
      const proc = new ServerProcess(
        `apiserver ${this.name}`,
        binary,
        this.apiserverArgs(etcdURL, port),
        this.logFile,
        {
          GOMEMLIMIT: process.env.KUBE_TESTBED_GOMEMLIMIT ?? DEFAULT_GOMEMLIMIT,
          ...tb.options.env,
        },
      );
      const started = Date.now();
      proc.start();
      this.proc = proc;
      try {
        await proc.waitForEvent(e => e.ready === 'apiserver', timeout);
        const res = await httpsRequest(`${this.server}/readyz`, {
          ca: this.caPem,
          token: this.token,
        });
        if (res.status !== 200) {
          throw new Error(`${this.server}/readyz: ${res.status} ${res.body}`);
        }
        this.lastStartMs = Date.now() - started;
        if (tb.options.controllers !== false) {
          await proc.waitForEvent(
            e => e.ready === 'controller-manager',
            30_000,
          );
        }
        this._state = 'running';
        tb.log(
          `cluster ${this.name}: ready on ${this.server} in ${this.lastStartMs} ms (pid ${proc.pid})`,
        );
        return;
      } catch (e) {
        await proc.stop(2000);
        const inUse = e instanceof ProcessExitError && e.addressInUse;
        if (!inUse || attempt >= 5) {
          throw e;
        }
        if (fixedPort) {
          // restart on the same port: wait for it to be released
          tb.log(`cluster ${this.name}: port ${port} in use, retrying`);
          await sleep(1000);
        } else {
          this._port = await getFreePort();
          tb.log(
            `cluster ${this.name}: port ${port} in use, trying ${this._port}`,
          );
        }
      }
    }
  }

  /** Stops the apiserver (SIGTERM, SIGKILL after 8 s). Data is kept. */
  async stop(): Promise<void> {
    await this.proc?.stop();
    this._state = 'stopped';
    this.unreachableMode = undefined;
  }

  /**
   * Makes the cluster unreachable.
   *
   * - 'hang' (default): SIGSTOP the apiserver process. TCP connects still
   *   succeed (the kernel accepts into the listen backlog) but nothing is
   *   ever answered, so requests hang until the client's timeout — like a
   *   black-holed network path or a wedged server.
   * - 'down': stop the process; connections are refused immediately.
   *
   * restore() undoes either (SIGCONT / start on the same port).
   */
  async makeUnreachable(mode: 'hang' | 'down' = 'hang'): Promise<void> {
    if (this._state !== 'running') {
      throw new Error(`cluster ${this.name} is ${this._state}`);
    }
    if (mode === 'hang') {
      await this.proc!.freeze();
    } else {
      await this.proc!.stop();
    }
    this._state = 'unreachable';
    this.unreachableMode = mode;
  }

  async restore(): Promise<void> {
    if (this._state !== 'unreachable') {
      return;
    }
    if (this.unreachableMode === 'hang') {
      this.proc!.signal('SIGCONT');
      this._state = 'running';
      this.unreachableMode = undefined;
      return;
    }
    this._state = 'stopped';
    this.unreachableMode = undefined;
    await this.start();
  }
}

/** Resolves the cluster names of TestbedOptions.clusters. */
export function clusterNames(clusters: string[] | number): string[] {
  const names =
    typeof clusters === 'number'
      ? Array.from({ length: clusters }, (_, i) => `cluster-${i + 1}`)
      : clusters;
  if (names.length === 0) {
    throw new Error('kube-testbed: at least one cluster is needed');
  }
  for (const n of names) {
    if (!NAME_RE.test(n)) {
      throw new Error(
        `kube-testbed: invalid cluster name ${JSON.stringify(
          n,
        )} (lowercase letters, digits and '-', at most 42 characters)`,
      );
    }
  }
  if (new Set(names).size !== names.length) {
    throw new Error('kube-testbed: duplicate cluster names');
  }
  return names;
}

/** One etcd plus N clusters. */
export class Testbed {
  readonly clusters: TestbedCluster[] = [];
  private etcd?: ServerProcess;
  private _etcdURL?: string;
  private binaryPath?: string;
  private ownsDir: boolean;
  private stopped = false;
  /** ms for etcd + all clusters to be ready (fixtures excluded) */
  startMs?: number;

  private constructor(
    readonly options: TestbedOptions,
    readonly baseDir: string,
    ownsDir: boolean,
  ) {
    this.ownsDir = ownsDir;
  }

  /** @internal */
  log(msg: string) {
    this.options.log?.(`kube-testbed: ${msg}`);
  }

  /** @internal */
  async binary(): Promise<string> {
    if (!this.binaryPath) {
      this.binaryPath =
        this.options.binary ??
        (
          await ensureBinary({
            log: m =>
              this.options.log
                ? this.options.log(m)
                : process.stderr.write(`${m}\n`),
          })
        ).binary;
    }
    return this.binaryPath;
  }

  get etcdURL(): string {
    if (!this._etcdURL) throw new Error('etcd is not running');
    return this._etcdURL;
  }

  get etcdPid(): number | undefined {
    return this.etcd?.pid;
  }

  etcdRssBytes(): number | undefined {
    return this.etcd?.rssBytes();
  }

  cluster(name: string): TestbedCluster {
    const c = this.clusters.find(x => x.name === name);
    if (!c) {
      throw new Error(
        `kube-testbed: no cluster ${name} (have ${this.clusters
          .map(x => x.name)
          .join(', ')})`,
      );
    }
    return c;
  }

  static async start(options: TestbedOptions): Promise<Testbed> {
    const names = clusterNames(options.clusters);
    let baseDir = options.baseDir;
    let owns = false;
    if (baseDir) {
      baseDir = path.resolve(baseDir);
      await fs.promises.mkdir(baseDir, { recursive: true });
    } else {
      baseDir = await fs.promises.mkdtemp(
        path.join(os.tmpdir(), 'kube-testbed-'),
      );
      owns = true;
    }
    const tb = new Testbed(options, baseDir, owns);
    for (const n of names) {
      tb.clusters.push(new TestbedCluster(n, tb, baseDir));
    }
    const started = Date.now();
    try {
      await tb.binary();
      await tb.startEtcd();
      await Promise.all(tb.clusters.map(c => c.start()));
      tb.startMs = Date.now() - started;
      if (options.fixtures) {
        const fo = typeof options.fixtures === 'object' ? options.fixtures : {};
        const t0 = Date.now();
        await Promise.all(tb.clusters.map(c => applyFixtures(c, fo)));
        tb.log(`fixtures applied in ${Date.now() - t0} ms`);
      }
    } catch (e) {
      await tb.stopAll({ keepDir: true });
      if (e instanceof Error) {
        e.message += `\n(kube-testbed logs are in ${path.join(
          baseDir,
          'logs',
        )})`;
      }
      throw e;
    }
    return tb;
  }

  private async startEtcd() {
    const binary = await this.binary();
    const logFile = path.join(this.baseDir, 'logs', 'etcd.log');
    await fs.promises.mkdir(path.dirname(logFile), { recursive: true });
    const urlFile = path.join(this.baseDir, 'etcd-url');
    let url = 'http://127.0.0.1:0';
    if (fs.existsSync(urlFile)) {
      // reuse the previous port if possible (kubeconfigs do not depend on
      // it, but it makes logs easier to follow)
      const prev = fs.readFileSync(urlFile, 'utf8').trim();
      const port = Number(new URL(prev).port);
      if (port && !(await isPortInUse(port))) url = prev;
    }
    const proc = new ServerProcess(
      'etcd',
      binary,
      [
        'etcd',
        '--data-dir',
        path.join(this.baseDir, 'etcd'),
        '--listen-client-url',
        url,
      ],
      logFile,
    );
    proc.start();
    this.etcd = proc;
    const ev = await proc.waitForEvent(
      e => e.ready === 'etcd',
      this.options.readyTimeoutMs ?? 120_000,
    );
    this._etcdURL = String(ev.clientURL);
    fs.writeFileSync(urlFile, this._etcdURL);
    this.log(`etcd ready on ${this._etcdURL} (pid ${proc.pid})`);
  }

  /** Kubeconfig YAML with one context per cluster. */
  kubeconfig(opts: { auth?: KubeconfigAuth } = {}): string {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const auth = opts.auth ?? 'cert';
    const clusters = this.clusters
      .map(
        c =>
          `- name: ${c.name}\n  cluster:\n    server: ${
            c.server
          }\n    certificate-authority-data: ${b64(c.caPem)}\n`,
      )
      .join('');
    const users = this.clusters
      .map(
        c =>
          `- name: ${c.name}-admin\n  user:\n${
            auth === 'token'
              ? `    token: ${c.token}\n`
              : `    client-certificate-data: ${b64(
                  c.clientCertPem,
                )}\n    client-key-data: ${b64(c.clientKeyPem)}\n`
          }`,
      )
      .join('');
    const contexts = this.clusters
      .map(
        c =>
          `- name: ${c.name}\n  context:\n    cluster: ${c.name}\n    user: ${c.name}-admin\n`,
      )
      .join('');
    return `apiVersion: v1\nkind: Config\nclusters:\n${clusters}users:\n${users}contexts:\n${contexts}current-context: ${this.clusters[0].name}\n`;
  }

  /**
   * Stops every cluster and etcd, and removes the base directory if it was
   * a temporary one created by start() (unless keepDir/KUBE_TESTBED_KEEP).
   */
  async stopAll(opts: { keepDir?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.clusters.map(c => c.stop().catch(() => {})));
    await this.etcd?.stop().catch(() => {});
    const keep =
      opts.keepDir ||
      this.options.keepDir ||
      process.env.KUBE_TESTBED_KEEP === '1';
    if (this.ownsDir && !keep) {
      await fs.promises.rm(this.baseDir, { recursive: true, force: true });
    }
  }
}
