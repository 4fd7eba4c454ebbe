import { Link, StatusOK, WarningPanel } from '@backstage/core-components';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { ReactNode, useState } from 'react';
import { KmpBrokerError } from '../../api';
import { RefusalAlert } from './RefusalAlert';
import {
  KMP_RULES,
  KmpActionDecision as ActionDecision,
} from '@kmp/plugin-kmp-common';

/** Where production changes are made: the golden-path templates. */
export const DEFAULT_GITOPS_URL = '/create';

/** How an action is offered to the viewer. */
export type ActionVisibility = 'enabled' | 'disabled' | 'hidden';

/**
 * Allowed directly → enabled; a change that must travel through GitOps
 * (production) → visible but disabled, with the reason; refused for the
 * viewer's persona (or only under break-glass) → hidden.
 */
export function visibilityOf(decision: ActionDecision): ActionVisibility {
  if (decision.via === 'gitops') return 'disabled';
  return decision.allowed && !decision.via ? 'enabled' : 'hidden';
}

const reasonOf = (decision: ActionDecision) =>
  decision.reason ??
  (decision.via === 'gitops' ? KMP_RULES.productionGitOps : '');

/**
 * The notice a card shows above production write controls: why they are
 * disabled and where the change goes instead.
 */
export function GitOpsNotice(props: {
  decision: ActionDecision;
  gitopsUrl?: string;
}) {
  if (visibilityOf(props.decision) !== 'disabled') return null;
  return (
    <WarningPanel
      severity="info"
      defaultExpanded
      title={`Changes are disabled here: ${reasonOf(props.decision)}`}
    >
      <Link to={props.gitopsUrl ?? DEFAULT_GITOPS_URL}>
        Change it through the GitOps path
      </Link>
    </WarningPanel>
  );
}

type Outcome =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'done'; auditId?: string; warnings?: string[]; detail?: string }
  | { state: 'failed'; message: string; auditId?: string };

/**
 * A button for an operational action through the broker. It confirms before
 * acting and shows the audit id of what it did, or the refusal and its
 * audit id.
 */
export function GuardedAction(props: {
  decision: ActionDecision;
  label: string;
  /** Accessible name, e.g. "Restart Deployment api". */
  ariaLabel?: string;
  title: string;
  description: ReactNode;
  /** Form fields of the confirmation (e.g. the replica count). */
  children?: ReactNode;
  confirmLabel?: string;
  confirmDisabled?: boolean;
  /** Disables an otherwise allowed action, e.g. until a pre-flight passed. */
  disabledReason?: string;
  destructive?: boolean;
  /**
   * Does the action; `detail` says what came of it where there is no
   * broker audit id (actions of KMP's own APIs, audited by KMP).
   */
  onConfirm(): Promise<{
    auditId?: string;
    warnings?: string[];
    detail?: string;
  }>;
  onDone?(): void;
}) {
  const [open, setOpen] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });
  let visibility = visibilityOf(props.decision);
  if (visibility === 'hidden') return null;
  if (props.disabledReason) visibility = 'disabled';
  const reason = props.disabledReason ?? reasonOf(props.decision);

  const button = (
    <Button
      size="small"
      variant="outlined"
      color={props.destructive ? 'secondary' : 'default'}
      aria-label={props.ariaLabel ?? props.label}
      disabled={visibility === 'disabled'}
      onClick={() => {
        setOutcome({ state: 'idle' });
        setOpen(true);
      }}
    >
      {props.label}
    </Button>
  );

  const confirm = async () => {
    setOutcome({ state: 'running' });
    try {
      const result = await props.onConfirm();
      setOutcome({ state: 'done', ...result });
    } catch (e) {
      setOutcome({
        state: 'failed',
        message: (e as Error).message,
        auditId: e instanceof KmpBrokerError ? e.auditId : undefined,
      });
    }
  };

  const close = () => {
    setOpen(false);
    if (outcome.state === 'done') props.onDone?.();
  };

  return (
    <>
      {visibility === 'disabled' ? (
        <Tooltip title={reason}>
          {/* a disabled button fires no events: the span carries the tooltip */}
          <span>{button}</span>
        </Tooltip>
      ) : (
        button
      )}
      {props.disabledReason && (
        <Typography variant="caption" color="textSecondary">
          {' '}
          {props.disabledReason}
        </Typography>
      )}
      <Dialog open={open} onClose={close} aria-labelledby="kmp-action-title">
        <DialogTitle id="kmp-action-title">{props.title}</DialogTitle>
        <DialogContent>
          <DialogContentText component="div">
            {props.description}
          </DialogContentText>
          {outcome.state !== 'done' && props.children}
          {outcome.state === 'done' && (
            <div role="status">
              <StatusOK>Done</StatusOK>
              <Typography variant="body2">
                {outcome.auditId && `Audit id: ${outcome.auditId}`}
                {!outcome.auditId &&
                  (outcome.detail ?? 'The broker returned no audit id.')}
              </Typography>
              {outcome.warnings?.map(w => (
                <Typography key={w} variant="body2">
                  Warning: {w}
                </Typography>
              ))}
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
              disabled={outcome.state === 'running' || props.confirmDisabled}
              onClick={confirm}
            >
              {props.confirmLabel ?? props.label}
            </Button>
          )}
        </DialogActions>
      </Dialog>
    </>
  );
}
