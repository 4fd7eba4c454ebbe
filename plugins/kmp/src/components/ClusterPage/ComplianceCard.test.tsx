import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import { PolicyComplianceReport } from '@kmp/plugin-kmp-common';
import { ComplianceCard } from './ComplianceCard';
import { fakeKmpApi, me, prodCluster, Wrapper } from './__testUtils__/fakes';

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
  const installation = {
    cluster: 'payments-dev-eu1',
    bundleVersion: '3.2.0',
    mode: 'apply' as const,
    enforcement: {},
    contentHash: 'y',
    installedAt: '2026-12-06T10:00:00Z',
    installedBy: 'user:default/petra',
    drift: { status: 'in-sync' as const, details: [] },
  };

  it('lets a platform engineer install the governed bundle and scan now, then reloads', async () => {
    const getClusterCompliance = jest.fn(async () => report);
    const distributePolicies = jest.fn(async () => installation);
    const scanCompliance = jest.fn(async () => ({
      ...report,
      scan: {
        status: 'ok' as const,
        scannedAt: '2026-12-06T10:01:00Z',
        bundleVersion: '3.2.0',
        objectsScanned: 12,
        engines: [],
      },
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('platform-engineer'),
          overrides: {
            getClusterCompliance,
            distributePolicies,
            scanCompliance,
          } as any,
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', { name: 'Install bundle' }),
    );
    const dialog = screen.getByRole('dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Install' }));
    expect(
      await within(dialog).findByText('Bundle 3.2.0 installed (apply).'),
    ).toBeInTheDocument();
    expect(distributePolicies).toHaveBeenCalledWith(
      'payments-dev-eu1',
      undefined,
    );
    fireEvent.click(within(dialog).getByRole('button', { name: 'Close' }));
    await screen.findByRole('button', { name: 'Scan now' });
    expect(getClusterCompliance).toHaveBeenCalledTimes(2);

    fireEvent.click(screen.getByRole('button', { name: 'Scan now' }));
    fireEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', { name: 'Scan' }),
    );
    expect(await screen.findByText('Scan ok: 12 objects.')).toBeInTheDocument();
    expect(scanCompliance).toHaveBeenCalledWith('payments-dev-eu1');
  });

  it('publishes the bundle to Git in production, and shows developers no controls', async () => {
    const distributePolicies = jest.fn(async () => ({
      ...installation,
      cluster: 'payments-prod-eu1',
      mode: 'gitops' as const,
      location:
        'http://git/payments-prod-gitops.git#main:clusters/payments-prod-eu1/kmp-policies@abc',
    }));
    const { unmount } = await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('platform-engineer'),
          overrides: {
            getClusterCompliance: async () => report,
            distributePolicies,
          } as any,
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', { name: 'Publish bundle to Git' }),
    );
    fireEvent.click(
      within(screen.getByRole('dialog')).getByRole('button', {
        name: 'Publish',
      }),
    );
    expect(
      await screen.findByText(
        /Bundle 3.2.0 installed \(gitops\) at http:\/\/git\//,
      ),
    ).toBeInTheDocument();
    expect(distributePolicies).toHaveBeenCalledWith(
      'payments-prod-eu1',
      'gitops',
    );
    unmount();

    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('developer'),
          overrides: { getClusterCompliance: async () => report },
        })}
      >
        <ComplianceCard />
      </Wrapper>,
    );
    expect(await screen.findByText('3.2.0')).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Install bundle' }),
    ).not.toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Scan now' }),
    ).not.toBeInTheDocument();
  });

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
