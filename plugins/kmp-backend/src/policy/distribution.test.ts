/*
 * Distribution, pre-flight and compliance against a real cluster: the KMP
 * backend (started with the registry pointing at a kube-testbed cluster)
 * installs the governed bundle, the cluster then refuses a non-compliant
 * Deployment exactly as the pre-flight does, and the compliance API shows
 * bundle version, mode, drift and violations.
 */
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { useTestbed } from '@kmp/kube-testbed';
import { PolicyComplianceReport } from '@kmp/plugin-kmp-common';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { kmpPlugin } from '../plugin';
import {
  createPath,
  decisionOf,
  dryRunCreate,
  eventually,
} from './__testUtils__/admission';
import { buildCase, TEAM_LABEL } from './__testUtils__/policyCorpus';
import { KubeClient } from './cluster/KubeClient';

jest.setTimeout(10 * 60_000);

const CLUSTER = 'pay-prod-1';
const user = mockCredentials.user.header('user:default/petra');

/** A Deployment that meets every payments-prod rule but one: its registry. */
function paymentsDeployment(name: string, image: string) {
  const { object } = buildCase(name, 'Deployment', 'shop', []);
  object.metadata.annotations['payments.kmp.example.com/pci-scope'] = 'in';
  const container = object.spec.template.spec.containers[0];
  container.image = image;
  container.securityContext.readOnlyRootFilesystem = true;
  return object;
}

