import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import {
  AuthorizeResult,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { kmpPlugin } from '../plugin';
import { buildCase } from './__testUtils__/policyCorpus';

const gitopsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-policy-routes-'));
afterAll(() => fs.rmSync(gitopsDir, { recursive: true, force: true }));

const config = {
  kmp: {
    environmentGroups: [
      {
        name: 'payments-prod',
        environment: 'production',
        owner: 'group:default/platform-team',
      },
      {
        name: 'retail-edge',
        environment: 'edge',
        owner: 'group:default/retail-ops',
      },
    ],
    profiles: [
      {
        name: 'edge-minimal',
        environment: 'edge',
        podSecurity: 'restricted',
        policyOverlays: ['edge'],
      },
    ],
    clusters: [
      {
        name: 'store-0042',
        environmentGroup: 'retail-edge',
        region: 'store-0042',
        profile: 'edge-minimal',
        owner: 'group:default/retail-ops',
        connectivity: 'edge-async',
      },
      {
        name: 'store-0043',
        environmentGroup: 'retail-edge',
        region: 'store-0043',
        profile: 'edge-minimal',
        owner: 'group:default/retail-ops',
        connectivity: 'edge-async',
      },
    ],
    registry: { refresh: { intervalSeconds: 3600 } },
    policy: {
      compliance: { enabled: false },
      limits: { maxManifests: 3 },
      distribution: { gitopsDir },
    },
  },
};

async function start(decide?: (permission: string) => PolicyDecision) {
  const permissions = mockServices.permissions.mock();
  const answer = async (requests: any[]) =>
    requests.map(r =>
      decide ? decide(r.permission.name) : { result: AuthorizeResult.ALLOW },
    ) as any;
  permissions.authorize.mockImplementation(answer);
  permissions.authorizeConditional.mockImplementation(answer);
  const { server } = await startTestBackend({
    features: [
      kmpPlugin,
      mockServices.rootConfig.factory({ data: config }),
      permissions.factory,
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
    ],
  });
  return server;
}

const user = mockCredentials.user.header('user:default/petra');
const deployment = (mutations: string[] = []) =>
  buildCase('web', 'Deployment', 'shop', mutations).object;

describe('policy routes', () => {
  it('evaluates manifests for an environment and group, item by item', async () => {
    const server = await start();
    const res = await request(server)
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', user)
      .send({
        target: {
          environment: 'production',
          environmentGroup: 'payments-prod',
        },
        manifests: [
          deployment(['image-dockerhub-short']),
          { apiVersion: 'apps/v1', kind: 'Deployment', spec: {} },
          'not an object',
        ],
        namespaces: { shop: { 'kmp.backstage.io/team': 'payments' } },
      });
    expect(res.status).toBe(200);
    expect(res.body.allowed).toBe(false);
    expect(res.body.bundle).toMatchObject({
      environment: 'production',
      environmentGroup: 'payments-prod',
    });
    expect(res.body.summary).toEqual({
      objects: 3,
      denied: 3,
      violations: 3,
      errors: 2,
    });
    const [first, second, third] = res.body.results;
    expect(first.object).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      namespace: 'shop',
      name: 'web',
    });
    expect(first.violations.map((v: any) => v.ruleId)).toEqual([
      'approved-registries',
      'required-metadata',
      'read-only-root-filesystem',
    ]);
    expect(second).toMatchObject({
      index: 1,
      allowed: false,
      error: 'metadata is required',
    });
    expect(third).toMatchObject({
      error: 'manifest must be a JSON object',
    });
  });

  it('expands Lists, accepts admission items and evaluates updates', async () => {
    const server = await start();
    const old = deployment();
    const res = await request(server)
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', user)
      .send({
        target: { environment: 'non-production' },
        manifests: [
          { apiVersion: 'v1', kind: 'List', items: [deployment(['host-pid'])] },
          {
            operation: 'UPDATE',
            object: deployment(['privileged']),
            oldObject: old,
          },
          { operation: 'DELETE', object: old },
        ],
      });
    expect(res.status).toBe(200);
    // non-production warns: allowed, with violations
    expect(
      res.body.results.map((r: any) => [
        r.allowed,
        r.violations.map((v: any) => `${v.ruleId}/${v.enforcement}`),
        r.error,
      ]),
    ).toEqual([
      [true, ['pod-security-host-namespaces/Warn'], undefined],
      [
        true,
        [
          'pod-security-privileged/Warn',
          'pod-security-privilege-escalation/Warn',
        ],
        undefined,
      ],
      [false, [], expect.stringContaining('invalid admission item')],
    ]);
  });

  it('answers 400 for invalid bodies and too many manifests', async () => {
    const server = await start();
    const post = (body: unknown) =>
      request(server)
        .post('/api/kmp/policies/evaluate')
        .set('Authorization', user)
        .send(body as object);
    const cases = [
      {},
      { target: { environment: 'staging' }, manifests: [deployment()] },
      { target: { environment: 'production' }, manifests: [] },
      { target: { cluster: 'Bad_Name' }, manifests: [deployment()] },
      {
        target: { environment: 'production' },
        manifests: [deployment()],
        extra: 1,
      },
      {
        target: { environment: 'edge', environmentGroup: 'payments-prod' },
        manifests: [deployment()],
      },
      {
        target: { environment: 'production' },
        manifests: [deployment(), deployment(), deployment(), deployment()],
      },
    ];
    for (const body of cases) {
      const res = await post(body);
      expect({ body, status: res.status, name: res.body.error?.name }).toEqual({
        body,
        status: 400,
        name: 'InputError',
      });
    }
    const tooMany = await post(cases[6]);
    expect(tooMany.body.error.message).toBe(
      'at most 3 manifests can be evaluated at once, got 4',
    );
    const unknownCluster = await post({
      target: { cluster: 'nope' },
      manifests: [deployment()],
    });
    expect(unknownCluster.status).toBe(404);
  });

  it('answers 401 without credentials and 403 without permission', async () => {
    const server = await start(permission =>
      permission === 'kmp.policy.read'
        ? { result: AuthorizeResult.DENY }
        : { result: AuthorizeResult.ALLOW },
    );
    const body = {
      target: { environment: 'production' },
      manifests: [deployment()],
    };
    const anonymous = await request(server)
      .post('/api/kmp/policies/evaluate')
      .send(body);
    expect(anonymous.status).toBe(401);
    const denied = await request(server)
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', user)
      .send(body);
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe('not allowed to kmp.policy.read');
    for (const url of [
      '/api/kmp/policies/bundle?environment=edge',
      '/api/kmp/policies/compliance',
      '/api/kmp/policies/installations',
    ]) {
      expect(
        (await request(server).get(url).set('Authorization', user)).status,
      ).toBe(403);
    }

    const noManage = await start(permission =>
      permission === 'kmp.policy.manage'
        ? { result: AuthorizeResult.DENY }
        : { result: AuthorizeResult.ALLOW },
    );
    const distribute = await request(noManage)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: 'store-0042' });
    expect(distribute.status).toBe(403);
  });

  it('serves the effective bundle of a cluster and its renderings', async () => {
    const server = await start();
    const bundle = await request(server)
      .get('/api/kmp/policies/bundle?cluster=store-0042')
      .set('Authorization', user);
    expect(bundle.status).toBe(200);
    expect(bundle.body).toMatchObject({
      environment: 'edge',
      environmentGroup: 'retail-edge',
      overlays: ['overlays/edge.yaml', 'groups/retail-edge.yaml'],
    });
    expect(bundle.headers.etag).toBe(`"${bundle.body.version}"`);

    for (const [engine, kinds] of [
      [
        'vap',
        ['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding'],
      ],
      ['gatekeeper', ['ConstraintTemplate', 'KmpApprovedRegistries']],
      ['kyverno', ['ValidatingPolicy']],
    ] as const) {
      const rendered = await request(server)
        .get(`/api/kmp/policies/bundle?cluster=store-0042&render=${engine}`)
        .set('Authorization', user);
      expect(rendered.status).toBe(200);
      expect(rendered.headers['content-type']).toContain('application/yaml');
      const docs = parseAllDocuments(rendered.text).map(d => d.toJS());
      for (const kind of kinds) {
        expect(docs.map(d => d.kind)).toContain(kind);
      }
      expect(
        docs.every(
          d =>
            d.metadata.labels['kmp.backstage.io/policy-bundle-version'] ===
            bundle.body.version,
        ),
      ).toBe(true);
    }

    const bad = await request(server)
      .get('/api/kmp/policies/bundle?cluster=store-0042&environment=edge')
      .set('Authorization', user);
    expect(bad.status).toBe(400);
  });

  it('distributes to GitOps, lists installations and reports compliance', async () => {
    const server = await start();
    // an async edge cluster cannot be reached directly
    const direct = await request(server)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: 'store-0042', mode: 'apply' });
    expect(direct.status).toBe(400);
    expect(direct.body.error.message).toContain('not directly reachable');

    const gitops = await request(server)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: 'store-0042', mode: 'gitops' });
    expect(gitops.status).toBe(200);
    expect(gitops.body).toMatchObject({
      cluster: 'store-0042',
      mode: 'gitops',
      installedBy: 'user:default/petra',
      enforcement: expect.objectContaining({ 'no-latest-tag': 'Deny' }),
    });
    expect(
      fs.existsSync(
        path.join(gitopsDir, 'store-0042', 'kmp-policies', 'kyverno.yaml'),
      ),
    ).toBe(true);

    const installations = await request(server)
      .get('/api/kmp/policies/installations')
      .set('Authorization', user);
    expect(installations.body.totalCount).toBe(1);

    const report = await request(server)
      .get('/api/kmp/policies/compliance?cluster=store-0042')
      .set('Authorization', user);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      cluster: 'store-0042',
      environment: 'edge',
      governedVersion: gitops.body.bundleVersion,
      installation: { mode: 'gitops', drift: { status: 'unknown' } },
    });
    const scan = await request(server)
      .post('/api/kmp/policies/compliance/scan')
      .set('Authorization', user)
      .send({ cluster: 'store-0042' });
    expect(scan.body.scan).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('not directly reachable'),
    });

    // Summaries of named clusters only: one page of the fleet table.
    const all = await request(server)
      .get('/api/kmp/policies/compliance')
      .set('Authorization', user);
    expect(all.body.totalCount).toBe(2);
    const named = await request(server)
      .get('/api/kmp/policies/compliance?name=store-0042')
      .set('Authorization', user);
    expect(named.status).toBe(200);
    expect(named.body.totalCount).toBe(1);
    expect(named.body.items).toEqual([
      expect.objectContaining({
        cluster: 'store-0042',
        installedVersion: gitops.body.bundleVersion,
        mode: 'gitops',
      }),
    ]);
    const both = await request(server)
      .get('/api/kmp/policies/compliance?name=store-0042&name=store-0043')
      .set('Authorization', user);
    expect(both.body.items.map((s: any) => s.cluster).sort()).toEqual([
      'store-0042',
      'store-0043',
    ]);
    const badName = await request(server)
      .get('/api/kmp/policies/compliance?name=Not_A_Cluster')
      .set('Authorization', user);
    expect(badName.status).toBe(400);

    const missing = await request(server)
      .get('/api/kmp/policies/compliance?cluster=nope')
      .set('Authorization', user);
    expect(missing.status).toBe(404);
  });
});
