import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusPending,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { BreakGlassRequest, BreakGlassStepResult, kmpApiRef } from '../../api';
import { useKmpCluster } from '../ClusterPage/KmpClusterContext';
import { RefusalAlert } from '../Operations/RefusalAlert';
import {
  at,
  BREAK_GLASS_DURATIONS,
  formatDuration,
  isLiveGrant,
  isOpen,
  MIN_REASON_LENGTH,
  refusalAuditId,
  refusalOf,
  revokeDecision,
  sameActor,
} from './breakGlass';
import { BreakGlassStatus } from './BreakGlassStatus';
import { BreakGlassStepButton } from './BreakGlassStepButton';

const useStyles = makeStyles(theme => ({
  form: {
    display: 'flex',
    gap: theme.spacing(2),
    alignItems: 'flex-start',
    flexWrap: 'wrap',
  },
  reason: { flex: '1 1 320px' },
  section: { marginTop: theme.spacing(2) },
}));

/** The viewer's own requests on one cluster, with revoke / withdraw. */
function MyRequests(props: { cluster: string; reloadKey: number }) {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(async () => {
    const [me, { items }] = await Promise.all([
      kmpApi.getMe(),
      kmpApi.listBreakGlassRequests({ cluster: props.cluster, limit: 50 }),
    ]);
    // Approvers also see everybody's open requests; this card is about mine.
    return {
      me,
      items: items.filter(r => sameActor(r.requester, me.user)),
    };
  }, [kmpApi, props.cluster, props.reloadKey]);

  if (loading && !value) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!value || value.items.length === 0) {
    return (
      <Typography variant="body2" color="textSecondary">
        You have no break-glass requests on this cluster.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="my break-glass requests">
      <TableHead>
        <TableRow>
          <TableCell>State</TableCell>
          <TableCell>Scope</TableCell>
          <TableCell>Reason</TableCell>
          <TableCell>Duration</TableCell>
          <TableCell>Requested</TableCell>
          <TableCell />
        </TableRow>
      </TableHead>
      <TableBody>
        {value.items.map((r: BreakGlassRequest) => {
          const pending = isOpen(r);
          return (
            <TableRow key={r.id}>
              <TableCell>
                <BreakGlassStatus request={r} />
              </TableCell>
              <TableCell>{r.namespace ?? 'whole cluster'}</TableCell>
              <TableCell>{r.reason}</TableCell>
              <TableCell>{formatDuration(r.durationSeconds)}</TableCell>
              <TableCell>{at(r.createdAt)}</TableCell>
              <TableCell>
                {(pending || isLiveGrant(r)) && (
                  <BreakGlassStepButton
                    label={pending ? 'Withdraw' : 'Revoke'}
                    ariaLabel={`${pending ? 'Withdraw' : 'Revoke'} request ${
                      r.id
                    }`}
                    decision={revokeDecision(value.me, r)}
                    destructive
                    title={
                      pending
                        ? 'Withdraw this break-glass request?'
                        : 'Revoke this break-glass grant?'
                    }
                    description={
                      pending
                        ? 'Nobody can approve it afterwards.'
                        : `Your changes to ${r.cluster} are refused from the next request on.`
                    }
                    textLabel="Reason (optional)"
                    run={reason =>
                      kmpApi.revokeBreakGlassRequest(r.id, { reason })
                    }
                    onDone={retry}
                  />
                )}
              </TableCell>
            </TableRow>
          );
        })}
      </TableBody>
    </Table>
  );
}

/**
 * Break-glass on a cluster page: ask for a time-boxed grant to change a
 * production (or edge) cluster by hand — whole cluster or one namespace —
 * which a second person approves, and see and revoke one's own requests.
 */
export function BreakGlassCard() {
  const classes = useStyles();
  const kmpApi = useApi(kmpApiRef);
  const { cluster, permissions } = useKmpCluster();
  const decision = permissions.decide('break-glass-request');
  const [namespace, setNamespace] = useState('');
  const [reason, setReason] = useState('');
  const [duration, setDuration] = useState(60 * 60);
  const [submitting, setSubmitting] = useState(false);
  const [created, setCreated] = useState<BreakGlassStepResult>();
  const [error, setError] = useState<{ message: string; auditId?: string }>();
  const [reloadKey, setReloadKey] = useState(0);

  const reasonTooShort = reason.trim().length < MIN_REASON_LENGTH;

  const submit = async () => {
    setSubmitting(true);
    setError(undefined);
    setCreated(undefined);
    try {
      const request = await kmpApi.requestBreakGlass({
        cluster: cluster.name,
        reason: reason.trim(),
        durationSeconds: duration,
        namespace: namespace.trim() || undefined,
      });
      setCreated(request);
      setReason('');
      setReloadKey(k => k + 1);
    } catch (e) {
      setError({ message: refusalOf(e), auditId: refusalAuditId(e) });
    } finally {
      setSubmitting(false);
    }
  };

  let form;
  if (permissions.loading) {
    form = (
      <Typography variant="body2" color="textSecondary">
        Checking your access…
      </Typography>
    );
  } else if (!decision.allowed) {
    form = (
      <Typography variant="body2" color="textSecondary">
        You cannot request break-glass on this cluster: {decision.reason}.
      </Typography>
    );
  } else {
    form = (
      <>
        <div className={classes.form}>
          <TextField
            id="kmp-break-glass-namespace"
            label="Namespace (optional)"
            helperText="Empty: the whole cluster"
            value={namespace}
            onChange={e => setNamespace(e.target.value)}
          />
          <TextField
            id="kmp-break-glass-reason"
            className={classes.reason}
            label="Reason"
            required
            multiline
            helperText={`Why, in at least ${MIN_REASON_LENGTH} characters (incident, ticket)`}
            value={reason}
            inputProps={{ maxLength: 2000 }}
            onChange={e => setReason(e.target.value)}
          />
          <TextField
            select
            id="kmp-break-glass-duration"
            label="Duration"
            helperText="From approval"
            value={duration}
            onChange={e => setDuration(Number(e.target.value))}
          >
            {BREAK_GLASS_DURATIONS.map(d => (
              <MenuItem key={d.seconds} value={d.seconds}>
                {d.label}
              </MenuItem>
            ))}
          </TextField>
          <Button
            variant="contained"
            color="primary"
            disabled={submitting || reasonTooShort}
            onClick={submit}
          >
            Request break-glass
          </Button>
        </div>
        {error && <RefusalAlert {...error} />}
        {created && (
          <div role="status">
            <StatusPending>
              Requested: waiting for a second person to approve (lapses{' '}
              {at(created.pendingUntil)}).
            </StatusPending>
            <Typography variant="body2">Audit id: {created.auditId}</Typography>
            {/* kept last: the portal e2e reads the request id from the end */}
            <Typography variant="body2">Request id {created.id}.</Typography>
          </div>
        )}
      </>
    );
  }

  return (
    <InfoCard
      title="Break-glass"
      subheader="Time-boxed access to change this cluster by hand, approved by a second person"
    >
      {form}
      <Typography variant="h6" className={classes.section}>
        My requests
      </Typography>
      <MyRequests cluster={cluster.name} reloadKey={reloadKey} />
    </InfoCard>
  );
}
