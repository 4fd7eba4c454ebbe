/*
 * Builds (once) and caches the kube-testbed Go binary.
 *
 * Cache layout:
 *   ${KUBE_TESTBED_CACHE:-${XDG_CACHE_HOME:-~/.cache}/kmp/kube-testbed}/
 *     <sha256 of go.mod, go.sum, *.go>/kube-testbed
 *     <hash>/build.log, <hash>/build.json
 *     last-build.json
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BINARY_NAME = 'kube-testbed';

/** Directory of the Go module (packages/kube-testbed/go). */
export function goSourceDir(): string {
  // src/build.ts and dist/*.cjs.js both sit one level below the package
  // root, and the package is only ever used from the monorepo.
  // eslint-disable-next-line no-restricted-syntax
  return path.resolve(__dirname, '..', 'go');
}

export function cacheBaseDir(): string {
  if (process.env.KUBE_TESTBED_CACHE) {
    return path.resolve(process.env.KUBE_TESTBED_CACHE);
  }
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'kmp', 'kube-testbed');
}

/** Hash of everything that determines the binary. */
export function sourceHash(goDir = goSourceDir()): string {
  const files = fs
    .readdirSync(goDir)
    .filter(f => f === 'go.mod' || f === 'go.sum' || f.endsWith('.go'))
    .filter(f => !f.endsWith('_test.go'))
    .sort();
  if (!files.includes('go.mod')) {
    throw new Error(`kube-testbed: no go.mod in ${goDir}`);
  }
  const h = crypto.createHash('sha256');
  h.update(`${process.platform}/${process.arch}\0`);
  for (const f of files) {
    h.update(f);
    h.update('\0');
    h.update(fs.readFileSync(path.join(goDir, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

export interface BuildInfo {
  hash: string;
  binary: string;
  buildMs: number;
  goVersion?: string;
  date: string;
  /** true when the Go build cache had nothing for this module before */
  coldCache?: boolean;
}

export interface EnsureBinaryResult {
  binary: string;
  hash: string;
  /** false when this call ran `go build` */
  cached: boolean;
  /** build metadata recorded when the binary was built */
  info?: BuildInfo;
}

export interface EnsureBinaryOptions {
  /** progress messages; default: stderr */
  log?: (msg: string) => void;
  /** wait at most this long for another process' build; default 45 min */
  lockTimeoutMs?: number;
}

export function binaryPathFor(hash = sourceHash()): string {
  return path.join(cacheBaseDir(), hash, BINARY_NAME);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export function readBuildInfo(hash = sourceHash()): BuildInfo | undefined {
  return readJson<BuildInfo>(path.join(cacheBaseDir(), hash, 'build.json'));
}

export function readLastBuildInfo(): BuildInfo | undefined {
  return readJson<BuildInfo>(path.join(cacheBaseDir(), 'last-build.json'));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Acquires <dir>/.lock (a directory, created atomically). A lock whose
 * owner process is gone is taken over.
 */
async function acquireLock(
  dir: string,
  timeoutMs: number,
  onWait: () => void,
): Promise<() => void> {
  const lock = path.join(dir, '.lock');
  const owner = path.join(lock, 'owner');
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(
        owner,
        JSON.stringify({ pid: process.pid, host: os.hostname() }),
      );
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw e;
      }
    }
    const info = readJson<{ pid: number; host: string }>(owner);
    let stale = false;
    if (info && info.host === os.hostname() && !pidAlive(info.pid)) {
      stale = true;
    } else if (!info) {
      // owner file not written yet, or the owner died between mkdir and
      // write: stale if the directory is old
      try {
        stale = Date.now() - fs.statSync(lock).mtimeMs > 10_000;
      } catch {
        stale = false;
      }
    }
    if (stale) {
      fs.rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `kube-testbed: timed out waiting for the build lock ${lock} (held by ${JSON.stringify(
          info,
        )}); remove it if no build is running`,
      );
    }
    if (!announced) {
      announced = true;
      onWait();
    }
    await sleep(500);
  }
}

function run(
  cmd: string,
  args: string[],
  opts: { cwd: string; logFd?: number },
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: [
        'ignore',
        opts.logFd === undefined ? 'pipe' : opts.logFd,
        opts.logFd === undefined ? 'pipe' : opts.logFd,
      ],
    });
    let stdout = '';
    child.stdout?.on('data', d => {
      stdout += d;
    });
    child.stderr?.on('data', () => {});
    child.once('error', reject);
    child.once('close', code => resolve({ code, stdout }));
  });
}

