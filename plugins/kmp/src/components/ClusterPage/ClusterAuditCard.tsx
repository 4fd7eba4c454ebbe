import {
  EmptyState,
  InfoCard,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusPending,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { StoredAuditEvent } from '@kmp/plugin-kmp-common';
import Button from '@material-ui/core/Button';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { useKmpCluster } from './KmpClusterContext';

const PAGE = 20;

function what(e: StoredAuditEvent): string {
  const r = e.target.resource;
  const object = r
    ? `${r.resource}${r.subresource ? `/${r.subresource}` : ''}${
        r.name ? ` ${r.name}` : ''
      }`
    : '';
  return [e.request?.verb ?? e.action, e.target.namespace, object]
    .filter(Boolean)
    .join(' · ');
}

function Outcome(props: { event: StoredAuditEvent }) {
  const { decision, outcome } = props.event;
  if (decision.result === 'deny') {
    return <StatusError>denied: {decision.reason ?? 'no reason'}</StatusError>;
  }
  if (outcome === 'pending') return <StatusPending>pending</StatusPending>;
  if (outcome === 'failure') return <StatusError>failed</StatusError>;
  return <StatusOK>{outcome}</StatusOK>;
}

/** The newest audit events of the cluster, page by page. */
export function ClusterAuditCard() {
  const { cluster } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const [cursors, setCursors] = useState<Array<string | undefined>>([
    undefined,
  ]);
  const cursor = cursors[cursors.length - 1];
  const { value, loading, error } = useAsync(
    () =>
      kmpApi.listAuditEvents({ cluster: cluster.name, limit: PAGE, cursor }),
    [kmpApi, cluster.name, cursor],
  );
  let content;
  if (loading) {
    content = <Progress />;
  } else if (error) {
    content = <ResponseErrorPanel error={error} />;
  } else if (!value?.items.length) {
    content = (
      <EmptyState
        missing="data"
        title="No audit events"
        description="Nothing you may see has happened on this cluster yet."
      />
    );
  } else {
    content = (
      <>
        <Table size="small" aria-label="audit events">
          <TableHead>
            <TableRow>
              <TableCell>Time</TableCell>
              <TableCell>Actor</TableCell>
              <TableCell>Action</TableCell>
              <TableCell>What</TableCell>
              <TableCell>Outcome</TableCell>
              <TableCell>Audit id</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {value.items.map(e => (
              <TableRow key={e.id}>
                <TableCell>{new Date(e.time).toLocaleString()}</TableCell>
                <TableCell>
                  {e.actor.ref}
                  {e.actor.persona && (
                    <Typography variant="caption" display="block">
                      {e.actor.type} · {e.actor.persona}
                    </Typography>
                  )}
                </TableCell>
                <TableCell>{e.action}</TableCell>
                <TableCell>{what(e)}</TableCell>
                <TableCell>
                  <Outcome event={e} />
                </TableCell>
                <TableCell>
                  <code>{e.correlationId}</code>
                </TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
        {cursors.length > 1 && (
          <Button onClick={() => setCursors(c => c.slice(0, -1))}>Newer</Button>
        )}
        {value.nextCursor && (
          <Button onClick={() => setCursors(c => [...c, value.nextCursor])}>
            Older
          </Button>
        )}
      </>
    );
  }
  return <InfoCard title="Audit history">{content}</InfoCard>;
}
