import {
  CopyTextButton,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
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
import { IssuedKubeconfig, kmpApiRef } from '../../api';
import { useKmpCluster } from '../ClusterPage/KmpClusterContext';
import { GuardedAction, visibilityOf } from '../Operations';

/** Lifetimes on offer; the backend caps them at kmp.broker.tokens.maxTtlSeconds (8 h by default). */
export const KUBECONFIG_TTLS: Array<{ seconds: number; label: string }> = [
  { seconds: 15 * 60, label: '15 minutes' },
  { seconds: 60 * 60, label: '1 hour' },
  { seconds: 4 * 60 * 60, label: '4 hours' },
  { seconds: 8 * 60 * 60, label: '8 hours' },
];

const useStyles = makeStyles(theme => ({
  form: {
    display: 'flex',
    gap: theme.spacing(2),
    alignItems: 'center',
    flexWrap: 'wrap',
  },
  kubeconfig: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    whiteSpace: 'pre',
    overflow: 'auto',
    maxHeight: 300,
    background: theme.palette.background.default,
    padding: theme.spacing(1),
  },
}));

const at = (iso: string) => new Date(iso).toLocaleString();

function download(filename: string, text: string) {
  const url = URL.createObjectURL(
    new Blob([text], { type: 'application/yaml' }),
  );
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.click();
  URL.revokeObjectURL(url);
}

function Issued(props: { issued: IssuedKubeconfig }) {
  const classes = useStyles();
  const { issued } = props;
  const minutes = Math.round(
    (Date.parse(issued.expiresAt) - Date.now()) / 60_000,
  );
  return (
    <div>
      <Typography variant="body1">
        {issued.access === 'write' ? 'Read-write' : 'Read-only'} kubeconfig for{' '}
        {issued.cluster}, expires {at(issued.expiresAt)}
        {minutes > 0 && ` (in ${minutes} min)`}.
      </Typography>
      <Typography variant="body2" color="textSecondary">
        The token is shown only now. Keep it private: it acts as you.
      </Typography>
      <pre className={classes.kubeconfig} aria-label="kubeconfig">
        {issued.kubeconfig}
      </pre>
      <CopyTextButton
        text={issued.kubeconfig}
        tooltipText="Kubeconfig copied"
        aria-label="Copy kubeconfig"
      />
      <Button
        variant="outlined"
        onClick={() =>
          download(`${issued.cluster}.kubeconfig.yaml`, issued.kubeconfig)
        }
      >
        Download
      </Button>
    </div>
  );
}

function ActiveTokens(props: { reloadKey: number }) {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => kmpApi.listKubeconfigTokens(),
    [kmpApi, props.reloadKey],
  );
  if (loading && !value) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  const active = (value?.items ?? []).filter(t => t.state === 'active');
  if (active.length === 0) {
    return (
      <Typography variant="body2" color="textSecondary">
        You have no active kubeconfig tokens.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="my kubeconfig tokens">
      <TableHead>
        <TableRow>
          <TableCell>Cluster</TableCell>
          <TableCell>Access</TableCell>
          <TableCell>Issued</TableCell>
          <TableCell>Expires</TableCell>
          <TableCell />
        </TableRow>
      </TableHead>
      <TableBody>
        {active.map(t => (
          <TableRow key={t.id}>
            <TableCell>{t.cluster}</TableCell>
            <TableCell>{t.access}</TableCell>
            <TableCell>{at(t.createdAt)}</TableCell>
            <TableCell>{at(t.expiresAt)}</TableCell>
            <TableCell>
              <GuardedAction
                decision={{ allowed: true }}
                label="Revoke"
                ariaLabel={`Revoke token ${t.id}`}
                destructive
                title={`Revoke the kubeconfig token for ${t.cluster}?`}
                description="The broker refuses it from now on; kubectl using it stops working."
                onConfirm={async () => {
                  await kmpApi.revokeKubeconfigToken(t.id);
                  return {};
                }}
                onDone={retry}
              />
            </TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/**
 * Just-in-time kubeconfigs for the cluster: issue one (lifetime, access,
 * namespace), copy or download it, and see and revoke one's active tokens.
 */
export function KubeconfigCard() {
  const classes = useStyles();
  const kmpApi = useApi(kmpApiRef);
  const { cluster, permissions } = useKmpCluster();
  const decision = permissions.decide('kubeconfig');
  const mayWrite = permissions.decide('write').allowed && !decision.readOnly;
  const [ttl, setTtl] = useState(60 * 60);
  const [access, setAccess] = useState<'read' | 'write'>('read');
  const [namespace, setNamespace] = useState('');
  const [issued, setIssued] = useState<IssuedKubeconfig>();
  const [issuing, setIssuing] = useState(false);
  const [error, setError] = useState<Error>();
  const [reloadKey, setReloadKey] = useState(0);

  if (visibilityOf(decision) === 'hidden') {
    return (
      <InfoCard title="Kubeconfig">
        <Typography variant="body2" color="textSecondary">
          {permissions.loading
            ? 'Checking your access…'
            : `You cannot get a kubeconfig for this cluster: ${decision.reason}.`}
        </Typography>
        <ActiveTokens reloadKey={reloadKey} />
      </InfoCard>
    );
  }

  const issue = async () => {
    setIssuing(true);
    setError(undefined);
    try {
      setIssued(
        await kmpApi.issueKubeconfig(cluster.name, {
          expiresInSeconds: ttl,
          access: mayWrite ? access : 'read',
          namespace: namespace || undefined,
        }),
      );
      setReloadKey(k => k + 1);
    } catch (e) {
      setError(e as Error);
    } finally {
      setIssuing(false);
    }
  };

  return (
    <InfoCard
      title="Kubeconfig"
      subheader="Short-lived, through the KMP broker, acting as you"
    >
      <div className={classes.form}>
        <TextField
          select
          id="kmp-kubeconfig-ttl"
          label="Lifetime"
          value={ttl}
          onChange={e => setTtl(Number(e.target.value))}
        >
          {KUBECONFIG_TTLS.map(t => (
            <MenuItem key={t.seconds} value={t.seconds}>
              {t.label}
            </MenuItem>
          ))}
        </TextField>
        {mayWrite ? (
          <TextField
            select
            id="kmp-kubeconfig-access"
            label="Access"
            value={access}
            onChange={e => setAccess(e.target.value as 'read' | 'write')}
          >
            <MenuItem value="read">read</MenuItem>
            <MenuItem value="write">read-write</MenuItem>
          </TextField>
        ) : (
          <Typography variant="body2">
            Read-only
            {decision.readOnly &&
              cluster.environment === 'production' &&
              ': production changes go through GitOps'}
          </Typography>
        )}
        <TextField
          id="kmp-kubeconfig-namespace"
          label="Default namespace"
          value={namespace}
          onChange={e => setNamespace(e.target.value)}
        />
        <Button
          variant="contained"
          color="primary"
          disabled={issuing}
          onClick={issue}
        >
          Get kubeconfig
        </Button>
      </div>
      {error && <StatusError>{error.message}</StatusError>}
      {issued && <Issued issued={issued} />}
      <Typography variant="h6" style={{ marginTop: 16 }}>
        My active tokens
      </Typography>
      <ActiveTokens reloadKey={reloadKey} />
    </InfoCard>
  );
}
