import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen } from '@testing-library/react';
import { StoredAuditEvent } from '@kmp/plugin-kmp-common';
import { ClusterAuditCard } from './ClusterAuditCard';
import { fakeKmpApi, Wrapper } from './__testUtils__/fakes';

jest.setTimeout(60_000);

const event = (
  seq: number,
  overrides: Partial<StoredAuditEvent> = {},
): StoredAuditEvent => ({
  seq,
  hash: 'a'.repeat(64),
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  time: '2026-11-25T12:00:00Z',
  actor: { type: 'human', ref: 'user:default/alice', persona: 'developer' },
  action: 'proxy.request',
  target: {
    cluster: 'payments-dev-eu1',
    namespace: 'team-payments',
    resource: { resource: 'deployments', subresource: 'scale', name: 'api' },
  },
  decision: { result: 'allow' },
  outcome: 'success',
  correlationId: `corr-${seq}`,
  request: { method: 'PATCH', verb: 'patch' },
  ...overrides,
});

describe('ClusterAuditCard', () => {
  it("pages through the cluster's audit events, refusals with their rule", async () => {
    const listAuditEvents = jest.fn(async (query: any) =>
      query.cursor
        ? { items: [event(1)] }
        : {
            items: [
              event(3, {
                decision: {
                  result: 'deny',
                  reason: 'production changes go through GitOps',
                },
                outcome: 'failure',
              }),
              event(2),
            ],
            nextCursor: 'c2',
          },
    );
    await renderInTestApp(
      <Wrapper api={fakeKmpApi({ overrides: { listAuditEvents } })}>
        <ClusterAuditCard />
      </Wrapper>,
    );
    expect(
      await screen.findByText('denied: production changes go through GitOps'),
    ).toBeInTheDocument();
    expect(screen.getByText('corr-2')).toBeInTheDocument();
    expect(
      screen.getAllByText('patch · team-payments · deployments/scale api'),
    ).toHaveLength(2);
    expect(listAuditEvents).toHaveBeenCalledWith({
      cluster: 'payments-dev-eu1',
      limit: 20,
      cursor: undefined,
    });
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('corr-1')).toBeInTheDocument();
    expect(listAuditEvents).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'c2' }),
    );
  });

  it('shows empty and refused audit reads as states', async () => {
    const { unmount } = await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: { listAuditEvents: async () => ({ items: [] }) },
        })}
      >
        <ClusterAuditCard />
      </Wrapper>,
    );
    expect(await screen.findByText('No audit events')).toBeInTheDocument();
    unmount();
    await renderInTestApp(
      <Wrapper
        api={fakeKmpApi({
          overrides: {
            listAuditEvents: async () => {
              throw new Error('not allowed to kmp.audit.read');
            },
          },
        })}
      >
        <ClusterAuditCard />
      </Wrapper>,
    );
    expect(
      (await screen.findAllByText(/not allowed to kmp.audit.read/)).length,
    ).toBeGreaterThan(0);
  });
});
