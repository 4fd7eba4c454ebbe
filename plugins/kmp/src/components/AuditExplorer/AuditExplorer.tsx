import {
  Content,
  ContentHeader,
  Header,
  Page,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { StoredAuditEvent } from '@kmp/plugin-kmp-common';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Grid from '@material-ui/core/Grid';
import MenuItem from '@material-ui/core/MenuItem';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import GetAppIcon from '@material-ui/icons/GetApp';
import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router-dom';
import useAsync from 'react-use/esm/useAsync';
import { AuditExportFormat, kmpApiRef } from '../../api';
import { AuditEventDrawer, targetOf } from './AuditEventDrawer';
import { AuditFilters } from './AuditFilters';
import { ChainStatus } from './ChainStatus';
import {
  AuditFilter,
  filterFromSearchParams,
  filterToSearchParams,
} from './filters';

const PAGE_SIZES = [25, 50, 100];

const EXPORT_FILES: Record<AuditExportFormat, string> = {
  ndjson: 'kmp-audit.jsonl',
  csv: 'kmp-audit.csv',
};

function Decision(props: { event: StoredAuditEvent }) {
  const { result, reason } = props.event.decision;
  const status =
    result === 'allow' ? (
      <StatusOK>allow</StatusOK>
    ) : (
      <StatusError>deny</StatusError>
    );
  return reason ? (
    <Tooltip title={reason}>
      <span>{status}</span>
    </Tooltip>
  ) : (
    status
  );
}

function Outcome(props: { outcome: StoredAuditEvent['outcome'] }) {
  switch (props.outcome) {
    case 'success':
      return <StatusOK>success</StatusOK>;
    case 'failure':
      return <StatusWarning>failure</StatusWarning>;
    default:
      return <StatusPending>pending</StatusPending>;
  }
}

const columns: TableColumn<StoredAuditEvent>[] = [
  { title: 'Seq', field: 'seq', width: '6%' },
  {
    title: 'Time (UTC)',
    render: e => e.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
  },
  { title: 'Actor', render: e => e.actor.ref },
  { title: 'Action', field: 'action' },
  { title: 'Target', render: e => targetOf(e) },
  { title: 'Decision', render: e => <Decision event={e} /> },
  { title: 'Outcome', render: e => <Outcome outcome={e.outcome} /> },
];

/** Saves a blob as a file through a temporary link. */
function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function ExportButtons(props: { filter: AuditFilter }) {
  const kmpApi = useApi(kmpApiRef);
  const alertApi = useApi(alertApiRef);
  const [busy, setBusy] = useState<AuditExportFormat>();
  const exportAs = async (format: AuditExportFormat) => {
    setBusy(format);
    try {
      const blob = await kmpApi.exportAuditEvents(props.filter, format);
      saveBlob(blob, EXPORT_FILES[format]);
    } catch (error) {
      alertApi.post({
        message: `Audit export failed: ${(error as Error).message}`,
        severity: 'error',
      });
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <>
      <Button
        variant="outlined"
        startIcon={<GetAppIcon />}
        disabled={!!busy}
        onClick={() => exportAs('ndjson')}
      >
        Export JSON Lines
      </Button>
      <Box component="span" ml={1} />
      <Button
        variant="outlined"
        startIcon={<GetAppIcon />}
        disabled={!!busy}
        onClick={() => exportAs('csv')}
      >
        Export CSV
      </Button>
    </>
  );
}

/**
 * A page of events matching the filter. The backend pages by cursor, so
 * the table keeps the cursors of the pages it has seen to go back.
 */
function AuditEventTable(props: {
  filter: AuditFilter;
  onSelect: (event: StoredAuditEvent) => void;
}) {
  const kmpApi = useApi(kmpApiRef);
  const { filter, onSelect } = props;
  const [pageSize, setPageSize] = useState(PAGE_SIZES[0]);
  // cursors[i] continues to page i; page 0 has none. Reset with the filter.
  const [paging, setPaging] = useState<{
    key: string;
    cursors: Array<string | undefined>;
  }>({ key: '', cursors: [undefined] });
  const filterKey = `${filterToSearchParams(filter)}&limit=${pageSize}`;
  const cursors = paging.key === filterKey ? paging.cursors : [undefined];
  const page = cursors.length - 1;

  const { value, loading, error } = useAsync(
    () =>
      kmpApi.listAuditEvents({
        ...filter,
        limit: pageSize,
        cursor: cursors[page],
      }),
    [kmpApi, filterKey, cursors[page]],
  );

  if (error) {
    return <ResponseErrorPanel error={error} />;
  }
  return (
    <>
      <Table<StoredAuditEvent>
        title="Audit events"
        subtitle="Newest first; select an event to see all of it"
        options={{
          paging: false,
          search: false,
          sorting: false,
          padding: 'dense',
        }}
        isLoading={loading}
        columns={columns}
        data={value?.items ?? []}
        onRowClick={(_e, row) => row && onSelect(row)}
        emptyContent={
          <Box p={3}>
            <Typography align="center">
              No audit events match these filters.
            </Typography>
          </Box>
        }
      />
      <Box
        display="flex"
        alignItems="center"
        justifyContent="flex-end"
        mt={1}
        role="navigation"
        aria-label="Audit event pages"
      >
        <TextField
          select
          size="small"
          label="Rows"
          id="kmp-audit-page-size"
          value={pageSize}
          onChange={e => setPageSize(Number(e.target.value))}
        >
          {PAGE_SIZES.map(size => (
            <MenuItem key={size} value={size}>
              {size}
            </MenuItem>
          ))}
        </TextField>
        <Box mx={2}>
          <Typography variant="body2">Page {page + 1}</Typography>
        </Box>
        <Button
          disabled={loading || page === 0}
          onClick={() =>
            setPaging({ key: filterKey, cursors: cursors.slice(0, -1) })
          }
        >
          Previous
        </Button>
        <Button
          disabled={loading || !value?.nextCursor}
          onClick={() =>
            setPaging({
              key: filterKey,
              cursors: [...cursors, value?.nextCursor],
            })
          }
        >
          Next
        </Button>
      </Box>
    </>
  );
}

/**
 * The audit explorer: the hash-chained trail of every action through KMP,
 * filtered and paged on the server, with each event's full record, export
 * of the current filter, and the chain's verification status.
 *
 * @public
 */
export function AuditExplorer() {
  const [searchParams, setSearchParams] = useSearchParams();
  const filter = useMemo(
    () => filterFromSearchParams(searchParams),
    [searchParams],
  );
  const setFilter = useCallback(
    (next: AuditFilter) =>
      setSearchParams(filterToSearchParams(next), { replace: true }),
    [setSearchParams],
  );
  const [selected, setSelected] = useState<StoredAuditEvent>();
  // Developers read their own actions only (PERSONAS.md); the backend
  // enforces it, the form says so instead of offering other actors.
  const kmpApi = useApi(kmpApiRef);
  const { value: me, loading: meLoading } = useAsync(
    () => kmpApi.getMe(),
    [kmpApi],
  );
  const ownActionsOnly =
    !!me &&
    me.personas.length > 0 &&
    me.personas.every(p => p.persona === 'developer');
  const effective = useMemo(
    () => (ownActionsOnly && me ? { ...filter, actor: me.user } : filter),
    [ownActionsOnly, me, filter],
  );

  return (
    <Page themeId="tool">
      <Header
        title="Audit"
        subtitle="Who did what, where, and what KMP decided — append-only and hash-chained"
      />
      <Content>
        <ContentHeader title="Audit explorer">
          <ExportButtons filter={effective} />
        </ContentHeader>
        <Grid container spacing={3}>
          <Grid item xs={12}>
            <ChainStatus />
          </Grid>
          {meLoading && (
            <Grid item xs={12}>
              <Progress />
            </Grid>
          )}
          {!meLoading && (
            <>
              <Grid item xs={12}>
                <AuditFilters
                  filter={effective}
                  onChange={setFilter}
                  lockedActor={ownActionsOnly}
                />
              </Grid>
              <Grid item xs={12}>
                <AuditEventTable filter={effective} onSelect={setSelected} />
              </Grid>
            </>
          )}
        </Grid>
        <AuditEventDrawer
          event={selected}
          onClose={() => setSelected(undefined)}
        />
      </Content>
    </Page>
  );
}
