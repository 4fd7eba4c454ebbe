import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen } from '@testing-library/react';
import { PolicyEvaluateResponse } from '@kmp/plugin-kmp-common';
import YAML from 'yaml';
import {
  fakeKmpApi,
  me,
  prodCluster,
  Wrapper,
} from '../ClusterPage/__testUtils__/fakes';
import { ClickOpsCard } from './ClickOpsCard';
import { manifestOf, validateChange } from './manifests';

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

async function fillDeployment() {
  type('Deployment', 'api');
  type('Image', 'registry.example.com/payments/api:1.4.2');
  type('Replicas', '2');
}

describe('ClickOpsCard', () => {
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

    fireEvent.click(screen.getByRole('button', { name: 'Check policies' }));
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
    fireEvent.click(screen.getByRole('button', { name: 'Check policies' }));
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

  it('disables Apply in production with the reason, and still offers the YAML for Git', async () => {
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ cluster: prodCluster(), me: me('ops') })}>
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
    expect(
      screen.getByRole('button', { name: 'Apply to the cluster' }),
    ).toBeDisabled();
    expect(screen.getByRole('button', { name: 'Copy YAML' })).toBeEnabled();
    expect(screen.getByText(/Publish to Git/)).toBeInTheDocument();
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
