import {
  Content,
  ContentHeader,
  EmptyState,
  Header,
  InfoCard,
  Page,
  Progress,
  ResponseErrorPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { KMP_RULES } from '@kmp/plugin-kmp-common';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { ReactNode } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { BreakGlassRequest, kmpApiRef, KmpMe } from '../../api';
import {
  at,
  decisionOn,
  displayName,
  formatDuration,
  isLiveGrant,
  isOpen,
  mayApproveIn,
  revokeDecision,
  sameActor,
} from './breakGlass';
import { BreakGlassStatus } from './BreakGlassStatus';
import { BreakGlassStepButton } from './BreakGlassStepButton';

/** The most the page lists; the backend's maximum page. */
const LIST_LIMIT = 500;

const useStyles = makeStyles(theme => ({
  actions: {
    display: 'flex',
    gap: theme.spacing(1),
    flexWrap: 'wrap',
    alignItems: 'flex-start',
  },
  action: { maxWidth: 220 },
}));

const scopeOf = (r: BreakGlassRequest) =>
  `${r.cluster}${r.namespace ? ` / ${r.namespace}` : ' (whole cluster)'}`;

function RequestTable(props: {
  label: string;
  requests: BreakGlassRequest[];
  extraColumns: Array<{
    title: string;
    render(r: BreakGlassRequest): ReactNode;
  }>;
}) {
  return (
    <Table size="small" aria-label={props.label}>
      <TableHead>
        <TableRow>
          <TableCell>Cluster / namespace</TableCell>
          <TableCell>Requester</TableCell>
          <TableCell>Reason</TableCell>
          <TableCell>Duration</TableCell>
          {props.extraColumns.map(c => (
            <TableCell key={c.title}>{c.title}</TableCell>
          ))}
        </TableRow>
      </TableHead>
      <TableBody>
        {props.requests.map(r => (
          <TableRow key={r.id} data-request-id={r.id}>
            <TableCell>
              {scopeOf(r)}
              <Typography
                variant="caption"
                color="textSecondary"
                display="block"
              >
                {r.environmentGroup} · id {r.id}
              </Typography>
            </TableCell>
            <TableCell>{displayName(r.requester)}</TableCell>
            <TableCell>{r.reason}</TableCell>
            <TableCell>{formatDuration(r.durationSeconds)}</TableCell>
            {props.extraColumns.map(c => (
              <TableCell key={c.title}>{c.render(r)}</TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

function Section(props: {
  title: string;
  subheader: string;
  empty: string;
  count: number;
  children: ReactNode;
}) {
  return (
    <InfoCard title={props.title} subheader={props.subheader}>
      {props.count === 0 ? (
        <Typography variant="body2" color="textSecondary">
          {props.empty}
        </Typography>
      ) : (
        props.children
      )}
    </InfoCard>
  );
}

/** What the viewer may do with break-glass, by their personas. */
function ViewerNote(props: { me: KmpMe }) {
  const groups = [
    ...new Set(
      props.me.personas
        .filter(p => mayApproveIn(props.me, p.environmentGroup).allowed)
        .map(p => p.environmentGroup),
    ),
  ].sort();
  return (
    <Typography variant="body2" color="textSecondary">
      {groups.length > 0
        ? `You approve break-glass requests of others in ${groups.join(
            ', ',
          )}; nobody approves their own.`
        : `You see your own requests only: ${KMP_RULES.breakGlassApprovers}.`}{' '}
      Request break-glass from a production cluster&apos;s page.
    </Typography>
  );
}

/**
 * Break-glass across the fleet: the pending requests the viewer can see,
 * with approve and deny for approvers (never on one's own request), the
 * live grants with revoke, and the history. The backend decides every
 * step; refusals (403) and lost races (409) are shown in its words.
 *
 * @public
 */
export function BreakGlassPage() {
  const classes = useStyles();
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(async () => {
    const [me, { items }] = await Promise.all([
      kmpApi.getMe(),
      kmpApi.listBreakGlassRequests({ limit: LIST_LIMIT }),
    ]);
    return { me, items };
  }, [kmpApi]);

  let body: ReactNode;
  if (loading && !value) {
    body = <Progress />;
  } else if (error) {
    body = <ResponseErrorPanel error={error} />;
  } else if (value && value.items.length === 0) {
    body = (
      <>
        <ViewerNote me={value.me} />
        <EmptyState
          missing="data"
          title="No break-glass requests"
          description="Nobody you can see has asked for break-glass access. Requests are made on the page of a production or edge cluster."
        />
      </>
    );
  } else if (value) {
    const { me, items } = value;
    const now = Date.now();
    const pending = items.filter(r => isOpen(r, now));
    const live = items.filter(r => isLiveGrant(r, now));
    const history = items.filter(r => !isOpen(r, now) && !isLiveGrant(r, now));
    const mine = (r: BreakGlassRequest) => sameActor(r.requester, me.user);

    const revokeButton = (r: BreakGlassRequest, label: string) => (
      <BreakGlassStepButton
        label={label}
        ariaLabel={`${label} request ${r.id}`}
        decision={revokeDecision(me, r)}
        destructive
        title={
          label === 'Withdraw'
            ? `Withdraw the request for ${scopeOf(r)}?`
            : `Revoke the grant of ${displayName(r.requester)} on ${scopeOf(
                r,
              )}?`
        }
        description={
          label === 'Withdraw'
            ? 'Nobody can approve it afterwards.'
            : `${displayName(
                r.requester,
              )}'s changes are refused from the next request on.`
        }
        textLabel="Reason (optional)"
        run={reason => kmpApi.revokeBreakGlassRequest(r.id, { reason })}
        onDone={retry}
      />
    );

    body = (
      <Grid container spacing={3}>
        <Grid item xs={12}>
          <ViewerNote me={me} />
        </Grid>
        <Grid item xs={12}>
          <Section
            title="Pending requests"
            subheader="Waiting for a second person; undecided requests lapse"
            empty="No pending requests."
            count={pending.length}
          >
            <RequestTable
              label="pending break-glass requests"
              requests={pending}
              extraColumns={[
                {
                  title: 'Requested',
                  render: r => (
                    <>
                      {at(r.createdAt)}
                      <BreakGlassStatus request={r} />
                    </>
                  ),
                },
                {
                  title: 'Decision',
                  render: r => (
                    <div className={classes.actions}>
                      <div className={classes.action}>
                        <BreakGlassStepButton
                          label="Approve"
                          ariaLabel={`Approve request ${r.id}`}
                          decision={decisionOn(me, r, 'approve')}
                          title={`Approve break-glass for ${displayName(
                            r.requester,
                          )}?`}
                          description={`${displayName(
                            r.requester,
                          )} may change ${scopeOf(
                            r,
                          )} by hand for ${formatDuration(
                            r.durationSeconds,
                          )} from now. Reason given: “${r.reason}”`}
                          textLabel="Comment (optional)"
                          run={comment =>
                            kmpApi.approveBreakGlassRequest(r.id, { comment })
                          }
                          onDone={retry}
                        />
                      </div>
                      <div className={classes.action}>
                        <BreakGlassStepButton
                          label="Deny"
                          ariaLabel={`Deny request ${r.id}`}
                          decision={decisionOn(me, r, 'deny')}
                          destructive
                          title={`Deny break-glass for ${displayName(
                            r.requester,
                          )}?`}
                          description={`The request for ${scopeOf(
                            r,
                          )} is closed; ${displayName(
                            r.requester,
                          )} can ask again.`}
                          textLabel="Comment (optional)"
                          run={comment =>
                            kmpApi.denyBreakGlassRequest(r.id, { comment })
                          }
                          onDone={retry}
                        />
                      </div>
                      {mine(r) && revokeButton(r, 'Withdraw')}
                    </div>
                  ),
                },
              ]}
            />
          </Section>
        </Grid>
        <Grid item xs={12}>
          <Section
            title="Active grants"
            subheader="Approved and not yet expired: the broker lets these people change production"
            empty="No active grants."
            count={live.length}
          >
            <RequestTable
              label="active break-glass grants"
              requests={live}
              extraColumns={[
                {
                  title: 'Approved by',
                  render: r =>
                    `${displayName(r.decidedBy)}${
                      r.comment ? ` (“${r.comment}”)` : ''
                    }`,
                },
                { title: 'Expires', render: r => at(r.expiresAt) },
                { title: '', render: r => revokeButton(r, 'Revoke') },
              ]}
            />
          </Section>
        </Grid>
        <Grid item xs={12}>
          <Section
            title="History"
            subheader="Denied, revoked, expired and lapsed requests you can see"
            empty="No past requests."
            count={history.length}
          >
            <RequestTable
              label="break-glass history"
              requests={history}
              extraColumns={[
                { title: 'Requested', render: r => at(r.createdAt) },
                {
                  title: 'Outcome',
                  render: r => (
                    <>
                      <BreakGlassStatus request={r} />
                      {r.decidedBy && (
                        <Typography variant="caption" display="block">
                          {r.state === 'denied' ? 'denied' : 'approved'} by{' '}
                          {displayName(r.decidedBy)}
                          {r.comment ? `: “${r.comment}”` : ''}
                        </Typography>
                      )}
                      {r.revokedBy && (
                        <Typography variant="caption" display="block">
                          revoked by {displayName(r.revokedBy)}
                          {r.revokeReason ? `: “${r.revokeReason}”` : ''}
                        </Typography>
                      )}
                    </>
                  ),
                },
              ]}
            />
          </Section>
        </Grid>
      </Grid>
    );
  }

  return (
    <Page themeId="tool">
      <Header
        title="Break-glass"
        subtitle="Time-boxed, four-eyes access to change production by hand"
      />
      <Content>
        <ContentHeader title="Requests and grants">
          <Button variant="outlined" onClick={retry} disabled={loading}>
            Refresh
          </Button>
        </ContentHeader>
        {body}
      </Content>
    </Page>
  );
}
