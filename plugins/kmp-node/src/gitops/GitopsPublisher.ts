import { ConflictError, InputError } from '@backstage/errors';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GitIdentity, GitopsRepository } from './config';

/**
 * One folder of the GitOps repository and the files that belong in it.
 *
 * @public
 */
export interface PublishEntry {
  /** Repository-relative folder. */
  folder: string;
  /**
   * File name (relative to `folder`) → content; or a function of the
   * folder's current files (same shape) returning the files to write, for
   * publications that edit what is declared there.
   */
  files:
    | Map<string, string>
    | ((current: Map<string, string>) => Promise<Map<string, string>>);
  /**
   * Whether the publication owns the folder entirely (default): files it
   * does not list are removed. When false, other files stay as they are.
   */
  owned?: boolean;
}

/** @public */
export interface PublishResult {
  repoUrl: string;
  branch: string;
  baseBranch: string;
  commit: string;
  changed: boolean;
  pushed: boolean;
  files: string[];
}

/**
 * Reads the files of a folder (recursively) as name → content, names
 * relative to the folder with `/` separators; a missing folder is empty.
 *
 * @public
 */
export async function readFolderFiles(
  dir: string,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  let names: string[];
  try {
    names = (await fs.promises.readdir(dir, { recursive: true }))
      .map(String)
      .sort();
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return files;
    throw error;
  }
  for (const name of names) {
    const file = path.join(dir, name);
    if ((await fs.promises.stat(file)).isFile()) {
      files.set(
        name.split(path.sep).join('/'),
        await fs.promises.readFile(file, 'utf8'),
      );
    }
  }
  return files;
}

/**
 * Writes folders into a GitOps repository with one commit and pushes it:
 * clone (shallow, one branch), replace the owned folders' content (or add
 * to folders it does not own), commit when anything changed (author = the
 * user, committer = the publisher), push to the base branch or to a review
 * branch. Re-running with the same content changes nothing. The
 * repository's credentials never appear in an error it throws.
 *
 * One implementation for the scaffolder's `kmp:gitops:publish` and the KMP
 * backend's `POST /clusters/{cluster}/gitops/publish`.
 *
 * @public
 */
export class GitopsPublisher {
  private constructor(
    private readonly repo: GitopsRepository,
    private readonly committer: GitIdentity,
  ) {}

  static create(options: {
    repository: GitopsRepository;
    committer: GitIdentity;
  }): GitopsPublisher {
    return new GitopsPublisher(options.repository, options.committer);
  }

  /** The repository, for results and messages (its URL holds no credentials). */
  get repositoryUrl(): string {
    return this.repo.url;
  }

  /** An error message with the repository's secret taken out. */
  private redact(message: string): string {
    const secret = this.repo.auth?.password;
    if (!secret) return message;
    return message
      .split(secret)
      .join('***')
      .split(encodeURIComponent(secret))
      .join('***');
  }

  private onAuth = () =>
    this.repo.auth
      ? { username: this.repo.auth.username, password: this.repo.auth.password }
      : undefined;

  private async remoteBranchExists(branch: string): Promise<boolean> {
    const refs = await git.listServerRefs({
      http,
      url: this.repo.url,
      prefix: `refs/heads/${branch}`,
      onAuth: this.onAuth,
    });
    return refs.some(r => r.ref === `refs/heads/${branch}`);
  }

  /**
   * Publishes `entries` as one commit. `dir` is an empty temporary folder
   * for the clone, which the caller removes afterwards.
   */
  async publish(options: {
    dir: string;
    entries: PublishEntry[];
    message: string;
    author: GitIdentity;
    /** Push to this branch (created from the base branch) for review. */
    reviewBranch?: string;
    dryRun: boolean;
  }): Promise<PublishResult> {
    try {
      return await this.publishIn(options);
    } catch (error) {
      const e = error as Error;
      e.message = this.redact(e.message);
      if (e.stack) e.stack = this.redact(e.stack);
      throw e;
    }
  }

  /**
   * Publishes from a fresh temporary clone, removed afterwards. When the
   * branch moved on during the publication (another writer pushed first:
   * a ConflictError), it clones and publishes again, up to `attempts`
   * times in all; `onRetry` hears about each new attempt.
   */
  async publishFromFreshClone(
    options: Omit<Parameters<GitopsPublisher['publish']>[0], 'dir'>,
    retry: { attempts?: number; onRetry?: (attempt: number) => void } = {},
  ): Promise<PublishResult> {
    const attempts = retry.attempts ?? 3;
    for (let attempt = 1; ; attempt++) {
      const dir = await fs.promises.mkdtemp(
        path.join(os.tmpdir(), 'kmp-gitops-'),
      );
      try {
        return await this.publish({ ...options, dir });
      } catch (error) {
        if (!(error instanceof ConflictError) || attempt >= attempts) {
          throw error;
        }
        retry.onRetry?.(attempt + 1);
      } finally {
        await fs.promises.rm(dir, { recursive: true, force: true });
      }
    }
  }