describe('policy distribution, pre-flight and compliance on a real cluster', () => {
  const testbed = useTestbed({ clusters: [CLUSTER], fixtures: true });
  let server: any;
  let client: KubeClient;
  let gitopsDir: string;

  beforeAll(async () => {
    const cluster = testbed().cluster(CLUSTER);
    client = KubeClient.create({
      server: cluster.server,
      credentials: {
        token: cluster.token,
        certificateAuthority: cluster.caPem,
      },
    });
    await client.json('POST', '/api/v1/namespaces', {
      metadata: { name: 'shop', labels: { [TEAM_LABEL]: 'payments' } },
    });
    // Something to find: a non-compliant Deployment that already runs.
    await client.json(
      'POST',
      createPath(paymentsDeployment('legacy', 'nginx:1.25')),
      {
        ...paymentsDeployment('legacy', 'nginx:1.25'),
      },
    );

    gitopsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-gitops-'));
    const backend = await startTestBackend({
      features: [
        kmpPlugin,
        mockServices.rootConfig.factory({
          data: {
            kmp: {
              environmentGroups: [
                {
                  name: 'payments-prod',
                  environment: 'production',
                  owner: 'group:default/platform-team',
                },
              ],
              profiles: [
                {
                  name: 'production-hardened',
                  environment: 'production',
                  podSecurity: 'restricted',
                  policyOverlays: ['production'],
                },
              ],
              registry: {
                encryptionKey: 'test-key-test-key-test-key-test-key-0000',
                allowedClusterHosts: ['127.0.0.1'],
                refresh: { intervalSeconds: 3600 },
              },
              clusters: [
                {
                  name: CLUSTER,
                  environmentGroup: 'payments-prod',
                  region: 'eu-west-1',
                  profile: 'production-hardened',
                  owner: 'group:default/platform-team',
                  apiServerUrl: cluster.server,
                  credentials: {
                    token: cluster.token,
                    certificateAuthority: cluster.caPem,
                  },
                },
              ],
              policy: {
                compliance: { enabled: false },
                distribution: { gitopsDir },
              },
            },
          },
        }),
        mockServices.permissions.factory(),
        mockServices.httpAuth.factory({
          defaultCredentials: mockCredentials.none(),
        }),
      ],
    });
    server = backend.server;
  });

  afterAll(async () => {
    client?.close();
    if (gitopsDir) fs.rmSync(gitopsDir, { recursive: true, force: true });
  });

  it('refuses a non-compliant Deployment in the cluster and in the pre-flight with the same rule and message', async () => {
    const installed = await request(server)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: CLUSTER });
    expect(installed.status).toBe(200);
    expect(installed.body).toMatchObject({
      cluster: CLUSTER,
      mode: 'apply',
      drift: { status: 'in-sync' },
    });

    const deployment = paymentsDeployment('web', 'nginx:1.27');
    // Admission policies activate asynchronously: wait with dry runs.
    await eventually('the bundle to deny', async () => {
      const d = await dryRunCreate(client, deployment);
      return !d.admitted && !d.unexpected;
    });

    const refused = decisionOf(
      await client.request('POST', createPath(deployment), deployment),
    );
    expect(refused).toMatchObject({
      admitted: false,
      deniedBy: 'approved-registries',
    });

    const preflight = await request(server)
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', user)
      .send({ target: { cluster: CLUSTER }, manifests: [deployment] });
    expect(preflight.status).toBe(200);
    expect(preflight.body.allowed).toBe(false);
    expect(preflight.body.bundle.version).toBe(installed.body.bundleVersion);
    const violations = preflight.body.results[0].violations;
    expect(violations).toEqual([
      expect.objectContaining({
        ruleId: 'approved-registries',
        severity: 'critical',
        enforcement: 'Deny',
        path: 'spec.template.spec.containers[*].image',
      }),
    ]);
    expect(`[${violations[0].ruleId}] ${violations[0].message}`).toBe(
      refused.message,
    );
    expect(refused.message).toBe(
      '[approved-registries] images from unapproved registries: docker.io/library/nginx:1.27',
    );

    // the compliant version of it is admitted by both
    const compliant = paymentsDeployment(
      'web',
      'ghcr.io/kmp-payments/web:2.0.1',
    );
    const ok = await request(server)
      .post('/api/kmp/policies/evaluate')
      .set('Authorization', user)
      .send({ target: { cluster: CLUSTER }, manifests: [compliant] });
    expect(ok.body.allowed).toBe(true);
    expect((await dryRunCreate(client, compliant)).admitted).toBe(true);
  });

  it('reports version, mode, drift and violations, and sees drift when the cluster is changed', async () => {
    const scan = async () => {
      const res = await request(server)
        .post('/api/kmp/policies/compliance/scan')
        .set('Authorization', user)
        .send({ cluster: CLUSTER });
      expect(res.status).toBe(200);
      return res.body as PolicyComplianceReport;
    };

    let report = await scan();
    expect(report.installation?.bundleVersion).toBe(report.governedVersion);
    expect(report.installation?.mode).toBe('apply');
    expect(report.installation?.drift.status).toBe('in-sync');
    expect(report.scan).toMatchObject({ status: 'ok' });
    expect(report.scan!.objectsScanned).toBeGreaterThan(3);
    expect(report.scan!.engines).toEqual(['gatekeeper', 'kyverno']);

    // KMP's scan finds the legacy Deployment; the engines' own reports show up too
    expect(report.findings).toContainEqual(
      expect.objectContaining({
        source: 'kmp-scan',
        ruleId: 'approved-registries',
        object: expect.objectContaining({ name: 'legacy', namespace: 'shop' }),
        message:
          'images from unapproved registries: docker.io/library/nginx:1.25',
      }),
    );
    const bySource = (source: string) =>
      report.findings.filter(f => f.source === source);
    expect(bySource('gatekeeper').length).toBeGreaterThan(0);
    expect(bySource('kyverno')).toContainEqual(
      expect.objectContaining({
        governed: false,
        ruleId: 'disallow-latest-tag/validate-image-tag',
      }),
    );
    const registries = report.rules.find(
      r => r.ruleId === 'approved-registries',
    );
    expect(registries?.bySource['kmp-scan']).toBeGreaterThan(0);

    // Someone weakens a binding in the cluster: drift.
    await client.json(
      'PATCH',
      '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/kmp-approved-registries',
      { spec: { validationActions: ['Warn'] } },
      'application/merge-patch+json',
    );
    report = await scan();
    expect(report.installation?.drift.status).toBe('drifted');
    expect(report.installation?.drift.details).toEqual([
      'ValidatingAdmissionPolicyBinding kmp-approved-registries: spec changed',
    ]);

    // Re-distribution repairs it.
    await request(server)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: CLUSTER })
      .expect(200);
    report = await scan();
    expect(report.installation?.drift.status).toBe('in-sync');

    const fleet = await request(server)
      .get('/api/kmp/policies/compliance')
      .set('Authorization', user);
    expect(fleet.status).toBe(200);
    expect(fleet.body.items).toEqual([
      expect.objectContaining({
        cluster: CLUSTER,
        environment: 'production',
        environmentGroup: 'payments-prod',
        installedVersion: report.governedVersion,
        mode: 'apply',
        drift: 'in-sync',
        upToDate: true,
      }),
    ]);
    // The fleet's summary says what the cluster's report says.
    expect(fleet.body.items[0]).toMatchObject({
      governedVersion: report.governedVersion,
      violations: report.rules.reduce((n, r) => n + r.violations, 0),
      scannedAt: report.scan?.scannedAt,
      scanStatus: report.scan?.status,
    });
    expect(fleet.body.items[0].violations).toBeGreaterThan(0);
  });

  it('writes the rendered bundle to the GitOps directory and records the mode', async () => {
    const res = await request(server)
      .post('/api/kmp/policies/distribute')
      .set('Authorization', user)
      .send({ cluster: CLUSTER, mode: 'gitops' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      mode: 'gitops',
      drift: { status: 'unknown' },
    });
    const dir = path.join(gitopsDir, CLUSTER, 'kmp-policies');
    expect(fs.readdirSync(dir).sort()).toEqual([
      'gatekeeper.yaml',
      'kustomization.yaml',
      'kyverno.yaml',
      'validating-admission-policies.yaml',
    ]);
    const vap = fs.readFileSync(
      path.join(dir, 'validating-admission-policies.yaml'),
      'utf8',
    );
    expect(vap).toContain(
      `kmp.backstage.io/policy-bundle-version: ${res.body.bundleVersion}`,
    );
    expect(vap).toContain('name: kmp-read-only-root-filesystem');
  });
});
