import { InputError } from '@backstage/errors';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import fs from 'node:fs';
import path from 'node:path';
import { GitopsRepository } from '../config';

/** One folder of the GitOps repository and the files that belong in it. */
export interface PublishEntry {
  /** Repository-relative folder this publication owns entirely. */
  folder: string;
  /** Repository-relative file name (inside `folder`) → content. */
  files: Map<string, string>;
}

export interface PublishResult {
  repoUrl: string;
  branch: string;
  baseBranch: string;
  commit: string;
  changed: boolean;
  pushed: boolean;
  files: string[];
}

export interface GitIdentity {
  name: string;
  email: string;
}

/**
 * Writes folders into a GitOps repository with one commit and pushes it:
 * clone (shallow, one branch), replace the owned folders' content, commit
 * when anything changed (author = the initiator, committer = the
 * publisher), push to the base branch or to a review branch. Re-running
 * with the same content changes nothing.
 */
export class GitopsPublisher {
  constructor(
    private readonly repo: GitopsRepository,
    private readonly committer: GitIdentity,
  ) {}

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

  async publish(options: {
    dir: string;
    entries: PublishEntry[];
    message: string;
    author: GitIdentity;
    /** Push to this branch (created from the base branch) for review. */
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
      await fs.promises.rm(folder, { recursive: true, force: true });
      for (const [name, content] of entry.files) {
        const file = path.join(folder, name);
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

  private async push(dir: string, branch: string) {
    const result = await git.push({
      fs,
      http,
      dir,
      remote: 'origin',
      ref: branch,
      remoteRef: `refs/heads/${branch}`,
      onAuth: this.onAuth,
    });
    if (!result.ok) {
      throw new Error(
        `Push to ${this.repo.url} (${branch}) was rejected: ${
          result.error ?? 'unknown reason'
        }`,
      );
    }
  }
}
