import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import {
  cloneHead,
  commitCount,
  GitServer,
  startGitServer,
} from '../testUtils';
import { GitopsRepository } from './config';
import { declareObjects } from './declaredObjects';
import { GitopsPublisher } from './GitopsPublisher';

jest.setTimeout(60_000);

const AUTH = { username: 'x-access-token', password: 'gitops-test-token' };
const committer = { name: 'KMP GitOps publisher', email: 'kmp@test.invalid' };
const author = { name: 'Alice', email: 'alice@test.invalid' };

describe('GitopsPublisher', () => {
  let server: GitServer;
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-publish-'));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    server = await startGitServer({ auth: AUTH });
  });
  afterAll(async () => {
    await server.stop();
    await Promise.all(
      dirs.map(d => fs.rm(d, { recursive: true, force: true })),
    );
  });

  const repoOf = (url: string, auth = AUTH): GitopsRepository => ({
    environmentGroup: 'apps-prod',
    url,
    branch: 'main',
    path: 'clusters/{cluster}/namespaces/{namespace}',
    auth,
  });

  it('commits an owned folder as the author, pushes it, and converges', async () => {
    const url = await server.createRepo('owned', {
      files: { 'clusters/c1/namespaces/team-a/stale.yaml': 'stale: true\n' },
    });
    const publisher = GitopsPublisher.create({
      repository: repoOf(url),
      committer,
    });
    const entries = [
      {
        folder: 'clusters/c1/namespaces/team-a',
        files: new Map([['ns.yaml', 'kind: Namespace\n']]),
      },
    ];
    const first = await publisher.publish({
      dir: await tempDir(),
      entries,
      message: 'kmp: publish team-a\n',
      author,
      dryRun: false,
    });
    expect(first).toMatchObject({
      changed: true,
      pushed: true,
      branch: 'main',
    });

    const head = await cloneHead(url, 'main', AUTH);
    dirs.push(head.dir);
    expect(head.sha).toBe(first.commit);
    expect(head.authorName).toBe('Alice');
    expect(head.authorEmail).toBe('alice@test.invalid');
    expect(head.committerName).toBe('KMP GitOps publisher');
    // The publication owns the folder: the stale file is gone.
    expect(head.files).toEqual(['clusters/c1/namespaces/team-a/ns.yaml']);

    const again = await publisher.publish({
      dir: await tempDir(),
      entries,
      message: 'kmp: publish team-a\n',
      author,
      dryRun: false,
    });
    expect(again.changed).toBe(false);
    expect(await commitCount(server, 'owned', 'main')).toBe(2);
  });

  it('edits the objects declared in a folder it does not own, keeping the other files', async () => {
    const url = await server.createRepo('shared', {
      files: {
        'ns/team-a/app.yaml': [
          'apiVersion: apps/v1',
          'kind: Deployment',
          'metadata:',
          '  name: api',
          '  namespace: team-a',
          'spec:',
          '  replicas: 2',
          '  template:',
          '    spec:',
          '      containers:',
          '        - name: api',
          '          image: api:1',
          '---',
          'apiVersion: v1',
          'kind: Service',
          'metadata:',
          '  name: api',
          '  namespace: team-a',
          '',
        ].join('\n'),
        'ns/team-a/other.yaml': 'kind: ConfigMap\n',
      },
    });
    const publisher = GitopsPublisher.create({
      repository: repoOf(url),
      committer,
    });
    const result = await publisher.publish({
      dir: await tempDir(),
      entries: [
        {
          folder: 'ns/team-a',
          owned: false,
          files: async current =>
            declareObjects(current, [
              {
                apiVersion: 'apps/v1',
                kind: 'Deployment',
                metadata: { name: 'api', namespace: 'team-a' },
                spec: { replicas: 5 },
              },
              {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name: 'settings', namespace: 'team-a' },
                data: { a: 'b' },
              },
            ]),
        },
      ],
      message: 'kmp: scale api\n',
      author,
      dryRun: false,
    });
    expect(result.files.sort()).toEqual([
      'ns/team-a/app.yaml',
      'ns/team-a/configmap-settings.yaml',
    ]);

    const head = await cloneHead(url, 'main', AUTH);
    dirs.push(head.dir);
    expect(head.files).toContain('ns/team-a/other.yaml');
    const [deployment, service] = (await head.read('ns/team-a/app.yaml'))
      .split(/^---$/m)
      .map(d => parse(d));
    expect(deployment.spec.replicas).toBe(5);
    expect(deployment.spec.template.spec.containers).toEqual([
      { name: 'api', image: 'api:1' },
    ]);
    expect(service.kind).toBe('Service');
    expect(parse(await head.read('ns/team-a/configmap-settings.yaml'))).toEqual(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'settings', namespace: 'team-a' },
        data: { a: 'b' },
      },
    );
  });

  it('never puts the repository credentials into an error', async () => {
    const url = await server.createRepo('secret');
    const publisher = GitopsPublisher.create({
      repository: repoOf(url, {
        username: 'x-access-token',
        password: 'wrong-secret-token',
      }),
      committer,
    });
    const error = await publisher
      .publish({
        dir: await tempDir(),
        entries: [{ folder: 'a', files: new Map([['a.yaml', 'a: 1\n']]) }],
        message: 'm',
        author,
        dryRun: false,
      })
      .then(
        () => undefined,
        e => e as Error,
      );
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain(url);
    expect(`${error!.message}\n${error!.stack}`).not.toContain(
      'wrong-secret-token',
    );
  });
});