const GO_MISSING =
  'kube-testbed: the Go toolchain (`go`, >= 1.25) is not on PATH: install Go from https://go.dev/dl ' +
  '(or set KUBE_TESTBED_BIN to a prebuilt kube-testbed binary).';

/**
 * Returns the path of the kube-testbed binary, building it first if the
 * cache has none for the current Go sources. Safe to call concurrently from
 * several processes (e.g. jest workers): only one builds, the others wait.
 *
 * KUBE_TESTBED_BIN, when set, is returned as is.
 */
export async function ensureBinary(
  opts: EnsureBinaryOptions = {},
): Promise<EnsureBinaryResult> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  if (process.env.KUBE_TESTBED_BIN) {
    const binary = path.resolve(process.env.KUBE_TESTBED_BIN);
    if (!fs.existsSync(binary)) {
      throw new Error(
        `kube-testbed: KUBE_TESTBED_BIN=${binary} does not exist; unset it to build from source`,
      );
    }
    return { binary, hash: 'KUBE_TESTBED_BIN', cached: true };
  }
  const goDir = goSourceDir();
  const hash = sourceHash(goDir);
  const dir = path.join(cacheBaseDir(), hash);
  const binary = path.join(dir, BINARY_NAME);
  if (fs.existsSync(binary)) {
    return { binary, hash, cached: true, info: readBuildInfo(hash) };
  }
  fs.mkdirSync(dir, { recursive: true });
  const release = await acquireLock(
    dir,
    opts.lockTimeoutMs ?? 45 * 60_000,
    () =>
      log(
        `kube-testbed: waiting for another process to finish building ${binary}`,
      ),
  );
  try {
    if (fs.existsSync(binary)) {
      return { binary, hash, cached: true, info: readBuildInfo(hash) };
    }
    let goVersion: string | undefined;
    try {
      goVersion = (
        await run('go', ['env', 'GOVERSION'], { cwd: goDir })
      ).stdout.trim();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error(GO_MISSING);
      }
      throw e;
    }
    const logFile = path.join(dir, 'build.log');
    const tmp = path.join(dir, `${BINARY_NAME}.tmp-${process.pid}`);
    const args = ['build', '-trimpath', '-mod=readonly', '-o', tmp, '.'];
    log(
      `kube-testbed: building the Go binary with ${goVersion} (the first build compiles kube-apiserver and takes several minutes; log: ${logFile})`,
    );
    const logFd = fs.openSync(logFile, 'w');
    fs.writeSync(logFd, `$ cd ${goDir} && go ${args.join(' ')}\n`);
    const started = Date.now();
    let result;
    try {
      result = await run('go', args, { cwd: goDir, logFd });
    } finally {
      fs.closeSync(logFd);
    }
    const buildMs = Date.now() - started;
    if (result.code !== 0 || !fs.existsSync(tmp)) {
      fs.rmSync(tmp, { force: true });
      const tail = fs
        .readFileSync(logFile, 'utf8')
        .trimEnd()
        .split('\n')
        .slice(-15)
        .join('\n');
      throw new Error(
        `kube-testbed: \`go build\` failed (exit ${result.code}) in ${goDir}; fix the Go sources or ` +
          `your Go setup (Go >= 1.25, module proxy reachable) and retry. Full log: ${logFile}\n${tail}`,
      );
    }
    fs.renameSync(tmp, binary);
    const info: BuildInfo = {
      hash,
      binary,
      buildMs,
      goVersion,
      date: new Date().toISOString(),
    };
    fs.writeFileSync(
      path.join(dir, 'build.json'),
      JSON.stringify(info, null, 2),
    );
    fs.writeFileSync(
      path.join(cacheBaseDir(), 'last-build.json'),
      JSON.stringify(info, null, 2),
    );
    log(`kube-testbed: built ${binary} in ${(buildMs / 1000).toFixed(1)} s`);
    return { binary, hash, cached: false, info };
  } finally {
    release();
  }
}
