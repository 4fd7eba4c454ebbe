import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { PolicyEvaluateResponse } from '@kmp/plugin-kmp-common';
import YAML from 'yaml';
import {
  fakeKmpApi,
  me,
  prodCluster,
  Wrapper,
} from '../ClusterPage/__testUtils__/fakes';
import { ClickOpsCard } from './ClickOpsCard';
import { manifestOf, parseAnnotations, validateChange } from './manifests';

jest.setTimeout(60_000);

const verdict = (
  allowed: boolean,
  enforcement: 'Deny' | 'Warn',
  message: string,
): PolicyEvaluateResponse => ({
  allowed,
  bundle: {
    name: 'kmp-default',
    version: '3.2.0',
    environment: 'non-production',
  },
  results: [
    {
      index: 0,
      object: { kind: 'Deployment', name: 'api' },
      allowed,
      violations: [
        {
          ruleId: 'image-registry',
          severity: 'high',
          enforcement,
          object: { kind: 'Deployment', name: 'api' },
          path: 'spec.template.spec.containers[0].image',
          message,
        },
      ],
    },
  ],
  summary: { objects: 1, denied: allowed ? 0 : 1, violations: 1, errors: 0 },
});

const type = (label: string, value: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value } });

/** Checks the policies once the YAML is final (namespace ownership read). */
async function checkPolicies() {
  const button = screen.getByRole('button', { name: 'Check policies' });
  await waitFor(() => expect(button).toBeEnabled());
  fireEvent.click(button);
}

async function fillDeployment() {
  type('Deployment', 'api');
  type('Image', 'registry.example.com/payments/api:1.4.2');
  type('Replicas', '2');
}

