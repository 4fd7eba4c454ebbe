import { StatusError } from '@backstage/core-components';
import Typography from '@material-ui/core/Typography';

/**
 * A refused or failed action as the portal reports it: the backend's
 * message and, when the refusal was recorded, its audit id.
 */
export function RefusalAlert(props: { message: string; auditId?: string }) {
  return (
    <div role="alert">
      <StatusError>{props.message}</StatusError>
      {props.auditId && (
        <Typography variant="body2">Audit id: {props.auditId}</Typography>
      )}
    </div>
  );
}
