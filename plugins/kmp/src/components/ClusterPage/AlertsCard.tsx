import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusWarning,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { KmpAlertEvaluation, KmpAlertSeverity, kmpApiRef } from '../../api';
import { useKmpCluster } from './KmpClusterContext';

/** The severity of an alert as a status: critical red, high amber. */
export function AlertSeverity(props: { severity: KmpAlertSeverity }) {
  return props.severity === 'critical' ? (
    <StatusError>critical</StatusError>
  ) : (
    <StatusWarning>{props.severity}</StatusWarning>
  );
}

const time = (iso: string) => new Date(iso).toLocaleString();

/**
 * Why an empty alert list would not mean "nothing is wrong", or undefined
 * when it does: alert rules are evaluated, and were evaluated recently.
 */
export function alertSourceProblem(
  evaluation: KmpAlertEvaluation,
  now = Date.now(),
): { title: string; description: string } | undefined {
  if (!evaluation.enabled) {
    return {
      title: 'Alerts are not configured',
      description:
        'This KMP backend does not evaluate alert rules (kmp.alerts.enabled is false), so there is no alert source to show. An empty list here would not mean that nothing is wrong.',
    };
  }
  if (!evaluation.lastEvaluatedAt) {
    return {
      title: 'Alerts have not been evaluated yet',
      description: `KMP evaluates its alert rules every ${evaluation.intervalSeconds} seconds and has not done so yet; check again shortly.`,
    };
  }
  const age = now - Date.parse(evaluation.lastEvaluatedAt);
  if (age > Math.max(3 * evaluation.intervalSeconds * 1000, 5 * 60_000)) {
    return {
      title: 'Alert evaluation has stopped',
      description: `Alert rules were last evaluated ${time(
        evaluation.lastEvaluatedAt,
      )}, although they should be every ${
        evaluation.intervalSeconds
      } seconds; what is shown may be out of date.`,
    };
  }
  return undefined;
}

/** Where the alerts go besides this page. */
export function forwardingNote(evaluation: KmpAlertEvaluation): string {
  return evaluation.receivers > 0
    ? `Forwarded out of band to ${evaluation.receivers} receiver${
        evaluation.receivers === 1 ? '' : 's'
      }.`
    : 'Not forwarded out of band: no alert receivers are configured (kmp.alerts.receivers).';
}

/**
 * Open (firing) structural alerts of the cluster: severity, since when,
 * and what is wrong. "No open alerts" is said only when KMP evaluates alert
 * rules and did so recently; otherwise the card says why it cannot tell.
 */
export function AlertsCard() {
  const { cluster } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () =>
      kmpApi.listClusterAlerts(cluster.name, { status: ['firing'], limit: 50 }),
    [kmpApi, cluster.name],
  );

  let content;
  let subheader: string | undefined;
  if (loading) {
    content = <Progress />;
  } else if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (value) {
    const problem = alertSourceProblem(value.evaluation);
    if (value.evaluation.lastEvaluatedAt) {
      subheader = `Evaluated ${time(value.evaluation.lastEvaluatedAt)}`;
    }
    if (value.items.length === 0 && problem) {
      content = (
        <EmptyState
          missing="info"
          title={problem.title}
          description={problem.description}
        />
      );
    } else {
      content = (
        <>
          {problem && (
            <Typography variant="body2" color="error" paragraph>
              {problem.title}: {problem.description}
            </Typography>
          )}
          {value.items.length === 0 ? (
            <StatusOK>No open alerts</StatusOK>
          ) : (
            <Table size="small" aria-label="open alerts">
              <TableHead>
                <TableRow>
                  <TableCell>Severity</TableCell>
                  <TableCell>Alert</TableCell>
                  <TableCell>Since</TableCell>
                </TableRow>
              </TableHead>
              <TableBody>
                {value.items.map(alert => (
                  <TableRow key={alert.fingerprint}>
                    <TableCell>
                      <AlertSeverity severity={alert.severity} />
                    </TableCell>
                    <TableCell>
                      <Typography variant="body2">{alert.summary}</Typography>
                      <Typography variant="caption" color="textSecondary">
                        {alert.alertname}
                      </Typography>
                    </TableCell>
                    <TableCell>{time(alert.startsAt)}</TableCell>
                  </TableRow>
                ))}
              </TableBody>
            </Table>
          )}
          {value.totalCount > value.items.length && (
            <Typography variant="caption" display="block">
              {value.items.length} of {value.totalCount} open alerts shown.
            </Typography>
          )}
          <Typography variant="caption" color="textSecondary" display="block">
            {forwardingNote(value.evaluation)}
          </Typography>
        </>
      );
    }
  }
  return (
    <InfoCard title="Alerts" subheader={subheader}>
      {content}
    </InfoCard>
  );
}
