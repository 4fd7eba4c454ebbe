import {
  InfoCard,
  Progress,
  StatusError,
  StatusOK,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Typography from '@material-ui/core/Typography';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { kmpApiRef } from '../../api';

/**
 * The verdict of the backend's hash-chain verification, with a button to
 * verify again. Verification runs on the backend, over the stored chain.
 */
export function ChainStatus() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error, retry } = useAsyncRetry(
    () => kmpApi.verifyAuditChain(),
    [kmpApi],
  );
  return (
    <InfoCard
      title="Chain verification"
      action={
        <Button
          size="small"
          color="primary"
          disabled={loading}
          onClick={retry}
          style={{ marginTop: 8 }}
        >
          Verify now
        </Button>
      }
    >
      {loading && <Progress />}
      {!loading && error && (
        <StatusError>Could not verify the chain: {error.message}</StatusError>
      )}
      {!loading &&
        value &&
        (value.valid ? (
          <StatusOK>
            Chain verified: {value.checked.toLocaleString('en-US')} events
            checked up to seq {value.headSeq}
            {value.checkpointSeq
              ? ` (from the signed checkpoint at seq ${value.checkpointSeq})`
              : ''}
          </StatusOK>
        ) : (
          <>
            <StatusError>
              Chain broken
              {value.firstInvalidSeq !== undefined
                ? ` at seq ${value.firstInvalidSeq}`
                : ''}
              : {value.reason ?? 'the stored events do not match their hashes'}
            </StatusError>
            <Typography variant="body2" color="textSecondary">
              Compare with the SIEM copy of the trail to see what changed.
            </Typography>
          </>
        ))}
    </InfoCard>
  );
}
