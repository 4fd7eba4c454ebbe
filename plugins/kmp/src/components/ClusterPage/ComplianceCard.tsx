import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { kmpApiRef } from '../../api';
import { GuardedAction } from '../Operations';
import { useKmpCluster } from './KmpClusterContext';

const useStyles = makeStyles(theme => ({
  actions: {
    display: 'flex',
    gap: theme.spacing(1),
    marginTop: theme.spacing(2),
  },
}));

/**
 * Platform engineers' controls: install the governed bundle and scan now.
 * In production the bundle goes through Git (PERSONAS.md: policy bundles
 * "via Git"), elsewhere by server-side apply; the backend checks
 * kmp.policy.manage either way.
 */
function PolicyActions(props: { onDone(): void }) {
  const classes = useStyles();
  const { cluster, permissions } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const decision = permissions.decide('manage-platform');
  const viaGit = decision.allowed && decision.via === 'gitops';
  if (!decision.allowed) return null;
  // The Git path is the allowed one here, not a disabled direct change.
  const allowed = { allowed: true };
  return (
    <div className={classes.actions}>
      <GuardedAction
        decision={allowed}
        label={viaGit ? 'Publish bundle to Git' : 'Install bundle'}
        title={
          viaGit
            ? `Publish the governed policy bundle of ${cluster.name} to Git?`
            : `Install the governed policy bundle on ${cluster.name}?`
        }
        description={
          viaGit
            ? "Commits the rendered bundle (ValidatingAdmissionPolicy, Gatekeeper and Kyverno) to the cluster's GitOps repository, authored by you; the cluster's GitOps engine applies it."
            : 'Server-side applies the rendered ValidatingAdmissionPolicies and bindings to the cluster, labelled with the bundle version; policies that left the bundle are pruned.'
        }
        confirmLabel={viaGit ? 'Publish' : 'Install'}
        onConfirm={async () => {
          const installed = await kmpApi.distributePolicies(
            cluster.name,
            viaGit ? 'gitops' : undefined,
          );
          return {
            detail: `Bundle ${installed.bundleVersion} installed (${
              installed.mode
            })${installed.location ? ` at ${installed.location}` : ''}.`,
          };
        }}
        onDone={props.onDone}
      />
      <GuardedAction
        decision={allowed}
        label="Scan now"
        title={`Scan ${cluster.name} now?`}
        description="Checks the installed policies for drift and evaluates the cluster's live workloads against the governed bundle; the scheduler does this periodically."
        confirmLabel="Scan"
        onConfirm={async () => {
          const report = await kmpApi.scanCompliance(cluster.name);
          return {
            detail: report.scan
              ? `Scan ${report.scan.status}: ${report.scan.objectsScanned} objects.`
              : 'Scanned.',
          };
        }}
        onDone={props.onDone}
      />
    </div>
  );
}

function Drift(props: { status?: string }) {
  switch (props.status) {
    case 'in-sync':
      return <StatusOK>in sync</StatusOK>;
    case 'drifted':
      return <StatusError>drifted</StatusError>;
    default:
      return <StatusPending>{props.status ?? 'not installed'}</StatusPending>;
  }
}

/**
 * Policy compliance of the cluster: governed and installed bundle version,
 * distribution mode, drift, and violations per rule.
 */
export function ComplianceCard() {
  const { cluster } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => kmpApi.getClusterCompliance(cluster.name),
    [kmpApi, cluster.name],
  );
  let content;
  if (loading) {
    content = <Progress />;
  } else if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (value) {
    const installed = value.installation;
    const violating = value.rules.filter(r => r.violations > 0);
    const total = violating.reduce((n, r) => n + r.violations, 0);
    content = (
      <>
        <StructuredMetadataTable
          metadata={{
            'governed bundle': value.governedVersion,
            installed: installed?.bundleVersion ?? 'not installed',
            mode: installed?.mode ?? '—',
            drift: <Drift status={installed?.drift.status} />,
            'last scan': value.scan
              ? `${new Date(value.scan.scannedAt).toLocaleString()} (${
                  value.scan.status
                }${value.scan.error ? `: ${value.scan.error}` : ''})`
              : 'never',
            violations:
              total === 0 ? (
                <StatusOK>none</StatusOK>
              ) : (
                <StatusWarning>
                  {total} in {violating.length} rule
                  {violating.length === 1 ? '' : 's'}
                </StatusWarning>
              ),
          }}
        />
        {violating.length > 0 && (
          <Table size="small" aria-label="violations by rule">
            <TableHead>
              <TableRow>
                <TableCell>Rule</TableCell>
                <TableCell>Severity</TableCell>
                <TableCell>Enforcement</TableCell>
                <TableCell>Violations</TableCell>
              </TableRow>
            </TableHead>
            <TableBody>
              {violating.map(r => (
                <TableRow key={r.ruleId}>
                  <TableCell>
                    {r.ruleId}
                    {!r.governed && ' (not governed by KMP)'}
                  </TableCell>
                  <TableCell>{r.severity ?? '—'}</TableCell>
                  <TableCell>{r.enforcement ?? '—'}</TableCell>
                  <TableCell>{r.violations}</TableCell>
                </TableRow>
              ))}
            </TableBody>
          </Table>
        )}
        {value.findings.slice(0, 10).map((f, i) => (
          <Typography key={i} variant="body2">
            {f.ruleId}: {f.object.kind} {f.object.namespace ?? ''}
            {f.object.namespace ? '/' : ''}
            {f.object.name} — {f.message}
          </Typography>
        ))}
        {(value.truncated || value.findings.length > 10) && (
          <Typography variant="caption">More findings not shown.</Typography>
        )}
      </>
    );
  } else {
    content = <EmptyState missing="data" title="No compliance report" />;
  }
  return (
    <InfoCard title="Policy compliance">
      {content}
      <PolicyActions onDone={retry} />
    </InfoCard>
  );
}
