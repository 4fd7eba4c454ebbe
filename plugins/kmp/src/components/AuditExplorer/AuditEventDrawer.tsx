import {
  CodeSnippet,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { StoredAuditEvent } from '@kmp/plugin-kmp-common';
import Box from '@material-ui/core/Box';
import Drawer from '@material-ui/core/Drawer';
import IconButton from '@material-ui/core/IconButton';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import CloseIcon from '@material-ui/icons/Close';

const useStyles = makeStyles(theme => ({
  paper: {
    width: '50%',
    minWidth: 420,
    padding: theme.spacing(2, 3),
  },
  header: {
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'space-between',
  },
}));

/** Where the event happened, as one line: cluster / namespace / resource. */
export function targetOf(event: StoredAuditEvent): string {
  const r = event.target.resource;
  const resource = r
    ? [r.resource, r.subresource].filter(Boolean).join('/') +
      (r.name ? ` ${r.name}` : '')
    : undefined;
  return (
    [
      event.target.cluster ?? event.target.environmentGroup,
      event.target.namespace,
      resource,
    ]
      .filter(Boolean)
      .join(' / ') || '—'
  );
}

/** The full stored event: a summary on top, then the JSON as stored. */
export function AuditEventDrawer(props: {
  event?: StoredAuditEvent;
  onClose: () => void;
}) {
  const classes = useStyles();
  const { event, onClose } = props;
  return (
    <Drawer
      anchor="right"
      open={!!event}
      onClose={onClose}
      classes={{ paper: classes.paper }}
    >
      {event && (
        <Box role="dialog" aria-label={`Audit event ${event.seq}`}>
          <div className={classes.header}>
            <Typography variant="h5">Audit event #{event.seq}</Typography>
            <IconButton aria-label="Close" onClick={onClose}>
              <CloseIcon />
            </IconButton>
          </div>
          <StructuredMetadataTable
            metadata={{
              time: event.time,
              actor: `${event.actor.ref} (${event.actor.type}${
                event.actor.persona ? `, ${event.actor.persona}` : ''
              })`,
              action: event.action,
              target: targetOf(event),
              decision: event.decision.reason
                ? `${event.decision.result}: ${event.decision.reason}`
                : event.decision.result,
              outcome: event.outcome,
              'correlation id': event.correlationId,
              hash: event.hash,
            }}
          />
          <Box mt={2}>
            <CodeSnippet
              language="json"
              text={JSON.stringify(event, null, 2)}
              showCopyCodeButton
            />
          </Box>
        </Box>
      )}
    </Drawer>
  );
}