describe('ClickOpsCard', () => {
  it("stamps a new Deployment with its namespace's team, owner and cost centre", async () => {
    const namespace = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'team-payments',
        labels: { 'kmp.backstage.io/team': 'team-payments' },
        annotations: {
          'kmp.backstage.io/owner': 'group:default/team-payments',
          'kmp.backstage.io/cost-centre': 'cc-1001',
        },
      },
    };
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({ broker: { '/api/v1/namespaces': [namespace] } })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    expect(await screen.findByLabelText('Namespace')).toHaveValue(
      'team-payments',
    );
    await fillDeployment();
    await waitFor(() =>
      expect(
        YAML.parse(screen.getByLabelText('generated YAML').textContent ?? '')
          .metadata,
      ).toEqual({
        name: 'api',
        namespace: 'team-payments',
        labels: {
          'app.kubernetes.io/name': 'api',
          'app.kubernetes.io/managed-by': 'kmp-clickops',
          'kmp.backstage.io/team': 'team-payments',
        },
        annotations: {
          'kmp.backstage.io/owner': 'group:default/team-payments',
          'kmp.backstage.io/cost-centre': 'cc-1001',
        },
      }),
    );
  });

  it('takes annotations as key=value pairs and names a bad one', () => {
    expect(
      parseAnnotations(' payments.kmp.example.com/pci-scope=in, note = a=b ,'),
    ).toEqual({ 'payments.kmp.example.com/pci-scope': 'in', note: 'a=b' });
    expect(parseAnnotations('')).toEqual({});
    expect(parseAnnotations('pci-scope')).toBe(
      "'pci-scope' needs a value: key=value",
    );
    expect(parseAnnotations('Bad Key=1')).toBe(
      "'Bad Key' is not an annotation key",
    );
    const deploy = {
      kind: 'deploy' as const,
      namespace: 'team-payments',
      name: 'api',
      image: 'registry.example.com/api:1',
      replicas: '1',
      port: '',
    };
    expect(
      validateChange({ ...deploy, annotations: 'x/y/z=1' }).annotations,
    ).toBe("'x/y/z' is not an annotation key");
    // Given annotations join (and win over) the namespace's ownership.
    expect(
      manifestOf(
        {
          ...deploy,
          annotations:
            'payments.kmp.example.com/pci-scope=in, kmp.backstage.io/owner=user:default/alice',
        },
        { owner: 'group:default/team-payments', costCentre: 'cc-1' },
      ).metadata.annotations,
    ).toEqual({
      'kmp.backstage.io/owner': 'user:default/alice',
      'kmp.backstage.io/cost-centre': 'cc-1',
      'payments.kmp.example.com/pci-scope': 'in',
    });
  });

  it('adds no ownership a namespace does not declare', () => {
    const manifest = manifestOf(
      {
        kind: 'deploy',
        namespace: 'scratch',
        name: 'api',
        image: 'registry.example.com/api:1',
        replicas: '1',
        port: '',
      },
      { team: 'payments' },
    );
    expect(manifest.metadata.labels).toMatchObject({
      'kmp.backstage.io/team': 'payments',
    });
    expect(manifest.metadata).not.toHaveProperty('annotations');
  });

  it('generates the YAML, pre-flights it and applies it with the audit id', async () => {
    const evaluatePolicies = jest.fn(async () =>
      verdict(true, 'Warn', 'images should come from the platform registry'),
    );
    const applyManifest = jest.fn(async () => ({
      body: {} as any,
      auditId: 'audit-apply-9',
      warnings: [],
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({ overrides: { evaluatePolicies, applyManifest } })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    // The developer's team namespace is the default.
    expect(await screen.findByLabelText('Namespace')).toHaveValue(
      'team-payments',
    );
    await fillDeployment();
    const yaml = YAML.parse(
      screen.getByLabelText('generated YAML').textContent ?? '',
    );
    expect(yaml).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'team-payments' },
      spec: { replicas: 2 },
    });
    expect(yaml.spec.template.spec.containers[0].image).toBe(
      'registry.example.com/payments/api:1.4.2',
    );
    const apply = screen.getByRole('button', { name: 'Apply to the cluster' });
    expect(apply).toBeDisabled();
    expect(screen.getByText('check the policies first')).toBeInTheDocument();

    await checkPolicies();
    expect(
      await screen.findByText(
        /image-registry \(Warn, high\): images should come from the platform registry/,
      ),
    ).toBeInTheDocument();
    expect(evaluatePolicies).toHaveBeenCalledWith({
      target: { cluster: 'payments-dev-eu1' },
      manifests: [yaml],
    });
    // Re-query: the disabled button was wrapped for its tooltip.
    const enabled = screen.getByRole('button', {
      name: 'Apply to the cluster',
    });
    expect(enabled).toBeEnabled();
    fireEvent.click(enabled);
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(
      await screen.findByText('Audit id: audit-apply-9'),
    ).toBeInTheDocument();
    expect(applyManifest).toHaveBeenCalledWith('payments-dev-eu1', yaml);
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    // The same change can go to Git through the golden path, prefilled.
    const golden = new URL(
      (
        await screen.findByRole('link', {
          name: 'the golden-path service template with these values',
        })
      ).getAttribute('href')!,
      'http://portal',
    );
    expect(golden.pathname).toBe(
      '/create/templates/default/kmp-golden-path-service',
    );
    expect(JSON.parse(golden.searchParams.get('formData')!)).toEqual({
      name: 'api',
      namespace: 'team-payments',
      image: 'registry.example.com/payments/api:1.4.2',
      replicas: 2,
      target: { cluster: 'payments-dev-eu1' },
    });
  });

  it('keeps Apply disabled when the pre-flight denies, and after any edit', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            evaluatePolicies: async () =>
              verdict(false, 'Deny', 'image tag latest is not allowed'),
          },
        })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    await screen.findByLabelText('Namespace');
    await fillDeployment();
    await checkPolicies();
    expect(
      await screen.findByText('Denied by policy bundle 3.2.0'),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: 'Apply to the cluster' }),
    ).toBeDisabled();
    expect(
      screen.getByText('the policy pre-flight denies it'),
    ).toBeInTheDocument();
    type('Replicas', '3');
    expect(screen.queryByText('Denied by policy bundle 3.2.0')).toBeNull();
    expect(screen.getByText('check the policies first')).toBeInTheDocument();
  });

  it('publishes the checked YAML to Git after confirming, and shows commit, branch and audit id', async () => {
    const publishToGit = jest.fn(async () => ({
      commit: '3f9a1c0b7e2d4a5f8b6c1d2e3f4a5b6c7d8e9f01',
      branch: 'main',
      repoUrl: 'https://git.example.com/platform/payments-nonprod.git',
      paths: [
        'clusters/payments-dev-eu1/namespaces/team-payments/deployment-api.yaml',
      ],
      changed: true,
      auditId: 'audit-publish-7',
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            evaluatePolicies: async () => verdict(true, 'Warn', 'a warning'),
            publishToGit,
          },
        })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    await screen.findByLabelText('Namespace');
    await fillDeployment();
    const yaml = YAML.parse(
      screen.getByLabelText('generated YAML').textContent ?? '',
    );
    // Like Apply, only once the pre-flight allows it.
    expect(
      screen.getByRole('button', { name: 'Publish to Git' }),
    ).toBeDisabled();
    await checkPolicies();
    await screen.findByText(/Allowed by policy bundle 3.2.0/);
    const publish = screen.getByRole('button', { name: 'Publish to Git' });
    expect(publish).toBeEnabled();
    // Outside production Apply is the primary action; Git is offered too.
    expect(publish).not.toHaveClass('MuiButton-containedPrimary');

    fireEvent.click(publish);
    expect(
      screen.getByText('Publish to the GitOps repository of payments-dev-eu1?'),
    ).toBeInTheDocument();
    type('Commit message (optional)', 'Deploy api 1.4.2');
    fireEvent.click(screen.getByRole('button', { name: 'Publish' }));

    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent('Published');
    expect(status).toHaveTextContent(
      'Commit: 3f9a1c0b7e2d4a5f8b6c1d2e3f4a5b6c7d8e9f01',
    );
    expect(status).toHaveTextContent(
      'Branch: main of https://git.example.com/platform/payments-nonprod.git',
    );
    expect(status).toHaveTextContent('Audit id: audit-publish-7');
    expect(publishToGit).toHaveBeenCalledWith('payments-dev-eu1', {
      manifests: [yaml],
      namespace: 'team-payments',
      message: 'Deploy api 1.4.2',
    });
  });

  it('makes Publish to Git the primary action in production, with Apply disabled and the reason', async () => {
    const publishToGit = jest.fn(async () => ({
      commit: 'c0ffee0000000000000000000000000000000042',
      branch: 'main',
      repoUrl: 'https://git.example.com/platform/payments-prod.git',
      paths: [
        'clusters/payments-prod-eu1/namespaces/team-payments/deployment-api.yaml',
      ],
      changed: true,
      auditId: 'audit-publish-prod',
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('ops'),
          overrides: {
            evaluatePolicies: async () => verdict(true, 'Warn', 'a warning'),
            publishToGit,
          },
        })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(
        /Changes are disabled here: production changes go through GitOps/,
      ),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('tab', { name: 'Scale' }));
    type('Namespace', 'team-payments');
    type('Deployment', 'api');
    type('Replicas', '4');
    expect(screen.getByLabelText('generated YAML')).toHaveTextContent(
      'replicas: 4',
    );
    await checkPolicies();
    await screen.findByText(/Allowed by policy bundle 3.2.0/);

    const apply = screen.getByRole('button', { name: 'Apply to the cluster' });
    expect(apply).toBeDisabled();
    expect(
      screen.getByText(
        'production changes go through GitOps: publish to Git instead',
      ),
    ).toBeInTheDocument();
    const publish = screen.getByRole('button', { name: 'Publish to Git' });
    expect(publish).toBeEnabled();
    expect(publish).toHaveClass('MuiButton-containedPrimary');
    // First in the row: the way a production change is made.
    expect(
      publish.compareDocumentPosition(apply) & Node.DOCUMENT_POSITION_FOLLOWING,
    ).toBeTruthy();

    fireEvent.click(publish);
    fireEvent.click(screen.getByRole('button', { name: 'Publish' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(
      'Commit: c0ffee0000000000000000000000000000000042',
    );
    expect(status).toHaveTextContent('Audit id: audit-publish-prod');
    expect(publishToGit).toHaveBeenCalledWith('payments-prod-eu1', {
      manifests: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'api', namespace: 'team-payments' },
          spec: { replicas: 4 },
        },
      ],
      namespace: 'team-payments',
    });
  });

  it('shows the refusal when the backend refuses the publication', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            evaluatePolicies: async () => verdict(true, 'Warn', 'a warning'),
            publishToGit: async () => {
              throw new Error(
                'namespace team-retail belongs to team team-retail',
              );
            },
          },
        })}
      >
        <ClickOpsCard />
      </Wrapper>,
    );
    await screen.findByLabelText('Namespace');
    await fillDeployment();
    await checkPolicies();
    await screen.findByText(/Allowed by policy bundle 3.2.0/);
    fireEvent.click(screen.getByRole('button', { name: 'Publish to Git' }));
    fireEvent.click(screen.getByRole('button', { name: 'Publish' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'namespace team-retail belongs to team team-retail',
    );
    // Still open, to try again or cancel.
    expect(screen.getByRole('button', { name: 'Publish' })).toBeEnabled();
  });

  it('is hidden from a viewer without a persona in the environment group', async () => {
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ me: me(undefined) })}>
        <div>page</div>
        <ClickOpsCard />
      </Wrapper>,
    );
    expect(await screen.findByText('page')).toBeInTheDocument();
    expect(screen.queryByText('Change through KMP')).not.toBeInTheDocument();
  });
});

describe('ClickOps manifests', () => {
  it('validates the form fields', () => {
    expect(
      validateChange({
        kind: 'env',
        namespace: 'Team',
        name: 'api',
        container: 'app',
        key: '1BAD',
        value: '',
      }),
    ).toEqual({
      namespace: expect.any(String),
      key: 'a valid variable name',
    });
  });

  it('applies only the fields an environment variable owns', () => {
    expect(
      manifestOf({
        kind: 'env',
        namespace: 'team-payments',
        name: 'api',
        container: 'app',
        key: 'LOG_LEVEL',
        value: 'debug',
      }),
    ).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: 'team-payments' },
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'app', env: [{ name: 'LOG_LEVEL', value: 'debug' }] },
            ],
          },
        },
      },
    });
  });
});
