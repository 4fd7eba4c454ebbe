import { renderInTestApp, TestApiProvider } from '@backstage/test-utils';
import { KMP_RULES } from '@kmp/plugin-kmp-common';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { BreakGlassRequest, KmpApi, kmpApiRef, KmpMe } from '../../api';
import { fakeKmpApi, me } from '../ClusterPage/__testUtils__/fakes';
import {
  approved,
  bgRequest,
  responseError,
  stepResult,
} from './__testUtils__/requests';
import { BreakGlassPage } from './BreakGlassPage';

jest.setTimeout(60_000);

function renderPage(options: {
  viewer: KmpMe;
  items: () => BreakGlassRequest[];
  overrides?: Partial<KmpApi>;
}) {
  const api = fakeKmpApi({
    me: options.viewer,
    overrides: {
      listBreakGlassRequests: async () => ({ items: options.items() }),
      ...options.overrides,
    },
  });
  return renderInTestApp(
    <TestApiProvider apis={[[kmpApiRef, api]]}>
      <BreakGlassPage />
    </TestApiProvider>,
  );
}

/** An ops engineer of payments-prod, signed in as alice. */
const opsAlice = () => me('ops', ['payments-prod']);

describe('BreakGlassPage', () => {
  it("disables approve and deny on the viewer's own request, saying why, and enables them on somebody else's", async () => {
    const own = bgRequest({ reason: 'my own request for access' });
    const bobs = bgRequest({
      requester: 'user:default/bob',
      reason: 'bob needs to roll back',
    });
    await renderPage({ viewer: opsAlice(), items: () => [own, bobs] });

    const approveOwn = await screen.findByRole('button', {
      name: `Approve request ${own.id}`,
    });
    expect(approveOwn).toBeDisabled();
    expect(
      screen.getByRole('button', { name: `Deny request ${own.id}` }),
    ).toBeDisabled();
    const ownRow = approveOwn.closest('tr')!;
    expect(
      within(ownRow as HTMLElement).getByText(
        'you cannot approve your own request',
      ),
    ).toBeInTheDocument();
    // The requester may still withdraw it.
    expect(
      screen.getByRole('button', { name: `Withdraw request ${own.id}` }),
    ).toBeEnabled();

    expect(
      screen.getByRole('button', { name: `Approve request ${bobs.id}` }),
    ).toBeEnabled();
    expect(
      screen.getByRole('button', { name: `Deny request ${bobs.id}` }),
    ).toBeEnabled();
    expect(
      screen.getByText(
        'You approve break-glass requests of others in payments-prod; nobody approves their own.',
        { exact: false },
      ),
    ).toBeInTheDocument();
  });

  it('approves a request after confirmation and moves it to the active grants', async () => {
    const bobs = bgRequest({ requester: 'user:default/bob' });
    let items = [bobs];
    const approveBreakGlassRequest = jest.fn(
      async (id: string, options?: { comment?: string }) => {
        const grant = { ...approved(bobs, 'user:default/alice'), id };
        if (options?.comment) grant.comment = options.comment;
        items = [grant];
        return stepResult(grant, 'b0000000-0000-4000-8000-000000000001');
      },
    );
    await renderPage({
      viewer: opsAlice(),
      items: () => items,
      overrides: { approveBreakGlassRequest },
    });
    expect(await screen.findByText('No active grants.')).toBeInTheDocument();
    fireEvent.click(
      screen.getByRole('button', { name: `Approve request ${bobs.id}` }),
    );
    expect(
      await screen.findByText('Approve break-glass for bob?'),
    ).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText('Comment (optional)'), {
      target: { value: 'INC-42' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Approve' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(
      `Request ${bobs.id} is approved, the grant ends`,
    );
    expect(status).toHaveTextContent(
      'Audit id: b0000000-0000-4000-8000-000000000001',
    );
    expect(approveBreakGlassRequest).toHaveBeenCalledWith(bobs.id, {
      comment: 'INC-42',
    });
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));

    const grants = await screen.findByRole('table', {
      name: 'active break-glass grants',
    });
    expect(within(grants).getByText('alice (“INC-42”)')).toBeInTheDocument();
    expect(screen.getByText('No pending requests.')).toBeInTheDocument();
  });

  it('shows the conflict when somebody else decided first (409) and reloads', async () => {
    const bobs = bgRequest({ requester: 'user:default/bob' });
    let items = [bobs];
    const message = `break-glass request '${bobs.id}' is approved, not pending`;
    await renderPage({
      viewer: opsAlice(),
      items: () => items,
      overrides: {
        denyBreakGlassRequest: async () => {
          items = [approved(bobs, 'user:default/carol')];
          throw await responseError(409, 'ConflictError', message);
        },
      },
    });
    fireEvent.click(
      await screen.findByRole('button', { name: `Deny request ${bobs.id}` }),
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Deny' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(`Conflict: ${message}`);
    // Nothing was recorded for the lost race: no audit id to show.
    expect(alert).not.toHaveTextContent('Audit id');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    const grants = await screen.findByRole('table', {
      name: 'active break-glass grants',
    });
    expect(within(grants).getByText('carol')).toBeInTheDocument();
  });

  it("shows the backend's refusal (403) in its words, with the refusal's audit id", async () => {
    // The page offers approve by the persona matrix; an operator's
    // permission policy may still say no, and the page must say what it said.
    const bobs = bgRequest({ requester: 'user:default/bob' });
    const message = 'not allowed to kmp.break-glass.approve';
    await renderPage({
      viewer: opsAlice(),
      items: () => [bobs],
      overrides: {
        approveBreakGlassRequest: async () => {
          throw await responseError(
            403,
            'NotAllowedError',
            message,
            'b0000000-0000-4000-8000-000000000403',
          );
        },
      },
    });
    fireEvent.click(
      await screen.findByRole('button', { name: `Approve request ${bobs.id}` }),
    );
    fireEvent.click(await screen.findByRole('button', { name: 'Approve' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent(`Refused: ${message}`);
    expect(alert).toHaveTextContent(
      'Audit id: b0000000-0000-4000-8000-000000000403',
    );
  });

  it('revokes an active grant as an approver, after confirmation', async () => {
    const grant = approved(bgRequest({ requester: 'user:default/bob' }));
    let items = [grant];
    const revokeBreakGlassRequest = jest.fn(async (id: string) => {
      const revoked: BreakGlassRequest = {
        ...grant,
        state: 'revoked',
        revokedBy: 'user:default/alice',
        revokedAt: new Date().toISOString(),
      };
      items = [revoked];
      expect(id).toBe(grant.id);
      return stepResult(revoked, 'b0000000-0000-4000-8000-000000000002');
    });
    await renderPage({
      viewer: opsAlice(),
      items: () => items,
      overrides: { revokeBreakGlassRequest },
    });
    fireEvent.click(
      await screen.findByRole('button', { name: `Revoke request ${grant.id}` }),
    );
    expect(
      await screen.findByText(
        'Revoke the grant of bob on payments-prod-eu1 (whole cluster)?',
      ),
    ).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: 'Revoke' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(`Request ${grant.id} is revoked`);
    expect(status).toHaveTextContent(
      'Audit id: b0000000-0000-4000-8000-000000000002',
    );
    expect(revokeBreakGlassRequest).toHaveBeenCalledWith(grant.id, {
      reason: undefined,
    });
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    const history = await screen.findByRole('table', {
      name: 'break-glass history',
    });
    expect(within(history).getByText('revoked by alice')).toBeInTheDocument();
    expect(screen.getByText('No active grants.')).toBeInTheDocument();
  });

  it('denies a request after confirmation and shows the audit id of the denial', async () => {
    const bobs = bgRequest({ requester: 'user:default/bob' });
    let items = [bobs];
    const denyBreakGlassRequest = jest.fn(
      async (id: string, options?: { comment?: string }) => {
        const denied: BreakGlassRequest = {
          ...bobs,
          state: 'denied',
          decidedBy: 'user:default/alice',
          decidedAt: new Date().toISOString(),
          comment: options?.comment,
        };
        items = [denied];
        expect(id).toBe(bobs.id);
        return stepResult(denied, 'b0000000-0000-4000-8000-000000000003');
      },
    );
    await renderPage({
      viewer: opsAlice(),
      items: () => items,
      overrides: { denyBreakGlassRequest },
    });
    fireEvent.click(
      await screen.findByRole('button', { name: `Deny request ${bobs.id}` }),
    );
    fireEvent.change(await screen.findByLabelText('Comment (optional)'), {
      target: { value: 'use Git' },
    });
    fireEvent.click(screen.getByRole('button', { name: 'Deny' }));
    const status = await screen.findByRole('status');
    expect(status).toHaveTextContent(`Request ${bobs.id} is denied`);
    expect(status).toHaveTextContent(
      'Audit id: b0000000-0000-4000-8000-000000000003',
    );
    expect(denyBreakGlassRequest).toHaveBeenCalledWith(bobs.id, {
      comment: 'use Git',
    });
  });

  it('tells a developer they see their own requests only and cannot approve', async () => {
    const own = bgRequest();
    await renderPage({ viewer: me('developer'), items: () => [own] });
    expect(
      await screen.findByText(
        `You see your own requests only: ${KMP_RULES.breakGlassApprovers}.`,
        { exact: false },
      ),
    ).toBeInTheDocument();
    expect(
      screen.getByRole('button', { name: `Approve request ${own.id}` }),
    ).toBeDisabled();
  });

  it('shows an empty state', async () => {
    await renderPage({ viewer: opsAlice(), items: () => [] });
    expect(
      await screen.findByText('No break-glass requests'),
    ).toBeInTheDocument();
  });

  it('shows why the requests could not be loaded', async () => {
    await renderPage({
      viewer: opsAlice(),
      items: () => {
        throw new Error('kmp backend unavailable');
      },
    });
    await waitFor(() =>
      expect(
        screen.getAllByText(/kmp backend unavailable/).length,
      ).toBeGreaterThan(0),
    );
  });
});