  private async publishIn(options: {
    dir: string;
    entries: PublishEntry[];
    message: string;
    author: GitIdentity;
    reviewBranch?: string;
    dryRun: boolean;
  }): Promise<PublishResult> {
    const { dir } = options;
    const baseBranch = this.repo.branch;
    const branch = options.reviewBranch ?? baseBranch;
    const branchExists =
      branch === baseBranch ? true : await this.remoteBranchExists(branch);
    try {
      await git.clone({
        fs,
        http,
        dir,
        url: this.repo.url,
        ref: branchExists ? branch : baseBranch,
        singleBranch: true,
        depth: 1,
        onAuth: this.onAuth,
      });
    } catch (error) {
      const e = error as Error & { code?: string };
      if (e.code === 'NotFoundError') {
        throw new InputError(
          `Branch ${baseBranch} not found in GitOps repository ${this.repo.url}`,
        );
      }
      throw new Error(
        `Could not clone GitOps repository ${this.repo.url}: ${e.message}`,
      );
    }
    if (!branchExists) {
      await git.branch({ fs, dir, ref: branch, checkout: true });
    }

    const written: string[] = [];
    for (const entry of options.entries) {
      const folder = path.join(dir, entry.folder);
      if (!folder.startsWith(`${dir}${path.sep}`)) {
        throw new InputError(
          `GitOps folder ${entry.folder} is outside the repository`,
        );
      }
      const files =
        typeof entry.files === 'function'
          ? await entry.files(await readFolderFiles(folder))
          : entry.files;
      if (entry.owned ?? true) {
        await fs.promises.rm(folder, { recursive: true, force: true });
      }
      for (const [name, content] of files) {
        const file = path.join(folder, name);
        if (!file.startsWith(`${folder}${path.sep}`)) {
          throw new InputError(
            `GitOps file ${name} is outside ${entry.folder}`,
          );
        }
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        await fs.promises.writeFile(file, content);
        written.push(path.posix.join(entry.folder, name));
      }
    }

    // Stage additions, changes and deletions under the owned folders.
    const matrix = await git.statusMatrix({
      fs,
      dir,
      filter: f =>
        options.entries.some(
          e => f === e.folder || f.startsWith(`${e.folder}/`),
        ),
    });
    let changed = false;
    for (const [filepath, head, workdir, stage] of matrix) {
      if (head === 1 && workdir === 1 && stage === 1) continue;
      changed = true;
      if (workdir === 0) await git.remove({ fs, dir, filepath });
      else await git.add({ fs, dir, filepath });
    }

    const head = await git.resolveRef({ fs, dir, ref: 'HEAD' });
    if (!changed) {
      // Nothing to change; a new review branch is still pushed so that the
      // result is where the template says it is.
      const pushed = !branchExists && !options.dryRun;
      if (pushed) await this.push(dir, branch);
      return {
        repoUrl: this.repo.url,
        branch,
        baseBranch,
        commit: head,
        changed: false,
        pushed,
        files: written,
      };
    }

    const now = Math.floor(Date.now() / 1000);
    const commit = await git.commit({
      fs,
      dir,
      message: options.message,
      author: { ...options.author, timestamp: now, timezoneOffset: 0 },
      committer: { ...this.committer, timestamp: now, timezoneOffset: 0 },
    });
    if (!options.dryRun) await this.push(dir, branch);
    return {
      repoUrl: this.repo.url,
      branch,
      baseBranch,
      commit,
      changed: true,
      pushed: !options.dryRun,
      files: written,
    };
  }

  /**
   * Pushes the branch. A rejection (the branch moved on since the clone, or
   * the server refused the update) is a ConflictError: publishing again
   * from a fresh clone may succeed.
   */
  private async push(dir: string, branch: string) {
    let result;
    try {
      result = await git.push({
        fs,
        http,
        dir,
        remote: 'origin',
        ref: branch,
        remoteRef: `refs/heads/${branch}`,
        onAuth: this.onAuth,
      });
    } catch (error) {
      const e = error as Error & { code?: string };
      if (e.code === 'PushRejectedError') {
        throw new ConflictError(
          `Push to ${this.repo.url} (${branch}) was rejected: the branch moved on`,
        );
      }
      throw e;
    }
    if (!result.ok) {
      throw new ConflictError(
        `Push to ${this.repo.url} (${branch}) was rejected: ${
          result.error ?? 'unknown reason'
        }`,
      );
    }
  }
}
