/*
 * kube-testbed CLI.
 *
 *   kube-testbed start --clusters prod,nonprod,edge [--dir D] [--fixtures]
 *   kube-testbed build
 *   kube-testbed kubectl ARGS...   (the bundled kubectl)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBinary, goSourceDir } from './build';
import { clusterNames, Testbed } from './Testbed';

const USAGE = `usage:
  kube-testbed start [--clusters a,b,c | --clusters N] [--dir DIR]
                     [--fixtures | --minimal-crds] [--kubeconfig FILE] [--token]
      Starts etcd and one kube-apiserver per cluster, prints the connection
      details, writes DIR/kubeconfig (all contexts) and DIR/<name>.kubeconfig,
      and stays up until Ctrl-C. With --dir, data and credentials persist
      across runs. --token: kubeconfigs use the static admin token instead of
      the admin client certificate. --minimal-crds: fixtures with generated
      minimal CRDs instead of the projects' own (much faster, no validation).
  kube-testbed build
      Builds the Go binary into the cache (if needed) and prints its path.
  kube-testbed kubectl ARGS...
      Runs the bundled kubectl.
`;

function parseArgs(argv: string[]) {
  const flags: Record<string, string | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (v !== undefined) {
        flags[k] = v;
      } else if (['fixtures', 'minimal-crds', 'token', 'help'].includes(k)) {
        flags[k] = true;
      } else {
        flags[k] = argv[++i] ?? '';
      }
    } else {
      rest.push(a);
    }
  }
  return { flags, rest };
}

async function cmdStart(flags: Record<string, string | boolean>) {
  const clustersFlag = String(flags.clusters ?? 'prod,nonprod,edge');
  const clusters = /^\d+$/.test(clustersFlag)
    ? Number(clustersFlag)
    : clustersFlag
        .split(',')
        .map(s => s.trim())
        .filter(Boolean);
  clusterNames(clusters); // validate early
  const dir = flags.dir ? path.resolve(String(flags.dir)) : undefined;
  const auth = flags.token ? 'token' : 'cert';
  const started = Date.now();
  const tb = await Testbed.start({
    clusters,
    baseDir: dir,
    keepDir: Boolean(dir),
    fixtures:
      flags.fixtures || flags['minimal-crds']
        ? {
            log: m => console.error(`kube-testbed: ${m}`),
            crdSchemas: flags['minimal-crds'] ? 'minimal' : 'real',
          }
        : false,
    log: m => console.error(m),
  });
  let stopping = false;
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    console.error(`\nkube-testbed: ${sig}, stopping...`);
    await tb.stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  const outDir = dir ?? tb.baseDir;
  const kubeconfig = flags.kubeconfig
    ? path.resolve(String(flags.kubeconfig))
    : path.join(outDir, 'kubeconfig');
  fs.writeFileSync(kubeconfig, tb.kubeconfig({ auth }), { mode: 0o600 });
  console.log(
    `\nkube-testbed: ${tb.clusters.length} cluster(s) ready in ${(
      (Date.now() - started) /
      1000
    ).toFixed(1)} s (etcd ${tb.etcdURL}, data in ${tb.baseDir})\n`,
  );
  for (const c of tb.clusters) {
    const file = path.join(outDir, `${c.name}.kubeconfig`);
    await c.writeKubeconfig(file, { auth });
    console.log(`${c.name}`);
    console.log(`  server:      ${c.server}`);
    console.log(`  CA:          ${c.caFile}`);
    console.log(`  admin token: ${c.token}`);
    console.log(`  client cert: ${c.clientCertFile} / ${c.clientKeyFile}`);
    console.log(`  kubeconfig:  ${file}`);
    console.log(`  pid:         ${c.pid}, log ${c.logFile}`);
  }
  console.log(`\nall contexts: export KUBECONFIG=${kubeconfig}`);
  console.log(
    `kubectl:      ${path.resolve(
      goSourceDir(),
      '..',
      'bin',
      'kube-testbed',
    )} kubectl --kubeconfig ${kubeconfig} get nodes`,
  );
  console.log('\nCtrl-C to stop.');
  // stay up: the child processes keep the event loop alive
}

async function main() {
  const [cmd, ...argv] = process.argv.slice(2);
  if (cmd === 'kubectl') {
    const { binary } = await ensureBinary();
    const r = spawnSync(binary, ['kubectl', ...argv], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const { flags } = parseArgs(argv);
  if (!cmd || cmd === 'help' || flags.help) {
    process.stdout.write(USAGE);
    process.exit(cmd ? 0 : 2);
  }
  switch (cmd) {
    case 'build': {
      const r = await ensureBinary();
      console.log(r.binary);
      if (r.info) {
        console.error(
          `kube-testbed: ${r.cached ? 'cached' : 'built'} (${
            r.info.goVersion
          }, build took ${(r.info.buildMs / 1000).toFixed(1)} s on ${
            r.info.date
          })`,
        );
      }
      return;
    }
    case 'start':
      await cmdStart(flags);
      return;
    default:
      process.stderr.write(`kube-testbed: unknown command ${cmd}\n\n${USAGE}`);
      process.exit(2);
  }
}

main().catch(e => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
