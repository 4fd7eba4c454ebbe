import { ResponseErrorPanel, WarningPanel } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';
import { KmpBrokerError } from '../../api';

/**
 * An error of a live read through the broker as a state of the card: an
 * unreachable cluster is a warning, a refusal names its rule and audit id.
 */
export function BrokerErrorState(props: { error: Error; what: string }) {
  const { error, what } = props;
  if (error instanceof KmpBrokerError) {
    return (
      <WarningPanel
        severity={error.unreachable ? 'warning' : 'error'}
        title={
          error.unreachable
            ? `Cluster unreachable: ${what} unavailable`
            : `Could not read ${what}`
        }
        message={error.message}
      >
        {error.auditId && (
          <Typography variant="caption">Audit id: {error.auditId}</Typography>
        )}
      </WarningPanel>
    );
  }
  return <ResponseErrorPanel error={error} />;
}
