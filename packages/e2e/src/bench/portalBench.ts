/* eslint-disable no-console */
/**
 * yarn bench:portal — the fleet page in headless Chromium against the real
 * backend holding N synthetic clusters (default 10,000): time until the
 * page is interactive, and the time from typing into the cluster filter to
 * the table showing the filtered rows. Several runs, p50/p95, printed next
 * to the goals and, as a baseline measured in the same run, the backend's
 * own answer time for the same list queries.
 */
import fs from 'node:fs';
import path from 'node:path';
import knexFactory from 'knex';
import { launchBrowser, signIn } from '../browser';
import { startPortal } from '../portal/startPortal';
import { repoRoot } from '../portal/util';

const COUNT = Number(process.env.KMP_BENCH_CLUSTERS ?? 10_000);
const RUNS = Number(process.env.KMP_BENCH_RUNS ?? 7);
const GOAL_INTERACTIVE_MS = 2000;
const GOAL_FILTER_MS = 200;
// Runs from source only (a private tooling package, never built).
// eslint-disable-next-line no-restricted-syntax
const ARTIFACTS = path.resolve(__dirname, '../../artifacts');

const GROUPS = [
  ['payments-prod', 'production'],
  ['payments-nonprod', 'non-production'],
  ['retail-edge', 'edge'],
] as const;
const STATES = ['active', 'active', 'active', 'degraded', 'unreachable'];

/** The cluster name of the i-th synthetic cluster. */
const nameOf = (i: number) => `c-${String(i).padStart(5, '0')}`;

/**
 * Writes N clusters straight into the registry's tables, as
 * `yarn bench:registry` does. They are reached through edge agents (no API
 * server URL), so the registry's refresh loop leaves them alone and the
 * machine stays quiet for the browser.
 */
