import { renderInTestApp } from '@backstage/test-utils';
import { screen } from '@testing-library/react';
import { PolicyComplianceReport } from '@kmp/plugin-kmp-common';
import { ComplianceCard } from './ComplianceCard';
import { fakeKmpApi, Wrapper } from './__testUtils__/fakes';

jest.setTimeout(60_000);

const report: PolicyComplianceReport = {
  cluster: 'payments-dev-eu1',
  environment: 'non-production',
  environmentGroup: 'payments-nonprod',
  governedVersion: '3.2.0',
  installation: {
    cluster: 'payments-dev-eu1',
    bundleVersion: '3.1.0',
    mode: 'gitops',
    enforcement: {},
    contentHash: 'x',
    installedAt: '2026-11-25T10:00:00Z',
    installedBy: 'user:default/petra',
    drift: { status: 'drifted', details: ['missing policy'] },
  },
  rules: [
    {
      ruleId: 'require-resources',
      governed: true,
      severity: 'medium',
      enforcement: 'Warn',
      violations: 3,
      bySource: { 'kmp-scan': 3 },
    },
    {
      ruleId: 'no-privileged',
      governed: true,
      severity: 'critical',
      enforcement: 'Deny',
      violations: 0,
      bySource: {},
    },
  ],
  findings: [
    {
      source: 'kmp-scan',
      ruleId: 'require-resources',
      governed: true,
      object: { kind: 'Deployment', namespace: 'team-payments', name: 'api' },
      message: 'containers must declare resource limits',
    },
  ],
  truncated: false,
};

describe('ComplianceCard', () => {
  it('shows bundle versions, mode, drift and violations per rule', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: { getClusterCompliance: async () => report },
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    expect(await screen.findByText('3.2.0')).toBeInTheDocument();
    expect(screen.getByText('3.1.0')).toBeInTheDocument();
    expect(screen.getByText('gitops')).toBeInTheDocument();
    expect(screen.getByText('drifted')).toBeInTheDocument();
    expect(screen.getByText('3 in 1 rule')).toBeInTheDocument();
    expect(screen.getByText('require-resources')).toBeInTheDocument();
    expect(screen.queryByText('no-privileged')).not.toBeInTheDocument();
    expect(
      screen.getByText(/containers must declare resource limits/),
    ).toBeInTheDocument();
  });

  it('shows a cluster without an installed bundle and errors as states', async () => {
    const { unmount } = await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            getClusterCompliance: async () => ({
              ...report,
              installation: undefined,
              rules: [],
              findings: [],
            }),
          },
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    // Installed version and drift both say so.
    expect(await screen.findAllByText('not installed')).toHaveLength(2);
    expect(screen.getByText('none')).toBeInTheDocument();
    unmount();
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            getClusterCompliance: async () => {
              throw new Error('compliance scan store unavailable');
            },
          },
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    expect(
      (await screen.findAllByText(/compliance scan store unavailable/)).length,
    ).toBeGreaterThan(0);
  });
});
