import { ChildProcess, execFile, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  backstageOidcAuthConfig,
  backstageOidcRedirectUri,
  startDemoIdp,
} from '@kmp/demo-idp';
import { Testbed } from '@kmp/kube-testbed';
import { ensureAppBuild } from './appBuild';
import { freePort, repoRoot, sleep, waitFor } from './util';

/** The demo fleet of `scripts/start.sh` (see packages/backend/demo). */
export const DEMO_CLUSTERS = [
  'payments-prod-eu1',
  'payments-dev-eu1',
  'retail-store-0042',
] as const;

export interface PortalOptions {
  /**
   * Start the demo fleet (three kube-testbed control planes registered in
   * KMP) as `scripts/start.sh` does; default true.
   */
  demoFleet?: boolean;
  /**
   * The demo GitOps repositories (a local Git server, one repository per
   * environment group) as `scripts/start.sh` runs them; default true.
   */
  demoGitops?: boolean;
  /**
   * Sign-in: the demo OpenID Connect provider (`@kmp/demo-idp`) as the demo
   * runs it, or guest only. Default: `oidc`.
   */
  signIn?: 'oidc' | 'guest';
  /** More configuration, layered last (JSON-compatible). */
  config?: Record<string, unknown>;
  /** Runs before the backend starts, with the SQLite directory it will use. */
  prepareDatabase?: (sqliteDir: string) => Promise<void>;
  /** Where the backend log goes; default: the portal's temp directory. */
  logDir?: string;
  log?: (message: string) => void;
  /** For the backend to answer on /api/kmp/health and serve the app. */
  readyTimeoutMs?: number;
}

export interface Portal {
  /** Backend and app, one origin: `http://localhost:PORT`. */
  baseUrl: string;
  signIn: 'oidc' | 'guest';
  backendLogFile: string;
  /**
   * Folder of the demo GitOps bare repositories (`<group>-gitops.git`),
   * while the portal runs; undefined without them.
   */
  gitopsRoot?: string;
  /** Stops the backend, the identity provider and the fleet; idempotent. */
  stop(): Promise<void>;
}

const execFileAsync = promisify(execFile);

/** Ends a detached child's whole process group, politely first. */
async function stopGroup(child: ChildProcess, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) {
    return;
  }
  const exited = new Promise<void>(resolve =>
    child.once('exit', () => resolve()),
  );
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, sig);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts the real portal the way `scripts/start.sh` does, on its demo
 * defaults — the backend (SQLite, catalog with the demo organisation, KMP)
 * serving the built app, the demo fleet and the demo identity provider —
 * on free ports and in a temporary directory, so it runs beside a developer's
 * own portal and leaves nothing behind.
 */