async function seed(sqliteDir: string) {
  const db = knexFactory({
    client: 'better-sqlite3',
    connection: { filename: path.join(sqliteDir, 'kmp.sqlite') },
    useNullAsDefault: true,
  });
  try {
    await db.migrate.latest({
      directory: path.join(repoRoot(), 'plugins/kmp-backend/migrations'),
    });
    const now = Date.now();
    const rows = Array.from({ length: COUNT }, (_, i) => {
      const [group, environment] = GROUPS[i % GROUPS.length];
      return {
        name: nameOf(i),
        title: `Synthetic cluster ${i}`,
        environment,
        environment_group: group,
        region: `region-${i % 40}`,
        profile: 'standard',
        connectivity: i % 2 ? 'edge-async' : 'edge',
        lifecycle_state: STATES[i % STATES.length],
        owner: 'group:default/platform-team',
        kubernetes_version: 'v1.34.2',
        source: 'api',
        consecutive_failures: 0,
        revision: i + 1,
        created_at: now,
        updated_at: now,
      };
    });
    for (let i = 0; i < rows.length; i += 500) {
      await db('kmp_clusters').insert(rows.slice(i, i + 500));
    }
    await db('kmp_registry_revision')
      .where({ id: 1 })
      .update({ revision: COUNT });
  } finally {
    await db.destroy();
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(
    sorted.length - 1,
    Math.max(0, Math.ceil((p / 100) * sorted.length) - 1),
  );
  return sorted[index];
}

const ms = (v: number) => `${Math.round(v)} ms`;

async function main() {
  const portal = await startPortal({
    demoFleet: false,
    log: m => console.error(`[bench] ${m}`),
    logDir: path.join(ARTIFACTS, 'bench'),
    prepareDatabase: async dir => {
      const started = Date.now();
      await seed(dir);
      console.error(
        `[bench] seeded ${COUNT} clusters in ${Date.now() - started} ms`,
      );
    },
    config: {
      kmp: {
        // Nothing to refresh, sync or scan while the browser measures.
        catalog: { enabled: false },
        registry: { refresh: { intervalSeconds: 86400 } },
        policy: { compliance: { enabled: false } },
      },
    },
  });
  const browser = await launchBrowser();
  const interactive: number[] = [];
  const filter: number[] = [];
  const backendList: number[] = [];
  const backendFilter: number[] = [];
  try {
    // petra is a platform engineer in every environment group: she sees
    // the whole fleet.
    const session = await signIn(browser, portal, 'petra');
    // One warm-up load (fills Chromium's cache), which also lends the
    // baseline requests the viewer's token.
    const warmup = await session.context.newPage();
    const listRequest = warmup.waitForRequest(r =>
      r.url().includes('/api/kmp/clusters?'),
    );
    await warmup.goto('/kmp');
    const token = (await (await listRequest).allHeaders()).authorization;
    await warmup.getByRole('cell', { name: nameOf(0) }).waitFor();
    await warmup.close();
    const timeList = async (query: string) => {
      const started = performance.now();
      const res = await fetch(`${portal.baseUrl}/api/kmp/clusters?${query}`, {
        headers: token ? { authorization: token } : {},
      });
      const body = (await res.json()) as { totalCount?: number };
      if (!res.ok) throw new Error(`list answered ${res.status}`);
      return { ms: performance.now() - started, total: body.totalCount };
    };
    const first = await timeList('limit=20&offset=0');
    if (first.total !== COUNT) {
      throw new Error(
        `the backend lists ${first.total} clusters, not ${COUNT}: is the viewer allowed to see them all?`,
      );
    }

    for (let run = 0; run < RUNS; run++) {
      const page = await session.context.newPage();
      await page.goto('/kmp', { waitUntil: 'commit' });
      // Interactive: the first page of clusters is in the table and the
      // filter box takes input. Time from navigation start.
      const tti = await page.waitForFunction(
        () => {
          const input = document.querySelector<HTMLInputElement>(
            'input[placeholder="Filter"]',
          );
          const cell = [...document.querySelectorAll('td')].some(td =>
            /^c-\d{5}$/.test(td.textContent ?? ''),
          );
          return input && !input.disabled && cell ? performance.now() : 0;
        },
        undefined,
        { polling: 'raf', timeout: 120_000 },
      );
      interactive.push(await tti.jsonValue());

      // Filter: a prefix that matches ten clusters, different each run.
      const prefix = nameOf(1000 + run * 1111).slice(0, 6);
      const box = page.locator('input[placeholder="Filter"]');
      await box.click();
      const started = await page.evaluate(() => performance.now());
      await box.fill(prefix);
      const updated = await page.waitForFunction(
        p => {
          const names = [...document.querySelectorAll('td')]
            .map(td => td.textContent ?? '')
            .filter(t => /^c-\d{5}$/.test(t));
          return names.length > 0 && names.every(n => n.startsWith(p))
            ? performance.now()
            : 0;
        },
        prefix,
        { polling: 'raf', timeout: 60_000 },
      );
      filter.push((await updated.jsonValue()) - started);
      await page.close();

      backendList.push((await timeList('limit=20&offset=0')).ms);
      backendFilter.push((await timeList(`q=${prefix}&limit=20&offset=0`)).ms);
      console.error(
        `[bench] run ${run + 1}/${RUNS}: interactive ${ms(
          interactive[run],
        )}, filter ${ms(filter[run])}`,
      );
    }
    await session.context.close();
  } finally {
    await browser.close();
    await portal.stop();
  }

  const rows = [
    {
      metric: 'fleet page interactive',
      p50: percentile(interactive, 50),
      p95: percentile(interactive, 95),
      goal: GOAL_INTERACTIVE_MS,
      baseline: percentile(backendList, 50),
      baselineName: 'backend list p50',
    },
    {
      metric: 'filter → table updated',
      p50: percentile(filter, 50),
      p95: percentile(filter, 95),
      goal: GOAL_FILTER_MS,
      baseline: percentile(backendFilter, 50),
      baselineName: 'backend filtered list p50',
    },
  ];
  console.log(
    `\nFleet page, ${COUNT.toLocaleString(
      'en-US',
    )} clusters, ${RUNS} runs (headless Chromium, built app served by the backend)`,
  );
  for (const r of rows) {
    console.log(
      `  ${r.metric.padEnd(24)} p50 ${ms(r.p50).padStart(8)}  p95 ${ms(
        r.p95,
      ).padStart(8)}  goal < ${ms(r.goal).padStart(7)}  ${
        r.p95 < r.goal ? 'MET' : 'MISSED'
      }   (${r.baselineName}: ${ms(r.baseline)})`,
    );
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(
    path.join(ARTIFACTS, 'bench-portal.json'),
    JSON.stringify(
      { clusters: COUNT, runs: RUNS, interactive, filter, rows },
      null,
      2,
    ),
  );
}

main().catch(error => {
  console.error(`[bench] ${error?.stack ?? error}`);
  process.exit(1);
});
