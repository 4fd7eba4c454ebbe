import { alertApiRef } from '@backstage/core-plugin-api';
import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { StoredAuditEvent } from '@kmp/plugin-kmp-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { KmpApi, kmpApiRef } from '../../api';
import { AuditExplorer } from './AuditExplorer';

// Rendering material-table is slow on a loaded 2-core machine.
jest.setTimeout(60_000);
const slow = { timeout: 20_000 };

function auditEvent(
  seq: number,
  overrides: Partial<StoredAuditEvent> = {},
): StoredAuditEvent {
  return {
    seq,
    hash: seq.toString(16).padStart(64, '0'),
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    time: `2026-11-25T12:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    actor: { type: 'human', ref: 'user:default/alice', persona: 'developer' },
    action: 'proxy.request',
    target: {
      cluster: 'payments-dev-eu1',
      namespace: 'payments-dev',
      resource: { resource: 'deployments', group: 'apps', name: 'web' },
    },
    decision: { result: 'allow' },
    outcome: 'success',
    correlationId: `corr-${seq}`,
    ...overrides,
  };
}

function fakeApi(overrides: Partial<KmpApi>): KmpApi {
  const notUsed = async () => {
    throw new Error('not used by the audit explorer');
  };
  return {
    getHealth: notUsed,
    listEnvironmentGroups: notUsed,
    listClusters: notUsed,
    getClusterSummary: notUsed,
    getMe: notUsed,
    listProfiles: notUsed,
    listComplianceSummaries: notUsed,
    listTenantNamespaces: notUsed,
    listAuditEvents: async () => ({ items: [] }),
    exportAuditEvents: notUsed,
    verifyAuditChain: async () => ({ valid: true, checked: 3, headSeq: 3 }),
    ...overrides,
  } as KmpApi;
}

const alertApi = { post: jest.fn(), alert$: jest.fn() };

async function render(api: KmpApi, url = '/') {
  return renderInTestApp(
    <TestApiProvider
      apis={[
        [kmpApiRef, api],
        [alertApiRef, alertApi],
      ]}
    >
      <AuditExplorer />
    </TestApiProvider>,
    { routeEntries: [url] },
  );
}

describe('AuditExplorer', () => {
  beforeEach(() => alertApi.post.mockReset());

  it('queries the backend with the filter from the address and shows the events', async () => {
    const listAuditEvents = jest.fn(async () => ({
      items: [
        auditEvent(2, {
          actor: { type: 'human', ref: 'user:default/bob' },
          action: 'proxy.request',
          decision: {
            result: 'deny',
            reason: 'production changes go through GitOps',
          },
          outcome: 'failure',
        }),
      ],
    }));
    await render(
      fakeApi({ listAuditEvents }),
      '/?cluster=payments-dev-eu1&decision=deny&outcome=bogus',
    );
    expect(
      await screen.findByText('user:default/bob', undefined, slow),
    ).toBeInTheDocument();
    expect(
      screen.getByText('payments-dev-eu1 / payments-dev / deployments web'),
    ).toBeInTheDocument();
    const row = screen.getByText('user:default/bob').closest('tr')!;
    expect(within(row).getByText('deny')).toBeInTheDocument();
    expect(within(row).getByText('failure')).toBeInTheDocument();
    // An unknown outcome in the address is dropped, not sent.
    expect(listAuditEvents).toHaveBeenCalledWith({
      cluster: 'payments-dev-eu1',
      decision: 'deny',
      limit: 25,
      cursor: undefined,
    });
    expect(screen.getByLabelText('Cluster')).toHaveValue('payments-dev-eu1');
  });

  it('shows the verified chain, and a broken chain with the first bad event', async () => {
    const { unmount } = await render(fakeApi({}));
    expect(
      await screen.findByText(
        /Chain verified: 3 events checked up to seq 3/,
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
    unmount();

    await render(
      fakeApi({
        verifyAuditChain: async () => ({
          valid: false,
          checked: 7,
          headSeq: 9,
          firstInvalidSeq: 7,
          reason: 'hash mismatch',
        }),
      }),
    );
    expect(
      await screen.findByText(
        /Chain broken at seq 7: hash mismatch/,
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
  });

  it('asks again when a text filter settles, starting from the first page', async () => {
    const listAuditEvents = jest.fn(async () => ({
      items: [auditEvent(1)],
      nextCursor: 'c1',
    }));
    await render(fakeApi({ listAuditEvents }));
    await screen.findByText('user:default/alice', undefined, slow);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    await waitFor(() =>
      expect(listAuditEvents).toHaveBeenLastCalledWith(
        expect.objectContaining({ cursor: 'c1' }),
      ),
    );

    fireEvent.change(screen.getByLabelText('Actor'), {
      target: { value: 'user:default/oscar' },
    });
    await waitFor(
      () =>
        expect(listAuditEvents).toHaveBeenLastCalledWith({
          actor: 'user:default/oscar',
          limit: 25,
          cursor: undefined,
        }),
      slow,
    );
    expect(await screen.findByText('Page 1')).toBeInTheDocument();
  });

  it('pages forward by cursor and back to the pages it has seen', async () => {
    const listAuditEvents = jest.fn(
      async (q?: { cursor?: string }) =>
        ({
          undefined: { items: [auditEvent(30)], nextCursor: 'p2' },
          p2: { items: [auditEvent(20)], nextCursor: 'p3' },
          p3: { items: [auditEvent(10)] },
        }[String(q?.cursor)]!),
    );
    await render(fakeApi({ listAuditEvents }));
    expect(await screen.findByText('30', undefined, slow)).toBeInTheDocument();
    const previous = screen.getByRole('button', { name: 'Previous' });
    expect(previous).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('20', undefined, slow)).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(await screen.findByText('10', undefined, slow)).toBeInTheDocument();
    expect(screen.getByText('Page 3')).toBeInTheDocument();
    // The last page has no next cursor.
    expect(screen.getByRole('button', { name: 'Next' })).toBeDisabled();

    fireEvent.click(screen.getByRole('button', { name: 'Previous' }));
    expect(await screen.findByText('20', undefined, slow)).toBeInTheDocument();
    expect(listAuditEvents).toHaveBeenLastCalledWith(
      expect.objectContaining({ cursor: 'p2' }),
    );
  });

  it('opens an event in a drawer with its full stored JSON', async () => {
    const event = auditEvent(5, {
      decision: {
        result: 'deny',
        reason: 'production changes go through GitOps',
      },
      request: { method: 'PATCH', path: '/apis/apps/v1/deployments/web' },
    });
    await render(
      fakeApi({ listAuditEvents: async () => ({ items: [event] }) }),
    );
    fireEvent.click(
      await screen.findByText('user:default/alice', undefined, slow),
    );
    const drawer = await screen.findByRole('dialog', {
      name: 'Audit event 5',
    });
    expect(
      within(drawer).getByText('deny: production changes go through GitOps'),
    ).toBeInTheDocument();
    expect(drawer).toHaveTextContent(event.hash);
    // The syntax highlighter loads lazily.
    await waitFor(
      () =>
        expect(drawer).toHaveTextContent(
          '"path": "/apis/apps/v1/deployments/web"',
        ),
      slow,
    );

    fireEvent.click(within(drawer).getByRole('button', { name: 'Close' }));
    await waitFor(() =>
      expect(
        screen.queryByRole('dialog', { name: 'Audit event 5' }),
      ).not.toBeInTheDocument(),
    );
  });

  it('exports the current filter as a file, and reports a refused export', async () => {
    const exportAuditEvents = jest.fn(
      async () => new Blob(['{"seq":1}\n'], { type: 'application/x-ndjson' }),
    );
    const createObjectURL = jest.fn(() => 'blob:kmp-audit');
    Object.assign(URL, { createObjectURL, revokeObjectURL: jest.fn() });
    const click = jest
      .spyOn(HTMLAnchorElement.prototype, 'click')
      .mockImplementation(function checkDownload(this: HTMLAnchorElement) {
        expect(this.download).toBe('kmp-audit.jsonl');
      });
    await render(
      fakeApi({ exportAuditEvents }),
      '/?actor=user:default/alice&from=2026-11-25T00:00:00Z',
    );
    fireEvent.click(
      await screen.findByRole('button', { name: 'Export JSON Lines' }),
    );
    await waitFor(() => expect(click).toHaveBeenCalled());
    expect(exportAuditEvents).toHaveBeenCalledWith(
      { actor: 'user:default/alice', from: '2026-11-25T00:00:00.000Z' },
      'ndjson',
    );
    click.mockRestore();

    exportAuditEvents.mockRejectedValueOnce(
      new Error('not allowed to kmp.audit.read'),
    );
    fireEvent.click(screen.getByRole('button', { name: 'Export CSV' }));
    await waitFor(() =>
      expect(alertApi.post).toHaveBeenCalledWith({
        message: 'Audit export failed: not allowed to kmp.audit.read',
        severity: 'error',
      }),
    );
  });

  it('limits a developer to their own actions, whatever the address says', async () => {
    const listAuditEvents = jest.fn(async () => ({ items: [] }));
    await render(
      fakeApi({
        listAuditEvents,
        getMe: async () => ({
          user: 'user:default/alice',
          ownershipRefs: [],
          gitops: false,
          personas: [
            {
              environmentGroup: 'payments-prod',
              environment: 'production',
              persona: 'developer',
            },
          ],
        }),
      }),
      '/?actor=user:default/oscar',
    );
    expect(
      await screen.findByText(
        'Developers see their own actions',
        undefined,
        slow,
      ),
    ).toBeInTheDocument();
    expect(screen.getByLabelText('Actor')).toBeDisabled();
    expect(screen.getByLabelText('Actor')).toHaveValue('user:default/alice');
    await waitFor(() =>
      expect(listAuditEvents).toHaveBeenLastCalledWith(
        expect.objectContaining({ actor: 'user:default/alice' }),
      ),
    );
    expect(listAuditEvents).not.toHaveBeenCalledWith(
      expect.objectContaining({ actor: 'user:default/oscar' }),
    );
  });

  it('shows a refused listing as an error, not an empty table', async () => {
    await render(
      fakeApi({
        listAuditEvents: async () => {
          throw new Error('not allowed to kmp.audit.read');
        },
      }),
    );
    expect(
      await screen.findAllByText(
        /not allowed to kmp.audit.read/,
        undefined,
        slow,
      ),
    ).not.toHaveLength(0);
    expect(
      screen.queryByText('No audit events match these filters.'),
    ).toBeNull();
  });
});
