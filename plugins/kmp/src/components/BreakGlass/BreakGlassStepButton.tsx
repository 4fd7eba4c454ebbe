import { StatusOK } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { KmpActionDecision } from '@kmp/plugin-kmp-common';
import { ReactNode, useState } from 'react';
import { BreakGlassStepResult } from '../../api';
import { RefusalAlert } from '../Operations/RefusalAlert';
import { at, refusalAuditId, refusalOf } from './breakGlass';

type Outcome =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'done'; result: BreakGlassStepResult }
  | { state: 'failed'; message: string; auditId?: string };

/**
 * A button for one break-glass step (approve, deny, revoke) that confirms
 * first, with an optional comment, and then shows what the backend made of
 * the request and the audit id of the step — or its refusal in its own
 * words (403 four eyes, with the refusal's audit id; 409 when somebody else
 * decided first). A step the viewer may not take stays visible but
 * disabled, with the reason next to it.
 */
export function BreakGlassStepButton(props: {
  label: string;
  /** Accessible name, e.g. "Approve request of alice on payments-prod-eu1". */
  ariaLabel: string;
  decision: KmpActionDecision;
  title: string;
  description: ReactNode;
  /** Label of the optional free-text field sent with the step. */
  textLabel: string;
  destructive?: boolean;
  /** Runs the step with the text, or undefined when left blank. */
  run(text: string | undefined): Promise<BreakGlassStepResult>;
  /** Called after a dialog that changed something closes. */
  onDone(): void;
}) {
  const [open, setOpen] = useState(false);
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });
  const disabled = !props.decision.allowed;

  const confirm = async () => {
    setOutcome({ state: 'running' });
    try {
      setOutcome({
        state: 'done',
        result: await props.run(text.trim() || undefined),
      });
    } catch (e) {
      setOutcome({
        state: 'failed',
        message: refusalOf(e),
        auditId: refusalAuditId(e),
      });
    }
  };

  const close = () => {
    setOpen(false);
    // A 409 means the request moved on without us: show where it is now.
    if (outcome.state === 'done' || outcome.state === 'failed') {
      props.onDone();
    }
  };

  const button = (
    <Button
      size="small"
      variant="outlined"
      color={props.destructive ? 'secondary' : 'primary'}
      aria-label={props.ariaLabel}
      disabled={disabled}
      onClick={() => {
        setText('');
        setOutcome({ state: 'idle' });
        setOpen(true);
      }}
    >
      {props.label}
    </Button>
  );

  return (
    <>
      {disabled ? (
        <Tooltip title={props.decision.reason ?? ''}>
          {/* a disabled button fires no events: the span carries the tooltip */}
          <span>{button}</span>
        </Tooltip>
      ) : (
        button
      )}
      {disabled && props.decision.reason && (
        <Typography variant="caption" color="textSecondary" display="block">
          {props.decision.reason}
        </Typography>
      )}
      <Dialog
        open={open}
        onClose={close}
        aria-labelledby="kmp-break-glass-step-title"
      >
        <DialogTitle id="kmp-break-glass-step-title">{props.title}</DialogTitle>
        <DialogContent>
          <DialogContentText component="div">
            {props.description}
          </DialogContentText>
          {outcome.state !== 'done' && (
            <TextField
              id="kmp-break-glass-step-text"
              label={props.textLabel}
              fullWidth
              multiline
              value={text}
              inputProps={{ maxLength: 2000 }}
              onChange={e => setText(e.target.value)}
            />
          )}
          {outcome.state === 'done' && (
            <div role="status">
              <StatusOK>
                Request {outcome.result.id} is {outcome.result.state}
                {outcome.result.state === 'approved' &&
                  outcome.result.expiresAt &&
                  `, the grant ends ${at(outcome.result.expiresAt)}`}
              </StatusOK>
              <Typography variant="body2">
                Audit id: {outcome.result.auditId}
              </Typography>
            </div>
          )}
          {outcome.state === 'failed' && (
            <RefusalAlert message={outcome.message} auditId={outcome.auditId} />
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={close}>
            {outcome.state === 'done' ? 'Close' : 'Cancel'}
          </Button>
          {outcome.state !== 'done' && (
            <Button
              color={props.destructive ? 'secondary' : 'primary'}
              variant="contained"
              disabled={outcome.state === 'running'}
              onClick={confirm}
            >
              {props.label}
            </Button>
          )}
        </DialogActions>
      </Dialog>
    </>
  );
}
