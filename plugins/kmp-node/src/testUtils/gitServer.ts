import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** Environment for git commands of the test itself: no user config. */
const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
  GIT_AUTHOR_NAME: 'Test Seed',
  GIT_AUTHOR_EMAIL: 'seed@test.invalid',
  GIT_COMMITTER_NAME: 'Test Seed',
  GIT_COMMITTER_EMAIL: 'seed@test.invalid',
};

/**
 * Runs git with the test environment; returns stdout.
 *
 * @public
 */
export async function runGit(args: string[], cwd?: string): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: GIT_ENV,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

/**
 * A running test Git server.
 *
 * @public
 */
export interface GitServer {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  /** Folder holding the bare repositories. */
  root: string;
  /**
   * Creates a bare repository with one commit on `branch` (unless it
   * already exists, in a persistent `root`); returns its URL.
   */
  createRepo(
    name: string,
    options?: { branch?: string; files?: Record<string, string> },
  ): Promise<string>;
  /** Requests the server answered, for assertions on auth and pushes. */
  requests: Array<{ method: string; path: string; status: number }>;
  stop(): Promise<void>;
}

function parseCgiOutput(output: Buffer): {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
} {
  let end = output.indexOf('\r\n\r\n');
  let sepLength = 4;
  if (end === -1) {
    end = output.indexOf('\n\n');
    sepLength = 2;
  }
  const head = output.subarray(0, end).toString('latin1');
  const headers: Array<[string, string]> = [];
  let status = 200;
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === 'status') status = parseInt(value, 10);
    else headers.push([name, value]);
  }
  return { status, headers, body: output.subarray(end + sepLength) };
}

/**
 * A real Git smart-HTTP server for tests and the local demo: `git
 * http-backend` (CGI) behind a small Node HTTP server on 127.0.0.1,
 * serving bare repositories from a temporary folder (removed on stop) or
 * from `root` (kept), with optional HTTP Basic authentication. Clone, fetch
 * and push work with any Git client.
 *
 * @public
 */
export async function startGitServer(
  options: {
    auth?: { username: string; password: string };
    /** Folder of the bare repositories, kept on stop; default a temporary one. */
    root?: string;
    /** Port to listen on; default any free port. */
    port?: number;
  } = {},
): Promise<GitServer> {
  const persistent = options.root !== undefined;
  const root = persistent
    ? path.resolve(options.root!)
    : await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-git-'));
  if (persistent) await fs.mkdir(root, { recursive: true });
  const requests: GitServer['requests'] = [];
  const expected = options.auth
    ? `Basic ${Buffer.from(
        `${options.auth.username}:${options.auth.password}`,
      ).toString('base64')}`
    : undefined;

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const record = (status: number) =>
      requests.push({ method: req.method ?? '', path: url.pathname, status });
    if (expected && req.headers.authorization !== expected) {
      record(401);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
      res.end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const cgi = spawn('git', ['http-backend'], {
        env: {
          ...GIT_ENV,
          GIT_PROJECT_ROOT: root,
          GIT_HTTP_EXPORT_ALL: '1',
          PATH_INFO: decodeURIComponent(url.pathname),
          QUERY_STRING: url.search.slice(1),
          REQUEST_METHOD: req.method ?? 'GET',
          CONTENT_TYPE: req.headers['content-type'] ?? '',
          CONTENT_LENGTH: String(body.length),
          HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
          HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
          REMOTE_USER: options.auth?.username ?? 'anonymous',
          REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        },
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      cgi.stdout.on('data', c => out.push(c));
      cgi.stderr.on('data', c => err.push(c));
      cgi.on('close', () => {
        const parsed = parseCgiOutput(Buffer.concat(out));
        record(parsed.status);
        res.writeHead(parsed.status, parsed.headers.flat());
        res.end(parsed.body);
      });
      cgi.on('error', e => {
        record(500);
        res.writeHead(500);
        res.end(String(e));
      });
      cgi.stdin.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    root,
    requests,
    async createRepo(name, repoOptions = {}) {
      const branch = repoOptions.branch ?? 'main';
      const bare = path.join(root, `${name}.git`);
      const exists = await fs
        .stat(bare)
        .then(() => true)
        .catch(() => false);
      if (exists) return `${baseUrl}/${name}.git`;
      await runGit(['init', '--bare', `--initial-branch=${branch}`, bare]);
      await runGit(['config', 'http.receivepack', 'true'], bare);
      const work = await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-git-seed-'));
      await runGit(['init', `--initial-branch=${branch}`, work]);
      const files = repoOptions.files ?? {
        'README.md': `# ${name}\n\nGitOps repository.\n`,
      };
      for (const [file, content] of Object.entries(files)) {
        await fs.mkdir(path.dirname(path.join(work, file)), {
          recursive: true,
        });
        await fs.writeFile(path.join(work, file), content);
      }
      await runGit(['add', '-A'], work);
      await runGit(['commit', '-m', 'Initial commit'], work);
      await runGit(['push', bare, `${branch}:${branch}`], work);
      await fs.rm(work, { recursive: true, force: true });
      return `${baseUrl}/${name}.git`;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
      if (!persistent) await fs.rm(root, { recursive: true, force: true });
    },
  };
}

/**
 * The head commit of a clone, as the real git client reports it.
 *
 * @public
 */
export interface ClonedCommit {
  dir: string;
  sha: string;
  authorName: string;
  authorEmail: string;
  committerName: string;
  subject: string;
  body: string;
  parents: number;
  /** Repository-relative paths of the commit's tree. */
  files: string[];
  read(file: string): Promise<string>;
  cleanup(): Promise<void>;
}

/**
 * Clones a branch with the real git client and describes its head commit.
 *
 * @public
 */
export async function cloneHead(
  url: string,
  branch: string,
  auth?: { username: string; password: string },
): Promise<ClonedCommit> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-git-clone-'));
  const authed = auth
    ? url.replace(
        '://',
        `://${encodeURIComponent(auth.username)}:${encodeURIComponent(
          auth.password,
        )}@`,
      )
    : url;
  await runGit(['clone', '--quiet', '--branch', branch, authed, dir]);
  const format = ['%H', '%an', '%ae', '%cn', '%P', '%s', '%b'].join('%x00');
  const [sha, authorName, authorEmail, committerName, parents, subject, body] =
    (await runGit(['log', '-1', `--format=${format}`], dir)).split('\0');
  const files = (await runGit(['ls-tree', '-r', '--name-only', 'HEAD'], dir))
    .split('\n')
    .filter(Boolean);
  return {
    dir,
    sha,
    authorName,
    authorEmail,
    committerName,
    subject,
    body: body.trim(),
    parents: parents.trim() ? parents.trim().split(' ').length : 0,
    files,
    read: file => fs.readFile(path.join(dir, file), 'utf8'),
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The number of commits on a branch of a bare repository.
 *
 * @public
 */
export async function commitCount(
  server: GitServer,
  repo: string,
  branch: string,
): Promise<number> {
  const out = await runGit(
    ['rev-list', '--count', branch],
    path.join(server.root, `${repo}.git`),
  );
  return Number(out.trim());
}

/**
 * Whether a branch exists in a bare repository.
 *
 * @public
 */
export async function branchExists(
  server: GitServer,
  repo: string,
  branch: string,
): Promise<boolean> {
  const out = await runGit(
    ['branch', '--list', branch],
    path.join(server.root, `${repo}.git`),
  );
  return out.trim().length > 0;
}
