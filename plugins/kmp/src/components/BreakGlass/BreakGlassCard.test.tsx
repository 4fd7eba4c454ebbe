import { renderInTestApp } from '@backstage/test-utils';
import { KMP_RULES } from '@kmp/plugin-kmp-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { BreakGlassRequest, BreakGlassRequestInput } from '../../api';
import {
  clusterEntity,
  fakeKmpApi,
  me,
  prodCluster,
  Wrapper,
} from '../ClusterPage/__testUtils__/fakes';
import {
  approved,
  bgRequest,
  responseError,
  stepResult,
} from './__testUtils__/requests';
import { BreakGlassCard } from './BreakGlassCard';

jest.setTimeout(60_000);

const prodEntity = clusterEntity('payments-prod-eu1');

describe('BreakGlassCard', () => {
  it('requests a namespace-scoped grant with reason and duration, then lists it as pending', async () => {
    let items: BreakGlassRequest[] = [];
    const requestBreakGlass = jest.fn(async (input: BreakGlassRequestInput) => {
      const created = bgRequest({
        ...input,
        durationSeconds: input.durationSeconds!,
        id: '11111111-1111-4111-8111-111111111111',
      });
      items = [created];
      return stepResult(created, 'a0000000-0000-4000-8000-000000000001');
    });
    const listBreakGlassRequests = jest.fn(async () => ({ items }));
    await renderInTestApp(
      <Wrapper
        entity={prodEntity}
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('developer'),
          overrides: { requestBreakGlass, listBreakGlassRequests },
        })}
      >
        <BreakGlassCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(
        'You have no break-glass requests on this cluster.',
      ),
    ).toBeInTheDocument();
    expect(listBreakGlassRequests).toHaveBeenCalledWith({
      cluster: 'payments-prod-eu1',
      limit: 50,
    });

    const submit = screen.getByRole('button', { name: 'Request break-glass' });
    fireEvent.change(screen.getByLabelText(/Reason/), {
      target: { value: 'too short' },
    });
    expect(submit).toBeDisabled();
    fireEvent.change(screen.getByLabelText(/Reason/), {
      target: { value: 'INC-42: payments API down, roll back by hand' },
    });
    fireEvent.change(screen.getByLabelText('Namespace (optional)'), {
      target: { value: 'team-payments' },
    });
    fireEvent.mouseDown(screen.getByLabelText('Duration'));
    fireEvent.click(await screen.findByRole('option', { name: '30 minutes' }));
    expect(submit).toBeEnabled();
    fireEvent.click(submit);

    expect(await screen.findByRole('status')).toHaveTextContent(
      'Requested: waiting for a second person to approve',
    );
    expect(screen.getByRole('status')).toHaveTextContent(
      'Audit id: a0000000-0000-4000-8000-000000000001',
    );
    expect(screen.getByRole('status')).toHaveTextContent(
      /Request id 11111111-1111-4111-8111-111111111111\.$/,
    );
    expect(requestBreakGlass).toHaveBeenCalledWith({
      cluster: 'payments-prod-eu1',
      reason: 'INC-42: payments API down, roll back by hand',
      durationSeconds: 1800,
      namespace: 'team-payments',
    });
    const mine = await screen.findByRole('table', {
      name: 'my break-glass requests',
    });
    expect(within(mine).getByText('team-payments')).toBeInTheDocument();
    expect(within(mine).getByText(/pending, lapses/)).toBeInTheDocument();
    expect(within(mine).getByText('30 minutes')).toBeInTheDocument();
  });

  it("shows the backend's refusal of a request in its words, with the refusal's audit id", async () => {
    const message =
      "cluster 'payments-prod-eu1': not allowed by kmp.break-glass.request";
    await renderInTestApp(
      <Wrapper
        entity={prodEntity}
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('ops'),
          overrides: {
            requestBreakGlass: async () => {
              throw await responseError(
                403,
                'NotAllowedError',
                message,
                'a0000000-0000-4000-8000-000000000403',
              );
            },
            listBreakGlassRequests: async () => ({ items: [] }),
          },
        })}
      >
        <BreakGlassCard />
      </Wrapper>,
    );
    fireEvent.change(await screen.findByLabelText(/Reason/), {
      target: { value: 'rotate a leaked certificate by hand' },
    });
    fireEvent.click(
      screen.getByRole('button', { name: 'Request break-glass' }),
    );
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(`Refused: ${message}`);
    expect(alert).toHaveTextContent(
      'Audit id: a0000000-0000-4000-8000-000000000403',
    );
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('offers no request on a non-production cluster, saying why', async () => {
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          me: me('platform-engineer'),
          overrides: { listBreakGlassRequests: async () => ({ items: [] }) },
        })}
      >
        <BreakGlassCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText(
        `You cannot request break-glass on this cluster: ${KMP_RULES.breakGlassProductionOnly}.`,
      ),
    ).toBeInTheDocument();
    expect(
      screen.queryByRole('button', { name: 'Request break-glass' }),
    ).not.toBeInTheDocument();
  });

  it('lists only my requests and revokes my live grant after confirmation', async () => {
    const grant = approved(
      bgRequest({ id: '22222222-2222-4222-8222-222222222222' }),
    );
    const othersPending = bgRequest({
      requester: 'user:default/bob',
      reason: 'somebody else needs access',
    });
    let items = [grant, othersPending];
    const revokeBreakGlassRequest = jest.fn(
      async (id: string, options?: { reason?: string }) => {
        const revoked: BreakGlassRequest = {
          ...grant,
          state: 'revoked',
          revokedBy: 'user:default/alice',
          revokedAt: new Date().toISOString(),
          revokeReason: options?.reason,
        };
        items = [revoked, othersPending];
        expect(id).toBe(grant.id);
        return stepResult(revoked, 'a0000000-0000-4000-8000-000000000002');
      },
    );
    await renderInTestApp(
      <Wrapper
        entity={prodEntity}
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('ops'),
          overrides: {
            listBreakGlassRequests: async () => ({ items }),
            revokeBreakGlassRequest,
          },
        })}
      >
        <BreakGlassCard />
      </Wrapper>,
    );
    const mine = await screen.findByRole('table', {
      name: 'my break-glass requests',
    });
    expect(within(mine).getByText(/active until/)).toBeInTheDocument();
    expect(
      within(mine).queryByText('somebody else needs access'),
    ).not.toBeInTheDocument();

    fireEvent.click(
      screen.getByRole('button', { name: `Revoke request ${grant.id}` }),
    );
    expect(
      await screen.findByText('Revoke this break-glass grant?'),
    ).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Reason (optional)'), {
      target: { value: 'rolled back, done' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Revoke' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(`Request ${grant.id} is revoked`);
    expect(status).toHaveTextContent(
      'Audit id: a0000000-0000-4000-8000-000000000002',
    );
    expect(status).not.toHaveTextContent('with this request id');
    expect(revokeBreakGlassRequest).toHaveBeenCalledWith(grant.id, {
      reason: 'rolled back, done',
    });
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    await waitFor(() =>
      expect(screen.getByText(/^revoked /)).toBeInTheDocument(),
    );
    expect(
      screen.queryByRole('button', { name: `Revoke request ${grant.id}` }),
    ).not.toBeInTheDocument();
  });

  it('withdraws my pending request and shows the audit id of the withdrawal', async () => {
    const pending = bgRequest({ id: '33333333-3333-4333-8333-333333333333' });
    let items = [pending];
    const revokeBreakGlassRequest = jest.fn(async (id: string) => {
      const withdrawn: BreakGlassRequest = {
        ...pending,
        state: 'revoked',
        revokedBy: 'user:default/alice',
        revokedAt: new Date().toISOString(),
      };
      items = [withdrawn];
      expect(id).toBe(pending.id);
      return stepResult(withdrawn, 'a0000000-0000-4000-8000-000000000003');
    });
    await renderInTestApp(
      <Wrapper
        entity={prodEntity}
        api={fakeKmpApi({
          cluster: prodCluster(),
          me: me('developer'),
          overrides: {
            listBreakGlassRequests: async () => ({ items }),
            revokeBreakGlassRequest,
          },
        })}
      >
        <BreakGlassCard />
      </Wrapper>,
    );
    fireEvent.click(
      await screen.findByRole('button', {
        name: `Withdraw request ${pending.id}`,
      }),
    );
    expect(
      await screen.findByText('Withdraw this break-glass request?'),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Withdraw' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(`Request ${pending.id} is revoked`);
    expect(status).toHaveTextContent(
      'Audit id: a0000000-0000-4000-8000-000000000003',
    );
    expect(revokeBreakGlassRequest).toHaveBeenCalledTimes(1);
  });
});
