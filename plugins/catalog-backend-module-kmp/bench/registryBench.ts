/* eslint-disable no-console */
/**
 * yarn bench:registry — with N synthetic clusters in the registry (default
 * 20,000): time for the provider's full sync to land as processed catalog
 * entities, and the latency from one cluster's metadata change to the
 * catalog entity reflecting it. Real catalog, real KMP backend, SQLite files.
 */
import { databaseServiceFactory } from '@backstage/backend-defaults/database';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { resolvePackagePath } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import catalogBackend from '@backstage/plugin-catalog-backend';
import kmpBackend from '@kmp/plugin-kmp-backend';
import knexFactory from 'knex';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { catalogModuleKmp } from '../src/module';

const COUNT = Number(process.env.KMP_BENCH_CLUSTERS ?? 20000);
const CHANGES = 5;
const GOAL_FULL_SYNC_S = 60;
const GOAL_CHANGE_S = 5;

async function seed(dir: string) {
  const db = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(dir, 'kmp.sqlite') },
    useNullAsDefault: true,
  });
  await db.migrate.latest({
    directory: resolvePackagePath('@kmp/plugin-kmp-backend', 'migrations'),
  });
  const now = Date.now();
  const groups = ['payments-prod', 'payments-nonprod', 'retail-edge'];
  const envs = ['production', 'non-production', 'edge'];
  const rows = Array.from({ length: COUNT }, (_, i) => ({
    name: `c-${String(i).padStart(5, '0')}`,
    title: `Synthetic cluster ${i}`,
    environment: envs[i % 3],
    environment_group: groups[i % 3],
    region: `region-${i % 40}`,
    profile: 'standard',
    connectivity: i % 3 === 2 ? 'edge-async' : 'direct',
    lifecycle_state: 'active',
    owner: 'group:default/platform-team',
    api_server_url: `https://c-${i}.clusters.example.com`,
    kubernetes_version: 'v1.34.2',
    source: 'api',
    consecutive_failures: 0,
    revision: i + 1,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 500) {
    await db('kmp_clusters').insert(rows.slice(i, i + 500));
  }
  await db('kmp_registry_revision')
    .where({ id: 1 })
    .update({ revision: COUNT });
  await db.destroy();
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-bench-registry-'));
  const seedStart = Date.now();
  await seed(dir);
  console.log(
    `seeded ${COUNT} clusters in ${((Date.now() - seedStart) / 1000).toFixed(
      1,
    )} s`,
  );

  const started = Date.now();
  const backend = (await startTestBackend({
    features: [
      kmpBackend,
      catalogBackend,
      catalogModuleKmp,
      databaseServiceFactory,
      schedulerServiceFactory,
      mockServices.rootLogger.factory({
        level: (process.env.KMP_BENCH_LOG_LEVEL as any) ?? 'warn',
      }),
      mockServices.rootConfig.factory({
        data: {
          backend: {
            baseUrl: 'http://localhost:7007',
            database: {
              client: 'better-sqlite3',
              connection: { directory: dir },
            },
          },
          kmp: {
            environmentGroups: [
              {
                name: 'payments-prod',
                environment: 'production',
                owner: 'group:default/platform-team',
              },
              {
                name: 'payments-nonprod',
                environment: 'non-production',
                owner: 'group:default/platform-team',
              },
              {
                name: 'retail-edge',
                environment: 'edge',
                owner: 'group:default/retail-ops',
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
              encryptionKey: 'bench-key-bench-key-bench-key-bench-key-0',
              refresh: { intervalSeconds: 86400 },
            },
            catalog: { deltaSyncSeconds: 1, fullSyncSeconds: 86400 },
          },
        },
      }),
    ],
  })) as any;
  const server = backend.server;
  const auth = mockCredentials.user.header('user:default/petra');
  const countClusters = async () => {
    const res = await request(server)
      .get(
        '/api/catalog/entities/by-query?filter=kind=resource,spec.type=kubernetes-cluster&limit=1',
      )
      .set('Authorization', auth);
    return Number(res.body.totalItems ?? 0);
  };

  // The provider's part: its full mutation has landed when the catalog's
  // refresh_state holds every cluster; the catalog's part: processed and
  // stitched into final entities that the API serves.
  const catalogDb = knexFactory({
    client: 'better-sqlite3',
    connection: {
      filename: path.join(dir, 'catalog.sqlite'),
      readonly: true,
    } as any,
    useNullAsDefault: true,
  });
  const registered = async () => {
    try {
      const [{ n }] = await catalogDb('refresh_state')
        .where('entity_ref', 'like', 'resource:%')
        .count({ n: '*' });
      return Number(n);
    } catch {
      return 0;
    }
  };
  let count = 0;
  let mutationS: number | undefined;
  const maxSeconds = Number(process.env.KMP_BENCH_MAX_SECONDS ?? 900);
  const deadline = Date.now() + maxSeconds * 1000;
  let lastReport = 0;
  while (count < COUNT && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 500));
    if (mutationS === undefined && (await registered()) >= COUNT) {
      mutationS = (Date.now() - started) / 1000;
      console.log(
        `  provider mutation of ${COUNT} clusters landed after ${mutationS.toFixed(
          1,
        )} s`,
      );
    }
    count = await countClusters();
    if (Date.now() - lastReport > 10_000) {
      console.log(
        `  … ${count} processed entities after ${(
          (Date.now() - started) /
          1000
        ).toFixed(0)} s`,
      );
      lastReport = Date.now();
    }
  }
  const fullSyncS = (Date.now() - started) / 1000;
  await catalogDb.destroy();

  // Change latency is measured once the catalog has processed the initial
  // sync: while the catalog still works through a backlog, a changed entity
  // waits behind it, which measures the backlog rather than the provider.
  const changeLatencies: number[] = [];
  for (let i = 0; i < (count >= COUNT ? CHANGES : 0); i++) {
    const name = `c-${String(i * Math.floor(COUNT / CHANGES)).padStart(
      5,
      '0',
    )}`;
    const region = `moved-${i}`;
    const t0 = Date.now();
    const patched = await request(server)
      .patch(`/api/kmp/clusters/${name}`)
      .set('Authorization', auth)
      .send({ region });
    if (patched.status !== 200) {
      throw new Error(
        `PATCH ${name} answered ${patched.status}: ${JSON.stringify(
          patched.body,
        )}`,
      );
    }
    for (;;) {
      const res = await request(server)
        .get(`/api/catalog/entities/by-name/resource/default/${name}`)
        .set('Authorization', auth);
      if (
        res.body?.metadata?.annotations?.['kmp.backstage.io/region'] === region
      )
        break;
      if (Date.now() - t0 > 120_000)
        throw new Error(`change of ${name} not visible after 120 s`);
      await new Promise(r => setTimeout(r, 100));
    }
    changeLatencies.push((Date.now() - t0) / 1000);
  }
  await backend.stop();
  fs.rmSync(dir, { recursive: true, force: true });

  const sorted = [...changeLatencies].sort((a, b) => a - b);
  const fmt = (v?: number) =>
    v === undefined
      ? 'not measured (initial sync still processing)'
      : `${v.toFixed(2)} s`;
  console.log('\nKMP registry → catalog benchmark');
  console.log(
    `machine: ${os.cpus().length} cores (${os.cpus()[0]?.model}), ${(
      os.totalmem() /
      2 ** 30
    ).toFixed(0)} GiB, Node ${process.version}, SQLite`,
  );
  console.log('| measure | value | goal | met |');
  console.log('|---|---|---|---|');
  console.log(
    `| provider full sync: ${COUNT} clusters read from the registry and applied as one mutation | ${
      mutationS?.toFixed(1) ?? 'not reached'
    } s | | |`,
  );
  console.log(
    `| full sync into processed entities (backend start → ${count} of ${COUNT} entities) | ${fullSyncS.toFixed(
      1,
    )} s${
      count < COUNT
        ? ` (stopped at ${maxSeconds} s; ${(count / fullSyncS).toFixed(
            1,
          )} entities/s)`
        : ''
    } | < ${GOAL_FULL_SYNC_S} s | ${
      count >= COUNT && fullSyncS < GOAL_FULL_SYNC_S ? 'yes' : 'no'
    } |`,
  );
  console.log(
    `| one change → entity (median of ${sorted.length}) | ${fmt(
      sorted[Math.floor(sorted.length / 2)],
    )} | < ${GOAL_CHANGE_S} s | ${
      sorted.length && sorted[sorted.length - 1] < GOAL_CHANGE_S ? 'yes' : 'no'
    } |`,
  );
  console.log(
    `| one change → entity (max of ${sorted.length}) | ${fmt(
      sorted[sorted.length - 1],
    )} | < ${GOAL_CHANGE_S} s | |`,
  );
  process.exit(0);
}

main().catch(error => {
  console.error(`bench:registry failed: ${error.stack ?? error}`);
  process.exit(1);
});
