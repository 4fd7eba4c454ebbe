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
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { useKmpCluster } from './KmpClusterContext';

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
  const { value, loading, error } = useAsync(
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
  return <InfoCard title="Policy compliance">{content}</InfoCard>;
}
