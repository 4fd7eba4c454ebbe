import { StatusError, StatusOK } from '@backstage/core-components';
import { ResponseError } from '@backstage/errors';
import Button from '@material-ui/core/Button';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogContentText from '@material-ui/core/DialogContentText';
import DialogTitle from '@material-ui/core/DialogTitle';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { GitopsPublishResult } from '../../api';

type Outcome =
  | { state: 'idle' }
  | { state: 'running' }
  | { state: 'done'; result: GitopsPublishResult }
  | { state: 'failed'; message: string };

/** The backend's own words for a refusal (the rule, the violations). */
function messageOf(error: unknown): string {
  if (error instanceof ResponseError) {
    return error.body?.error?.message ?? error.message;
  }
  return (error as Error).message;
}

/**
 * "Publish to Git": commits the generated YAML to the cluster's GitOps
 * repository as the viewer, after confirming, and shows where it landed —
 * commit, branch and audit id. Offered in every environment; in production
 * it is the way a change is made, so it is the primary action there.
 */
export function PublishToGitAction(props: {
  cluster: string;
  /** What is published, e.g. "Deployment team-payments/api". */
  what: string;
  primary: boolean;
  /** Disables the button, e.g. until the pre-flight passed. */
  disabledReason?: string;
  onPublish(message?: string): Promise<GitopsPublishResult>;
}) {
  const [open, setOpen] = useState(false);
  const [message, setMessage] = useState('');
  const [outcome, setOutcome] = useState<Outcome>({ state: 'idle' });

  const button = (
    <Button
      size="small"
      variant={props.primary ? 'contained' : 'outlined'}
      color={props.primary ? 'primary' : 'default'}
      aria-label="Publish to Git"
      disabled={!!props.disabledReason}
      onClick={() => {
        setOutcome({ state: 'idle' });
        setOpen(true);
      }}
    >
      Publish to Git
    </Button>
  );

  const confirm = async () => {
    setOutcome({ state: 'running' });
    try {
      const result = await props.onPublish(message.trim() || undefined);
      setOutcome({ state: 'done', result });
    } catch (e) {
      setOutcome({ state: 'failed', message: messageOf(e) });
    }
  };

  return (
    <>
      {props.disabledReason ? (
        <Tooltip title={props.disabledReason}>
          {/* a disabled button fires no events: the span carries the tooltip */}
          <span>{button}</span>
        </Tooltip>
      ) : (
        button
      )}
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        aria-labelledby="kmp-publish-title"
      >
        <DialogTitle id="kmp-publish-title">
          Publish to the GitOps repository of {props.cluster}?
        </DialogTitle>
        <DialogContent>
          <DialogContentText component="div">
            Commits {props.what} to the cluster's GitOps folder, authored by
            you. An object already declared there is updated in place; the
            policy bundle is checked again before anything is committed. The
            GitOps engine then rolls it out.
          </DialogContentText>
          {outcome.state !== 'done' && (
            <TextField
              id="kmp-publish-message"
              label="Commit message (optional)"
              fullWidth
              value={message}
              onChange={e => setMessage(e.target.value)}
              inputProps={{ maxLength: 2000 }}
            />
          )}
          {outcome.state === 'done' && (
            <div role="status">
              <StatusOK>
                {outcome.result.changed
                  ? 'Published'
                  : 'Nothing to publish: the repository already declares it'}
              </StatusOK>
              <Typography variant="body2">
                Commit: <code>{outcome.result.commit}</code>
              </Typography>
              <Typography variant="body2">
                Branch: {outcome.result.branch} of {outcome.result.repoUrl}
              </Typography>
              {outcome.result.paths.map(p => (
                <Typography key={p} variant="body2">
                  File: <code>{p}</code>
                </Typography>
              ))}
              <Typography variant="body2">
                Audit id: {outcome.result.auditId}
              </Typography>
            </div>
          )}
          {outcome.state === 'failed' && (
            <div role="alert">
              <StatusError>{outcome.message}</StatusError>
            </div>
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setOpen(false)}>
            {outcome.state === 'done' ? 'Close' : 'Cancel'}
          </Button>
          {outcome.state !== 'done' && (
            <Button
              color="primary"
              variant="contained"
              disabled={outcome.state === 'running'}
              onClick={confirm}
            >
              Publish
            </Button>
          )}
        </DialogActions>
      </Dialog>
    </>
  );
}
