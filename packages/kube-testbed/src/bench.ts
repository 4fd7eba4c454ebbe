/*
 * yarn bench:testbed [--clusters N] [--fixtures | --minimal-crds] [--settle SECONDS]
 *                    [--apiserver-arg=--flag=value ...] [--env K=V ...]
 *
 * Measures: build (cold if the cache has no binary for the current
 * sources, otherwise the recorded build times), warm start of N clusters
 * (default 3), and RSS per apiserver process after settling, against the
 * targets (20 s for 3 clusters, 400 MB per apiserver).
 */
import fs from 'node:fs';
import {
  binaryPathFor,
  ensureBinary,
  readBuildInfo,
  readLastBuildInfo,
  sourceHash,
} from './build';
import { DEFAULT_GOMEMLIMIT, Testbed } from './Testbed';

const TARGET_START_S = 20;
const TARGET_RSS_MB = 400;

function parse(argv: string[]) {
  const out = {
    clusters: 3,
    fixtures: false,
    minimalCrds: false,
    settle: 15,
    apiserverArgs: [] as string[],
    env: {} as Record<string, string>,
  };
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split(/=(.*)/s, 2);
    const val = () => (inline !== undefined ? inline : argv[++i]);
    switch (k) {
      case '--clusters':
        out.clusters = Number(val());
        break;
      case '--fixtures':
        out.fixtures = true;
        break;
      case '--minimal-crds':
        out.fixtures = true;
        out.minimalCrds = true;
        break;
      case '--settle':
        out.settle = Number(val());
        break;
      case '--apiserver-arg':
        out.apiserverArgs.push(val());
        break;
      case '--env': {
        const [ek, ev] = val().split(/=(.*)/s, 2);
        out.env[ek] = ev ?? '';
        break;
      }
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  return out;
}

const mb = (b?: number) =>
  b === undefined ? 'n/a' : `${(b / 1024 / 1024).toFixed(0)} MB`;
const mark = (ok: boolean) => (ok ? 'OK  ' : 'MISS');

async function main() {
  const args = parse(process.argv.slice(2));
  Object.assign(process.env, args.env);

  // ---- build
  const hash = process.env.KUBE_TESTBED_BIN ? undefined : sourceHash();
  const wasCached = hash ? fs.existsSync(binaryPathFor(hash)) : true;
  const t0 = Date.now();
  const build = await ensureBinary();
  const buildS = (Date.now() - t0) / 1000;
  console.log('== build');
  if (!wasCached) {
    console.log(
      `  built now: ${buildS.toFixed(
        1,
      )} s (cold only if the Go build cache was empty)`,
    );
  } else {
    const info = hash ? readBuildInfo(hash) : undefined;
    const last = readLastBuildInfo();
    console.log(
      `  cached binary: ${build.binary} (lookup ${buildS.toFixed(2)} s)`,
    );
    if (info) {
      console.log(
        `  recorded build of these sources: ${(info.buildMs / 1000).toFixed(
          1,
        )} s (${info.goVersion}, ${info.date})`,
      );
    }
    if (last && last.hash !== hash) {
      console.log(
        `  last recorded build (other sources): ${(last.buildMs / 1000).toFixed(
          1,
        )} s (${last.date})`,
      );
    }
    console.log(
      '  (a first build with an empty Go build cache took ~11.5 min on 2 cores when measured)',
    );
  }

  // ---- warm start
  console.log(
    `== start ${args.clusters} clusters${args.fixtures ? ' + fixtures' : ''}`,
  );
  const started = Date.now();
  const tb = await Testbed.start({
    clusters: Array.from({ length: args.clusters }, (_, i) => `bench-${i + 1}`),
    binary: build.binary,
    apiserverArgs: args.apiserverArgs,
    fixtures: args.fixtures
      ? { crdSchemas: args.minimalCrds ? 'minimal' : 'real' }
      : false,
  });
  const totalS = (Date.now() - started) / 1000;
  try {
    const readyS = (tb.startMs ?? 0) / 1000;
    console.log(
      `  ${mark(
        readyS < TARGET_START_S,
      )} all ready (etcd + apiservers + controllers): ${readyS.toFixed(
        1,
      )} s (target < ${TARGET_START_S} s)`,
    );
    for (const c of tb.clusters) {
      console.log(
        `       ${c.name}: spawn -> /readyz ${(
          (c.lastStartMs ?? 0) / 1000
        ).toFixed(1)} s`,
      );
    }
    if (args.fixtures) {
      console.log(`       incl. fixtures: ${totalS.toFixed(1)} s`);
    }
    // ---- RSS
    console.log(`== RSS after ${args.settle} s`);
    await new Promise(r => setTimeout(r, args.settle * 1000));
    let worst = 0;
    for (const c of tb.clusters) {
      const m = c.memory();
      const rss = m?.rss ?? 0;
      worst = Math.max(worst, rss);
      console.log(
        `  ${mark(rss < TARGET_RSS_MB * 1024 * 1024)} ${c.name} apiserver pid ${
          c.pid
        }: VmRSS ${mb(rss)} ` +
          `(anon ${mb(m?.anon)}, file-backed ${mb(
            m?.file,
          )} mostly the shared binary) (target < ${TARGET_RSS_MB} MB)`,
      );
    }
    console.log(
      `       etcd (shared) pid ${tb.etcdPid}: ${mb(tb.etcdRssBytes())}`,
    );
    console.log(
      `       apiserver GOMEMLIMIT: ${
        args.env.KUBE_TESTBED_GOMEMLIMIT ??
        process.env.KUBE_TESTBED_GOMEMLIMIT ??
        DEFAULT_GOMEMLIMIT
      }`,
    );
    console.log(
      `== summary: start ${readyS.toFixed(1)} s, max apiserver RSS ${mb(
        worst,
      )}, ` +
        `${
          readyS < TARGET_START_S && worst < TARGET_RSS_MB * 1024 * 1024
            ? 'targets met'
            : 'TARGETS MISSED'
        }`,
    );
  } finally {
    await tb.stopAll();
  }
}

main().catch(e => {
  console.error(e instanceof Error ? e.stack ?? e.message : e);
  process.exit(1);
});