export async function startPortal(
  options: PortalOptions = {},
): Promise<Portal> {
  const root = repoRoot();
  const log = options.log ?? (() => {});
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-portal-'));
  const sqliteDir = path.join(tmp, 'sqlite');
  fs.mkdirSync(sqliteDir);
  const cleanups: Array<() => Promise<void>> = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch(error => log(`cleanup failed: ${error}`));
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    await ensureAppBuild({ log });

    const port = await freePort();
    const baseUrl = `http://localhost:${port}`;
    const configFiles = [path.join(root, 'app-config.yaml')];
    const writeConfig = (name: string, data: unknown) => {
      // JSON is YAML: the config loader reads it as it is.
      const file = path.join(tmp, name);
      fs.writeFileSync(file, JSON.stringify(data, null, 2), { mode: 0o600 });
      configFiles.push(file);
    };

    if (options.demoFleet ?? true) {
      log('starting the demo fleet (kube-testbed)');
      const fleetDir = path.join(tmp, 'fleet');
      const testbed = await Testbed.start({
        clusters: [...DEMO_CLUSTERS],
        fixtures: { crdSchemas: 'minimal' },
      });
      cleanups.push(() => testbed.stopAll());
      fs.mkdirSync(fleetDir);
      for (const name of DEMO_CLUSTERS) {
        await testbed
          .cluster(name)
          .writeKubeconfig(path.join(fleetDir, `${name}.kubeconfig`), {
            auth: 'token',
          });
      }
      // The persona RBAC and the team-payments tenant namespace, exactly
      // as scripts/start.sh onboards the demo fleet.
      await execFileAsync(process.execPath, [
        path.join(root, 'packages/backend/demo/onboardDemoFleet.js'),
        fleetDir,
      ]);
      const fleetConfig = path.join(tmp, 'app-config.demo-fleet.yaml');
      await execFileAsync(process.execPath, [
        path.join(root, 'packages/backend/demo/demoFleetConfig.js'),
        fleetDir,
        fleetConfig,
      ]);
      configFiles.push(fleetConfig);
    }

    let gitopsRoot: string | undefined;
    if (options.demoGitops ?? true) {
      log('starting the demo GitOps repositories');
      gitopsRoot = path.join(tmp, 'gitops');
      const gitopsConfig = path.join(tmp, 'app-config.demo-gitops.yaml');
      const gitops = spawn(
        process.execPath,
        [
          path.join(root, 'packages/backend/demo/demoGitops.js'),
          gitopsRoot,
          gitopsConfig,
          '--port',
          String(await freePort()),
        ],
        // Its own process group, which stop() ends.
        { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
      );
      cleanups.push(() => stopGroup(gitops));
      let output = '';
      gitops.stdout!.on('data', chunk => (output += chunk));
      gitops.stderr!.on('data', chunk => (output += chunk));
      await waitFor(
        'the demo GitOps repositories',
        async () => (output.includes('demo GitOps ready') ? true : undefined),
        {
          timeoutMs: 60_000,
          intervalMs: 200,
          abort: () =>
            gitops.exitCode !== null
              ? `the demo GitOps server exited: ${output}`
              : undefined,
        },
      );
      configFiles.push(gitopsConfig);
    }

    const signIn = options.signIn ?? 'oidc';
    let authConfig: Record<string, unknown> = {};
    if (signIn === 'oidc') {
      const clientSecret = crypto.randomBytes(24).toString('base64url');
      const idp = await startDemoIdp({
        port: await freePort(),
        clients: [
          {
            clientId: 'backstage',
            clientSecret,
            clientName: 'KMP (Backstage)',
            redirectUris: [backstageOidcRedirectUri(baseUrl)],
          },
        ],
      });
      cleanups.push(() => idp.stop());
      authConfig = backstageOidcAuthConfig(idp, {
        clientId: 'backstage',
        clientSecret,
        sessionSecret: crypto.randomBytes(24).toString('base64url'),
      });
    }

    writeConfig('app-config.e2e.yaml', {
      app: { baseUrl },
      backend: {
        baseUrl,
        listen: { port },
        cors: { origin: baseUrl },
        database: {
          client: 'better-sqlite3',
          connection: { directory: sqliteDir },
        },
        reading: { allow: [{ host: `localhost:${port}` }] },
      },
      auth: authConfig,
    });
    if (options.config) writeConfig('app-config.extra.yaml', options.config);
    await options.prepareDatabase?.(sqliteDir);

    const logDir = options.logDir ?? tmp;
    fs.mkdirSync(logDir, { recursive: true });
    const backendLogFile = path.join(logDir, 'backend.log');
    const logFd = fs.openSync(backendLogFile, 'w');
    log(`starting the backend on ${baseUrl} (log: ${backendLogFile})`);
    const backend = spawn(
      process.execPath,
      [
        '--require',
        require.resolve('@backstage/cli/config/nodeTransform.cjs'),
        'src/index.ts',
        ...configFiles.flatMap(file => ['--config', file]),
      ],
      {
        cwd: path.join(root, 'packages/backend'),
        // Its own process group, so stop() ends everything it started.
        detached: true,
        stdio: ['ignore', logFd, logFd],
        env: {
          ...process.env,
          NODE_ENV: 'development',
          KMP_ENCRYPTION_KEY: crypto.randomBytes(32).toString('base64'),
        },
      },
    );
    fs.closeSync(logFd);
    // A test runner that dies must not leave the backend behind.
    const killOnExit = () => {
      try {
        process.kill(-backend.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    process.once('exit', killOnExit);
    cleanups.push(async () => {
      process.removeListener('exit', killOnExit);
      await stopGroup(backend);
    });

    const exited = () =>
      backend.exitCode !== null
        ? `the backend exited with ${
            backend.exitCode
          }; see ${backendLogFile}:\n${fs
            .readFileSync(backendLogFile, 'utf8')
            .slice(-3000)}`
        : undefined;
    const timeoutMs = options.readyTimeoutMs ?? 5 * 60_000;
    await waitFor(
      'the KMP backend to be healthy',
      async () => {
        const res = await fetch(`${baseUrl}/api/kmp/health`);
        return res.ok ? true : undefined;
      },
      { timeoutMs, intervalMs: 1000, abort: exited },
    );
    await waitFor(
      'the backend to serve the built app',
      async () => {
        const res = await fetch(`${baseUrl}/`);
        const html = await res.text();
        return res.ok && html.includes('id="root"') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000, abort: exited },
    );
    log(`portal ready on ${baseUrl}`);
    return { baseUrl, signIn, backendLogFile, gitopsRoot, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** A guest user token, for readiness checks over plain HTTP. */
export async function guestToken(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/guest/refresh`);
  if (!res.ok) throw new Error(`guest sign-in answered ${res.status}`);
  const body = (await res.json()) as {
    backstageIdentity: { token: string };
  };
  return body.backstageIdentity.token;
}

export { sleep };
