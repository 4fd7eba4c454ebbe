import { renderInTestApp } from '@backstage/test-utils';
import { screen, within } from '@testing-library/react';
import { NamespacesCard } from './NamespacesCard';
import { parseQuantity, usagePercent } from './quantity';
import {
  fakeKmpApi,
  me,
  namespace,
  refused,
  unreachable,
  Wrapper,
} from './__testUtils__/fakes';

jest.setTimeout(60_000);

const quota = {
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'tenant', namespace: 'team-payments' },
  status: {
    hard: { 'requests.cpu': '4', 'requests.memory': '8Gi' },
    used: { 'requests.cpu': '3500m', 'requests.memory': '2Gi' },
  },
};

describe('NamespacesCard', () => {
  it('shows tenants with their team and quota usage, system namespaces marked', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            '/api/v1/namespaces': [
              namespace('kube-system'),
              namespace('team-payments', {
                'kmp.backstage.io/team': 'team-payments',
              }),
            ],
            '/api/v1/resourcequotas': [quota],
          },
        })}
      >
        <NamespacesCard />
      </Wrapper>,
    );
    const [tenant] = (
      await screen.findAllByText('team-payments', { selector: 'td' })
    ).map(cell => cell.closest('tr')!);
    expect(
      within(tenant).getByText('requests.cpu: 3500m / 4 (88%)'),
    ).toBeInTheDocument();
    expect(
      within(tenant).getByText('requests.memory: 2Gi / 8Gi (25%)'),
    ).toBeInTheDocument();
    const system = screen.getByText('kube-system').closest('tr')!;
    expect(within(system).getByText('system')).toBeInTheDocument();
    expect(within(system).getByText('no quota')).toBeInTheDocument();
  });

  it("shows a developer only their teams' namespaces, from the backend's lookup", async () => {
    const api = fakeKmpApi({
      me: me('developer'),
      broker: {
        '/api/v1/namespaces': [
          namespace('kube-system'),
          namespace('team-payments', {
            'kmp.backstage.io/team': 'team-payments',
          }),
          namespace('team-retail', { 'kmp.backstage.io/team': 'team-retail' }),
        ],
        '/api/v1/resourcequotas': [quota],
      },
    });
    const proxyJson = jest.spyOn(api, 'proxyJson');
    const lookup = jest.spyOn(api, 'listTenantNamespaces');
    await renderInTestApp(
      <Wrapper api={api}>
        <NamespacesCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('requests.cpu: 3500m / 4 (88%)'),
    ).toBeInTheDocument();
    expect(screen.queryByText('team-retail')).not.toBeInTheDocument();
    expect(screen.queryByText('kube-system')).not.toBeInTheDocument();
    expect(lookup).toHaveBeenCalledWith('payments-dev-eu1', ['team-payments']);
    const paths = proxyJson.mock.calls.map(c => c[1].split('?')[0]);
    expect(paths).not.toContain('/api/v1/namespaces');
  });

  it('keeps the namespaces when quotas are refused, and says why', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            '/api/v1/namespaces': [namespace('team-payments')],
            '/api/v1/resourcequotas': refused(
              'resourcequotas is forbidden: User "alice" cannot list resource "resourcequotas"',
            ),
          },
        })}
      >
        <NamespacesCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(/cannot list resource "resourcequotas"/),
    ).toBeInTheDocument();
    expect(screen.getByText('team-payments')).toBeInTheDocument();
  });

  it('shows an unreachable cluster and an empty cluster as states', async () => {
    const { unmount } = await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: {
            '/api/v1/namespaces': unreachable(),
            '/api/v1/resourcequotas': [],
          },
        })}
      >
        <NamespacesCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(/Cluster unreachable: namespaces unavailable/),
    ).toBeInTheDocument();
    unmount();
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('ops'),
          broker: { '/api/v1/namespaces': [], '/api/v1/resourcequotas': [] },
        })}
      >
        <NamespacesCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('No namespaces you may see'),
    ).toBeInTheDocument();
  });
});

describe('quantities', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('500m')).toBe(0.5);
    expect(parseQuantity('2Gi')).toBe(2 * 2 ** 30);
    expect(parseQuantity('1e3')).toBe(1000);
    expect(parseQuantity('12')).toBe(12);
    expect(parseQuantity('abc')).toBeUndefined();
    expect(usagePercent('3', '2')).toBe(100);
    expect(usagePercent(undefined, '10')).toBe(0);
    expect(usagePercent('1', '0')).toBe(100);
  });
});
