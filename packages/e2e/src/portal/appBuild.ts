import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot, sleep } from './util';

/**
 * What the built app is made of: the app package and the frontend packages
 * it bundles, the lock file and the config read at build time. Tests and
 * build output are left out.
 */
const SOURCES = [
  'packages/app/src',
  'packages/app/public',
  'packages/app/package.json',
  'plugins/kmp/src',
  'plugins/kmp/package.json',
  'plugins/kmp-common/src',
  'plugins/kmp-common/package.json',
  'app-config.yaml',
  'yarn.lock',
];

const SKIP_DIRS = new Set([
  'node_modules',
  'dist',
  'dist-types',
  '__fixtures__',
]);
const isTest = (name: string) => /\.test\.[cm]?[jt]sx?$/.test(name);

function listFiles(abs: string, out: string[]) {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    return;
  }
  if (stat.isFile()) {
    out.push(abs);
    return;
  }
  for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
    if (entry.isDirectory() && SKIP_DIRS.has(entry.name)) continue;
    if (entry.isFile() && isTest(entry.name)) continue;
    listFiles(path.join(abs, entry.name), out);
  }
}

/** SHA-256 over the paths and contents of the app's sources. */
export function appSourceHash(root = repoRoot()): string {
  const files: string[] = [];
  for (const source of SOURCES) listFiles(path.join(root, source), files);
  const hash = crypto.createHash('sha256');
  for (const file of files.sort()) {
    hash.update(path.relative(root, file));
    hash.update('\0');
    hash.update(fs.readFileSync(file));
    hash.update('\0');
  }
  return hash.digest('hex');
}

/** Runs one exclusive section across processes (e2e, bench, test.sh). */
async function withLock<T>(
  lockFile: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockFile, 'utf8'));
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = true;
      } catch {
        // the holder is gone: a stale lock
      }
      if (!alive) {
        fs.rmSync(lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out waiting for ${lockFile} (held by pid ${holder})`,
        );
      }
      await sleep(1000);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockFile, { force: true });
  }
}

export interface AppBuild {
  distDir: string;
  hash: string;
  /** False when the cached build was current. */
  built: boolean;
  durationMs: number;
}

/**
 * The production build of `packages/app` in its (git-ignored) `dist/`,
 * rebuilt only when the sources changed since the build recorded under
 * `.cache/app-build/`. The app backend serves it, which is faster and
 * lighter than the dev server (~2 GB, ~90 s).
 */
export async function ensureAppBuild(
  options: { log?: (message: string) => void; timeoutMs?: number } = {},
): Promise<AppBuild> {
  const root = repoRoot();
  const log = options.log ?? (() => {});
  const cacheDir = path.join(root, '.cache', 'app-build');
  const stampFile = path.join(cacheDir, 'source-hash');
  const distDir = path.join(root, 'packages', 'app', 'dist');
  fs.mkdirSync(cacheDir, { recursive: true });
  const started = Date.now();

  return withLock(
    path.join(cacheDir, 'lock'),
    options.timeoutMs ?? 20 * 60_000,
    async () => {
      const hash = appSourceHash(root);
      // KMP_E2E_APP_BUILD=reuse: any existing build will do (iterating on
      // tests while the app's sources change under them).
      const reuse =
        process.env.KMP_E2E_APP_BUILD === 'reuse' &&
        fs.existsSync(path.join(distDir, 'index.html'));
      const current =
        reuse ||
        (fs.existsSync(path.join(distDir, 'index.html')) &&
          fs.existsSync(stampFile) &&
          fs.readFileSync(stampFile, 'utf8').trim() === hash);
      if (current) {
        return { distDir, hash, built: false, durationMs: 0 };
      }
      log(`building the app (sources ${hash.slice(0, 12)} changed)`);
      fs.rmSync(stampFile, { force: true });
      const yarn = path.join(root, '.cache', 'bin', 'yarn');
      await new Promise<void>((resolve, reject) => {
        const child = spawn(
          fs.existsSync(yarn) ? yarn : 'yarn',
          ['workspace', 'app', 'build'],
          {
            cwd: root,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, NODE_ENV: 'production' },
          },
        );
        let output = '';
        const keep = (chunk: Buffer) => {
          output = (output + chunk.toString()).slice(-20_000);
        };
        child.stdout.on('data', keep);
        child.stderr.on('data', keep);
        const timer = setTimeout(
          () => child.kill('SIGKILL'),
          options.timeoutMs ?? 20 * 60_000,
        );
        child.on('error', reject);
        child.on('exit', code => {
          clearTimeout(timer);
          if (code === 0) resolve();
          else reject(new Error(`app build failed (exit ${code}):\n${output}`));
        });
      });
      fs.writeFileSync(stampFile, `${hash}\n`);
      const durationMs = Date.now() - started;
      log(`app built in ${Math.round(durationMs / 1000)} s`);
      return { distDir, hash, built: true, durationMs };
    },
  );
}
