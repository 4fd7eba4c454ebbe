import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, waitFor } from '@testing-library/react';
import { KubeconfigToken } from '../../api';
import {
  fakeKmpApi,
  me,
  prodCluster,
  Wrapper,
} from '../ClusterPage/__testUtils__/fakes';
import { KubeconfigCard } from './KubeconfigCard';

jest.setTimeout(60_000);

const token = (id: string, overrides: Partial<KubeconfigToken> = {}) =>
  ({
    id,
    actorRef: 'user:default/alice',
    actorKind: 'user',
    cluster: 'payments-dev-eu1',
    access: 'read',
    createdAt: '2026-11-25T12:00:00Z',
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    state: 'active',
    ...overrides,
  } as KubeconfigToken);

describe('KubeconfigCard', () => {
  it('issues a kubeconfig with the chosen lifetime and shows expiry, copy and download', async () => {
    const issueKubeconfig = jest.fn(async (_c: string, req: any) => ({
      ...token('t-new', {
        access: req.access,
        expiresAt: new Date(
          Date.now() + req.expiresInSeconds * 1000,
        ).toISOString(),
      }),
      token: 'kmp_secret',
      kubeconfig: 'apiVersion: v1\nkind: Config\n',
    }));
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            issueKubeconfig,
            listKubeconfigTokens: async () => ({ items: [] }),
          },
        })}
      >
        <KubeconfigCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('You have no active kubeconfig tokens.'),
    ).toBeInTheDocument();
    fireEvent.mouseDown(screen.getByLabelText('Lifetime'));
    fireEvent.click(await screen.findByRole('option', { name: '15 minutes' }));
    fireEvent.click(screen.getByRole('button', { name: 'Get kubeconfig' }));
    expect(await screen.findByLabelText('kubeconfig')).toHaveTextContent(
      'apiVersion: v1 kind: Config',
    );
    expect(screen.getByText(/expires .*\(in 15 min\)/)).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Download' })).toBeEnabled();
    expect(
      screen.getByRole('button', { name: 'Copy kubeconfig' }),
    ).toBeInTheDocument();
    expect(issueKubeconfig).toHaveBeenCalledWith('payments-dev-eu1', {
      expiresInSeconds: 900,
      access: 'read',
      namespace: undefined,
    });
  });

  it('offers only read-only kubeconfigs in production, saying why', async () => {
    const issueKubeconfig = jest.fn(async () => {
      throw new Error('kubeconfigs for production cluster are read-only');
    });
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('platform-engineer'),
          overrides: {
            issueKubeconfig,
            listKubeconfigTokens: async () => ({ items: [] }),
          },
        })}
      >
        <KubeconfigCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(
        'Read-only: production changes go through GitOps',
      ),
    ).toBeInTheDocument();
    expect(screen.queryByLabelText('Access')).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Get kubeconfig' }));
    expect(
      await screen.findByText(
        'kubeconfigs for production cluster are read-only',
      ),
    ).toBeInTheDocument();
    expect(issueKubeconfig).toHaveBeenCalledWith(
      'payments-prod-eu1',
      expect.objectContaining({ access: 'read' }),
    );
  });

  it('lists my active tokens and revokes one after confirmation', async () => {
    const revokeKubeconfigToken = jest.fn(async (id: string) =>
      token(id, { state: 'revoked' }),
    );
    let items = [
      token('t-1'),
      token('t-2', { cluster: 'payments-prod-eu1' }),
      token('t-old', { state: 'expired' }),
    ];
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            revokeKubeconfigToken: async id => {
              items = items.filter(t => t.id !== id);
              return revokeKubeconfigToken(id);
            },
            listKubeconfigTokens: async () => ({ items }),
          },
        })}
      >
        <KubeconfigCard />
      </Wrapper>,
    );
    expect(await screen.findByText('payments-prod-eu1')).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Revoke token t-old' }),
    ).not.toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Revoke token t-2' }));
    fireEvent.click(screen.getByRole('button', { name: 'Revoke' }));
    expect(await screen.findByText('Done')).toBeInTheDocument();
    expect(revokeKubeconfigToken).toHaveBeenCalledWith('t-2');
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    await waitFor(() =>
      expect(screen.queryByText('payments-prod-eu1')).not.toBeInTheDocument(),
    );
  });

  it('hides issuing from a viewer without a persona but still lists their tokens', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me(undefined),
          overrides: {
            listKubeconfigTokens: async () => {
              throw new Error('token store unavailable');
            },
          },
        })}
      >
        <KubeconfigCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(/You cannot get a kubeconfig for this cluster/),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Get kubeconfig' }),
    ).not.toBeInTheDocument();
    expect(
      (await screen.findAllByText(/token store unavailable/)).length,
    ).toBeGreaterThan(0);
  });
});
