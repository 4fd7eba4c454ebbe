/* eslint-disable no-console, @backstage/no-undeclared-imports */
// A benchmark script, not shipped code: it uses the test backend on purpose.
/*
 * `yarn bench:broker`: requests per second and p50/p99 latency of a GET of
 * one object and a LIST of 500 objects against one testbed cluster, at a
 * fixed concurrency, (a) direct to the API server, (b) through the KMP
 * broker, (c) through the stock kubernetes-backend `/proxy` endpoint — in
 * one run, against the goals of the broker issue.
 *
 * The backend is a real Backstage backend (startTestBackend) with the KMP
 * plugin and the stock Kubernetes plugin, SQLite in files (the broker's
 * audit write is a durable append on the request path), mock
 * authentication and an allow-all permission service for both proxies. The
 * load generator runs in a worker thread with keep-alive connections.
 */
import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import kubernetesPlugin from '@backstage/plugin-kubernetes-backend';
import { KubeRest, Testbed } from '@kmp/kube-testbed';
import fs from 'node:fs';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { EventLoopUtilization, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import request from 'supertest';
import { kmpPlugin } from '../../plugin';

const SECONDS = Number(process.env.KMP_BROKER_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.KMP_BROKER_BENCH_WARMUP ?? 2);
const CONCURRENCY = Number(process.env.KMP_BROKER_BENCH_CONCURRENCY ?? 8);
const LIST_SIZE = 500;
/** e.g. `broker` or `direct,broker`: run only these paths (profiling). */
const PATHS = process.env.KMP_BROKER_BENCH_PATHS?.split(',');
const USER = 'user:default/bench';

/** The load generator: plain JS so the worker needs no TypeScript loader. */
const LOADGEN = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const https = require('node:https');
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
async function run({ url, headers, ca, concurrency, seconds, warmupSeconds }) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: concurrency, ca });
  let errors = 0;
  let status = 0;
  const once = () => new Promise(resolve => {
    const t0 = process.hrtime.bigint();
    const req = mod.request(u, { agent, headers }, res => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode !== 200) { errors++; status = res.statusCode; }
        resolve(Number(process.hrtime.bigint() - t0) / 1e6);
      });
    });
    req.on('error', () => { errors++; resolve(-1); });
    req.end();
  });
  const phase = async (ms, record) => {
    const deadline = Date.now() + ms;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t = await once();
        if (t >= 0) record(t);
      }
    }));
  };
  await phase(warmupSeconds * 1000, () => {});
  errors = 0;
  const latencies = [];
  const started = process.hrtime.bigint();
  await phase(seconds * 1000, t => latencies.push(t));
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    status,
  };
}
parentPort.on('message', async m => parentPort.postMessage(await run(m)));
`;

interface Result {
  /** Event-loop utilisation of the backend's main thread during the run. */
  elu?: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  status: number;
}

const SKIPPED: Result = {
  requests: 0,
  rps: 0,
  p50: 0,
  p99: 0,
  errors: 0,
  status: 0,
};

function loadgen() {
  const worker = new Worker(LOADGEN, { eval: true });
  const run = (job: {
    path: string;
    url: string;
    headers: Record<string, string>;
    ca?: string;
  }): Promise<Result> => {
    if (PATHS && !PATHS.includes(job.path)) return Promise.resolve(SKIPPED);
    return new Promise((resolve, reject) => {
      let before: EventLoopUtilization | undefined;
      // The backend is measured after the warm-up, like the requests.
      const timer = setTimeout(() => {
        before = performance.eventLoopUtilization();
      }, WARMUP_SECONDS * 1000);
      worker.once('message', (result: Result) => {
        clearTimeout(timer);
        resolve({
          ...result,
          elu: before
            ? performance.eventLoopUtilization(before).utilization
            : undefined,
        });
      });
      worker.once('error', reject);
      worker.postMessage({
        ...job,
        concurrency: CONCURRENCY,
        seconds: SECONDS,
        warmupSeconds: WARMUP_SECONDS,
      });
    });
  };
  return { run, stop: () => worker.terminate() };
}

const fmt = (n: number, digits = 2) => n.toFixed(digits).padStart(8);

async function main() {
  console.log(
    `broker bench: concurrency ${CONCURRENCY}, ${SECONDS} s per run after ${WARMUP_SECONDS} s warm-up, ${
      os.cpus().length
    } CPUs`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-broker-bench-'));
  const testbed = await Testbed.start({ clusters: ['bench'], fixtures: false });
  const cluster = testbed.cluster('bench');
  const kube = new KubeRest(cluster);
  let backend: Awaited<ReturnType<typeof startTestBackend>> | undefined;
  const gen = loadgen();
  try {
    await kube.request('POST', '/api/v1/namespaces', {
      metadata: { name: 'bench' },
    });
    for (let i = 0; i < LIST_SIZE; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, (_, j) =>
          kube.request('POST', '/api/v1/namespaces/bench/configmaps', {
            metadata: {
              name: `cm-${String(i + j).padStart(3, '0')}`,
              labels: { app: 'bench' },
            },
            data: { key: 'value', index: String(i + j) },
          }),
        ),
      );
    }
    await kube.request(
      'POST',
      '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings',
      {
        metadata: { name: 'kmp-bench-view' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'view',
        },
        subjects: [
          { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: USER },
        ],
      },
    );

    backend = await startTestBackend({
      features: [
        kmpPlugin,
        kubernetesPlugin,
        databaseServiceFactory,
        mockServices.rootConfig.factory({
          data: {
            backend: {
              database: {
                client: 'better-sqlite3',
                connection: { directory: dir },
              },
            },
            kubernetes: {
              serviceLocatorMethod: { type: 'multiTenant' },
              clusterLocatorMethods: [
                {
                  type: 'config',
                  clusters: [
                    {
                      name: 'bench',
                      url: cluster.server,
                      authProvider: 'serviceAccount',
                      serviceAccountToken: cluster.token,
                      caData: Buffer.from(cluster.caPem).toString('base64'),
                    },
                  ],
                },
              ],
            },
            kmp: {
              environmentGroups: [
                {
                  name: 'bench',
                  environment: 'non-production',
                  owner: 'group:default/platform-team',
                },
              ],
              profiles: [
                {
                  name: 'standard',
                  environment: 'non-production',
                  podSecurity: 'baseline',
                },
              ],
              registry: {
                encryptionKey: 'bench-key-bench-key-bench-key-bench-0000',
                allowedClusterHosts: ['127.0.0.1'],
                refresh: { intervalSeconds: 3600 },
              },
            },
          },
        }),
      ],
    });
    const port = (backend.server.address() as AddressInfo).port;
    const auth = mockCredentials.user.header(USER);
    const registered = await request(backend.server)
      .post('/api/kmp/clusters')
      .set('Authorization', auth)
      .send({
        name: 'bench',
        environmentGroup: 'bench',
        region: 'local',
        profile: 'standard',
        owner: 'group:default/platform-team',
        apiServerUrl: cluster.server,
        credentials: {
          certificateAuthority: cluster.caPem,
          token: cluster.token,
        },
      });
    if (registered.status !== 201) {
      throw new Error(`registering the cluster failed: ${registered.text}`);
    }

    const scenarios = [
      ['GET one ConfigMap', '/api/v1/namespaces/bench/configmaps/cm-042'],
      [
        `LIST ${LIST_SIZE} ConfigMaps`,
        '/api/v1/namespaces/bench/configmaps?labelSelector=app%3Dbench',
      ],
    ] as const;
    const accept = { accept: 'application/json' };
    const results: Record<string, Record<string, Result>> = {};
    for (const [name, kubePath] of scenarios) {
      results[name] = {
        direct: await gen.run({
          path: 'direct',
          url: `${cluster.server}${kubePath}`,
          headers: {
            ...accept,
            authorization: `Bearer ${cluster.token}`,
            'impersonate-user': USER,
          },
          ca: cluster.caPem,
        }),
        broker: await gen.run({
          path: 'broker',
          url: `http://127.0.0.1:${port}/api/kmp/proxy/clusters/bench${kubePath}`,
          headers: { ...accept, authorization: auth },
        }),
        'stock proxy': await gen.run({
          path: 'stock',
          url: `http://127.0.0.1:${port}/api/kubernetes/proxy${kubePath}`,
          headers: {
            ...accept,
            authorization: auth,
            'backstage-kubernetes-cluster': 'bench',
          },
        }),
      };
    }

    console.log('');
    console.log(
      `${'scenario'.padEnd(22)}${'path'.padEnd(13)}${'req/s'.padStart(
        8,
      )}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'errors'.padStart(
        8,
      )}${'backend event loop'.padStart(20)}`,
    );
    for (const [name, byPath] of Object.entries(results)) {
      for (const [p, r] of Object.entries(byPath)) {
        console.log(
          `${name.padEnd(22)}${p.padEnd(13)}${fmt(r.rps, 0)}${fmt(r.p50)}${fmt(
            r.p99,
          )}${String(r.errors).padStart(8)}${
            r.elu === undefined
              ? ''
              : `${(r.elu * 100).toFixed(0)} % busy`.padStart(20)
          }${r.errors ? ` (last status ${r.status})` : ''}`,
        );
      }
    }
    console.log('');
    console.log(
      'goals: broker p50 ≤ direct + 2 ms, p99 ≤ direct + 10 ms, ≥ 80 % of direct req/s, no slower than the stock proxy',
    );
    for (const [name, r] of Object.entries(results)) {
      const d = r.direct;
      const b = r.broker;
      const s = r['stock proxy'];
      const checks = [
        [`p50 +${(b.p50 - d.p50).toFixed(2)} ms`, b.p50 - d.p50 <= 2],
        [`p99 +${(b.p99 - d.p99).toFixed(2)} ms`, b.p99 - d.p99 <= 10],
        [
          `throughput ${((100 * b.rps) / d.rps).toFixed(0)} % of direct`,
          b.rps >= 0.8 * d.rps,
        ],
        [
          `vs stock proxy: p50 ${b.p50.toFixed(2)} vs ${s.p50.toFixed(
            2,
          )} ms, ${b.rps.toFixed(0)} vs ${s.rps.toFixed(0)} req/s`,
          b.p50 <= s.p50 && b.rps >= s.rps,
        ],
      ] as const;
      console.log(
        `${name}: ${checks
          .map(([text, ok]) => `${ok ? 'met' : 'MISSED'}: ${text}`)
          .join('; ')}`,
      );
    }
  } finally {
    await gen.stop();
    await backend?.stop();
    kube.close();
    await testbed.stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  error => {
    console.error(error);
    process.exit(1);
  },
);
