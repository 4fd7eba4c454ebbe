/*
 * GitOps distribution of the governed bundle: committed to the cluster's
 * environment-group repository on a real Git server (`git http-backend`),
 * or written to a local working tree when the group has none. Apply mode
 * and drift run against a real cluster in ../distribution.test.ts.
 */
import { TestDatabases } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import {
  cloneHead,
  commitCount,
  GitServer,
  startGitServer,
} from '@kmp/plugin-kmp-node/testUtils';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PolicyBundleSet } from '../bundle/PolicyBundleSet';
import { PolicyStore } from '../PolicyStore';
import { PolicyDistributor } from './PolicyDistributor';
import { migratedDatabase } from '../../__testUtils__/database';

jest.setTimeout(60_000);

const databases = TestDatabases.create({ ids: ['SQLITE_3'] });
const bundle = PolicyBundleSet.load(
  path.resolve(__dirname, '../../../policies'),
).resolve({ environment: 'production', environmentGroup: 'payments-prod' });
const COMMITTER = { name: 'KMP GitOps', email: 'kmp-gitops@test.invalid' };
const RENDERED = [
  'gatekeeper.yaml',
  'kustomization.yaml',
  'kyverno.yaml',
  'validating-admission-policies.yaml',
];

describe('PolicyDistributor GitOps mode', () => {
  let git: GitServer;
  let store: PolicyStore;
  let workTree: string;

  beforeAll(async () => {
    git = await startGitServer();
    const db = await migratedDatabase(databases, 'SQLITE_3');
    store = PolicyStore.create({ db });
    workTree = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-policy-tree-'));
  });

  afterAll(async () => {
    await git?.stop();
    fs.rmSync(workTree, { recursive: true, force: true });
  });

  const distributor = (repoUrl?: string, gitopsDir?: string) =>
    PolicyDistributor.create({
      store,
      clientFor: async () => {
        throw new Error('GitOps distribution must not call the cluster');
      },
      gitopsDir,
      gitops: {
        config: {
          committer: COMMITTER,
          repositories: repoUrl
            ? [
                {
                  environmentGroup: 'payments-prod',
                  url: repoUrl,
                  branch: 'main',
                  path: 'clusters/{cluster}/namespaces/{namespace}',
                },
              ]
            : [],
        },
        folder: 'clusters/{cluster}/kmp-policies',
      },
    });

  it("commits the rendered bundle to the environment group's repository, authored by the distributor", async () => {
    const url = await git.createRepo('payments-prod-config');
    const installed = await distributor(url).writeGitOps(
      'pay-prod-1',
      bundle,
      'user:default/petra',
      'payments-prod',
    );

    const head = await cloneHead(url, 'main');
    try {
      expect(head.authorName).toBe('user:default/petra');
      expect(head.committerName).toBe(COMMITTER.name);
      expect(head.subject).toBe(
        `kmp-policies: ${bundle.name}@${bundle.version} for pay-prod-1`,
      );
      expect(
        head.files.filter(f => f.startsWith('clusters/pay-prod-1/')).sort(),
      ).toEqual(RENDERED.map(f => `clusters/pay-prod-1/kmp-policies/${f}`));
      const vap = fs.readFileSync(
        path.join(
          head.dir,
          'clusters/pay-prod-1/kmp-policies/validating-admission-policies.yaml',
        ),
        'utf8',
      );
      expect(vap).toContain(
        `kmp.backstage.io/policy-bundle-version: ${bundle.version}`,
      );
      expect(installed).toMatchObject({
        cluster: 'pay-prod-1',
        mode: 'gitops',
        bundleVersion: bundle.version,
        installedBy: 'user:default/petra',
        location: `${url}#main:clusters/pay-prod-1/kmp-policies@${head.sha}`,
      });
    } finally {
      fs.rmSync(head.dir, { recursive: true, force: true });
    }

    // The same bundle again is not a new commit.
    await distributor(url).writeGitOps(
      'pay-prod-1',
      bundle,
      'user:default/petra',
      'payments-prod',
    );
    expect(await commitCount(git, 'payments-prod-config', 'main')).toBe(2);
  });

  it('writes to the local working tree when the group has no repository', async () => {
    const installed = await distributor(undefined, workTree).writeGitOps(
      'pay-prod-2',
      bundle,
      'user:default/petra',
      'payments-prod',
    );
    const dir = path.join(workTree, 'pay-prod-2', 'kmp-policies');
    expect(fs.readdirSync(dir).sort()).toEqual(RENDERED);
    expect(installed.location).toBe(dir);
  });

  it('refuses with the settings to configure when there is neither', async () => {
    const refusal = distributor().writeGitOps(
      'pay-prod-3',
      bundle,
      'user:default/petra',
      'payments-prod',
    );
    await expect(refusal).rejects.toThrow(InputError);
    await expect(refusal).rejects.toThrow(
      'GitOps distribution to pay-prod-3 needs a GitOps repository for environment group payments-prod (kmp.goldenPaths.gitops.repositories) or a local working tree (kmp.policy.distribution.gitopsDir)',
    );
    expect(await store.getInstallation('pay-prod-3')).toBeUndefined();
  });
});
