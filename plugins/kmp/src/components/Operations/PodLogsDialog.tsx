import { StatusError } from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import Checkbox from '@material-ui/core/Checkbox';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import { useEffect, useRef, useState } from 'react';
import { KmpBrokerError, kmpApiRef } from '../../api';

/** Keep the newest 1 MiB of text: a followed log can run for hours. */
const MAX_CHARS = 1 << 20;

const useStyles = makeStyles(theme => ({
  controls: { display: 'flex', gap: theme.spacing(2), alignItems: 'center' },
  log: {
    fontFamily: 'monospace',
    fontSize: '0.8rem',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-all',
    maxHeight: '60vh',
    overflow: 'auto',
    background: theme.palette.background.default,
    padding: theme.spacing(1),
  },
}));

type Stream =
  | { state: 'idle' }
  | { state: 'streaming' | 'ended'; auditId?: string }
  | { state: 'failed'; message: string; auditId?: string };

/**
 * A pod's logs through the broker: pick the container, the previous
 * (crashed) instance, and follow new lines as they are written.
 */
export function PodLogsDialog(props: {
  cluster: string;
  namespace: string;
  pod: string;
  containers: string[];
  open: boolean;
  onClose(): void;
}) {
  const classes = useStyles();
  const kmpApi = useApi(kmpApiRef);
  const [container, setContainer] = useState(props.containers[0] ?? '');
  const [previous, setPrevious] = useState(false);
  const [follow, setFollow] = useState(false);
  const [text, setText] = useState('');
  const [stream, setStream] = useState<Stream>({ state: 'idle' });
  const abort = useRef<AbortController>();

  const stop = () => {
    abort.current?.abort();
    abort.current = undefined;
  };
  useEffect(() => stop, []);

  const start = async () => {
    stop();
    const controller = new AbortController();
    abort.current = controller;
    setText('');
    setStream({ state: 'streaming' });
    try {
      const logs = await kmpApi.streamPodLogs(
        props.cluster,
        { namespace: props.namespace, name: props.pod },
        {
          container: container || undefined,
          previous,
          follow,
          tailLines: 1000,
          signal: controller.signal,
        },
      );
      setStream({ state: 'streaming', auditId: logs.auditId });
      for await (const chunk of logs.chunks) {
        setText(t => (t + chunk).slice(-MAX_CHARS));
      }
      setStream({ state: 'ended', auditId: logs.auditId });
    } catch (e) {
      if (controller.signal.aborted) return;
      setStream({
        state: 'failed',
        message: (e as Error).message,
        auditId: e instanceof KmpBrokerError ? e.auditId : undefined,
      });
    }
  };

  const close = () => {
    stop();
    props.onClose();
  };

  return (
    <Dialog open={props.open} onClose={close} fullWidth maxWidth="lg">
      <DialogTitle>
        Logs of {props.namespace}/{props.pod}
      </DialogTitle>
      <DialogContent>
        <div className={classes.controls}>
          {props.containers.length > 1 && (
            <TextField
              select
              label="Container"
              value={container}
              onChange={e => setContainer(e.target.value)}
            >
              {props.containers.map(c => (
                <MenuItem key={c} value={c}>
                  {c}
                </MenuItem>
              ))}
            </TextField>
          )}
          <FormControlLabel
            control={
              <Checkbox
                checked={previous}
                onChange={e => setPrevious(e.target.checked)}
              />
            }
            label="Previous container"
          />
          <FormControlLabel
            control={
              <Checkbox
                checked={follow}
                onChange={e => setFollow(e.target.checked)}
              />
            }
            label="Follow"
          />
          <Button variant="contained" color="primary" onClick={start}>
            {stream.state === 'idle' ? 'Show logs' : 'Reload'}
          </Button>
          {stream.state === 'streaming' && follow && (
            <Button
              variant="outlined"
              onClick={() => {
                stop();
                setStream(s =>
                  s.state === 'streaming'
                    ? { state: 'ended', auditId: s.auditId }
                    : s,
                );
              }}
            >
              Stop following
            </Button>
          )}
        </div>
        {'auditId' in stream && stream.auditId && (
          <Typography variant="caption">Audit id: {stream.auditId}</Typography>
        )}
        {stream.state === 'failed' && (
          <StatusError>{stream.message}</StatusError>
        )}
        {stream.state !== 'idle' && stream.state !== 'failed' && (
          <pre className={classes.log} aria-label="log output">
            {text ||
              (stream.state === 'ended'
                ? '(no output)'
                : 'Waiting for output…')}
          </pre>
        )}
      </DialogContent>
      <DialogActions>
        <Button onClick={close}>Close</Button>
      </DialogActions>
    </Dialog>
  );
}
