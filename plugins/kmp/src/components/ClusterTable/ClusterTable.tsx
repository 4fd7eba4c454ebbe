import { memo, ReactNode, useEffect, useState } from 'react';
import {
  ResponseErrorPanel,
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import FormControlLabel from '@material-ui/core/FormControlLabel';
import InputAdornment from '@material-ui/core/InputAdornment';
import LinearProgress from '@material-ui/core/LinearProgress';
import Paper from '@material-ui/core/Paper';
import Switch from '@material-ui/core/Switch';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableContainer from '@material-ui/core/TableContainer';
import TableHead from '@material-ui/core/TableHead';
import TablePagination from '@material-ui/core/TablePagination';
import TableRow from '@material-ui/core/TableRow';
import TableSortLabel from '@material-ui/core/TableSortLabel';
import TextField from '@material-ui/core/TextField';
import Toolbar from '@material-ui/core/Toolbar';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import SearchIcon from '@material-ui/icons/Search';
import Tooltip from '@material-ui/core/Tooltip';
import {
  ClusterComplianceSummary,
  ClusterListQuery,
  KmpAlertSummary,
  kmpApiRef,
} from '../../api';

type OrderField = NonNullable<ClusterListQuery['orderBy']>;

/** The lifecycle state as a status the eye catches. */
export function ClusterState(props: {
  state: RegisteredCluster['lifecycleState'];
}) {
  switch (props.state) {
    case 'active':
      return <StatusOK>active</StatusOK>;
    case 'degraded':
      return <StatusWarning>degraded</StatusWarning>;
    case 'unreachable':
      return <StatusError>unreachable</StatusError>;
    case 'registering':
      return <StatusPending>registering</StatusPending>;
    default:
      return <StatusAborted>{props.state}</StatusAborted>;
  }
}

/**
 * What the rows of a page show besides the registry record: policy
 * compliance and open alerts, fetched for the page's clusters once the
 * page is there (a failure of either leaves its column, not the table,
 * without data).
 */
interface PageExtras {
  compliance?: Loaded<Map<string, ClusterComplianceSummary>>;
  alerts?: Loaded<KmpAlertSummary>;
}

/** An answer, or why there is none. */
type Loaded<T> = { value: T } | { error: Error };

interface Column {
  title: string;
  /** The server-side order of this column; unsortable without one. */
  orderBy?: OrderField;
  /** A status the row keeps on one line. */
  status?: boolean;
  render: (cluster: RegisteredCluster, extras: PageExtras) => ReactNode;
}

const unavailable = (what: string, error: Error) => (
  <Tooltip title={`${what} unavailable: ${error?.message ?? error}`}>
    <span>—</span>
  </Tooltip>
);

function ComplianceCell(props: {
  cluster: string;
  compliance: PageExtras['compliance'];
}) {
  const { compliance } = props;
  if (!compliance) return <>…</>;
  if ('error' in compliance) {
    return unavailable('Compliance', compliance.error);
  }
  const summary = compliance.value.get(props.cluster);
  if (!summary || !summary.installedVersion) {
    return <StatusAborted>no bundle installed</StatusAborted>;
  }
  if (summary.drift === 'drifted') return <StatusError>drifted</StatusError>;
  if (summary.violations > 0) {
    return (
      <StatusWarning>
        {summary.violations} violation{summary.violations === 1 ? '' : 's'}
      </StatusWarning>
    );
  }
  if (!summary.upToDate) return <StatusWarning>outdated bundle</StatusWarning>;
  return <StatusOK>compliant</StatusOK>;
}

function AlertsCell(props: { cluster: string; alerts: PageExtras['alerts'] }) {
  const { alerts: loaded } = props;
  if (!loaded) return <>…</>;
  if ('error' in loaded) return unavailable('Alerts', loaded.error);
  const alerts = loaded.value;
  if (!alerts.evaluation.enabled) {
    return (
      <Tooltip title="Alert evaluation is not configured">
        <span>—</span>
      </Tooltip>
    );
  }
  const open = alerts.clusters.find(c => c.cluster === props.cluster);
  if (!open || open.firing === 0) return <StatusOK>none</StatusOK>;
  return (open.bySeverity.critical ?? 0) > 0 ? (
    <StatusError>{open.firing} open</StatusError>
  ) : (
    <StatusWarning>{open.firing} open</StatusWarning>
  );
}

const columns: Column[] = [
  { title: 'Cluster', orderBy: 'name', render: c => c.name },
  { title: 'Environment', orderBy: 'environment', render: c => c.environment },
  {
    title: 'Group',
    orderBy: 'environmentGroup',
    render: c => c.environmentGroup,
  },
  { title: 'Region', orderBy: 'region', render: c => c.region },
  { title: 'Profile', render: c => c.profile },
  {
    title: 'Version',
    orderBy: 'kubernetesVersion',
    render: c => c.kubernetesVersion ?? '—',
  },
  {
    title: 'Health',
    orderBy: 'lifecycleState',
    status: true,
    render: c => <ClusterState state={c.lifecycleState} />,
  },
  {
    title: 'Nodes',
    render: c =>
      c.status.nodeCount === undefined
        ? '—'
        : `${c.status.nodesReady ?? 0}/${c.status.nodeCount} ready`,
  },
  { title: 'Connectivity', render: c => c.connectivity },
  {
    title: 'Compliance',
    status: true,
    render: (c, extras) => (
      <ComplianceCell cluster={c.name} compliance={extras.compliance} />
    ),
  },
  {
    title: 'Open alerts',
    status: true,
    render: (c, extras) => (
      <AlertsCell cluster={c.name} alerts={extras.alerts} />
    ),
  },
];

const ENVIRONMENTS = ['production', 'non-production', 'edge'];
const STATES = ['active', 'degraded', 'unreachable', 'registering'];
const PAGE_SIZES = [20, 50, 100];

const useStyles = makeStyles(theme => ({
  toolbar: {
    flexWrap: 'wrap',
    gap: theme.spacing(2),
    paddingTop: theme.spacing(2),
    paddingBottom: theme.spacing(1),
  },
  title: { flex: '1 1 auto' },
  search: { minWidth: 220 },
  select: { minWidth: 160 },
  // Keeps its height while hidden, so the table does not jump.
  progress: { height: 4 },
  name: { fontWeight: theme.typography.fontWeightBold as number },
  group: {
    backgroundColor: theme.palette.background.default,
    fontWeight: theme.typography.fontWeightBold as number,
  },
  // Dims the rows of the previous answer while the next one loads.
  stale: { '& tbody': { opacity: 0.6 } },
  message: { padding: theme.spacing(4), textAlign: 'center' },
  // Column titles and statuses read as one word each.
  nowrap: { whiteSpace: 'nowrap' },
}));

/** What the table asks the server for, besides the caller's own filter. */
interface TableState {
  search: string;
  environment: string;
  state: string;
  orderBy: OrderField;
  order: 'asc' | 'desc';
  grouped: boolean;
  page: number;
  pageSize: number;
}

const initialState: TableState = {
  search: '',
  environment: '',
  state: '',
  orderBy: 'name',
  order: 'asc',
  grouped: false,
  page: 0,
  pageSize: PAGE_SIZES[0],
};

/** The list query of a table state, the caller's filter narrowed by it. */
function toQuery(filter: ClusterListQuery, s: TableState): ClusterListQuery {
  const q = s.search.trim();
  return {
    ...filter,
    ...(q ? { q } : {}),
    ...(s.environment ? { environment: [s.environment] } : {}),
    ...(s.state ? { state: [s.state] } : {}),
    // Grouped, the server orders by group (then name) so that a group's
    // clusters are adjacent across pages.
    orderBy: s.grouped ? 'environmentGroup' : s.orderBy,
    order: s.order,
    limit: s.pageSize,
    offset: s.page * s.pageSize,
  };
}

interface PageState {
  /** The query that the items answer. */
  query?: ClusterListQuery;
  items?: RegisteredCluster[];
  totalCount?: number;
  error?: Error;
  loading: boolean;
}

/**
 * One page of clusters for `query`. A new query cancels the request of the
 * previous one, and an answer that arrives for a superseded query is
 * dropped, so the table never shows rows of a search the user has already
 * typed past. The previous page stays on screen until the new one is there.
 */
function useClusterPage(query: ClusterListQuery): PageState {
  const kmpApi = useApi(kmpApiRef);
  const [state, setState] = useState<PageState>({ loading: true });
  const key = JSON.stringify(query);
  useEffect(() => {
    const controller = new AbortController();
    setState(s => (s.loading ? s : { ...s, loading: true }));
    kmpApi.listClusters(JSON.parse(key), { signal: controller.signal }).then(
      result => {
        if (controller.signal.aborted) return;
        setState({
          query: JSON.parse(key),
          items: result.items,
          totalCount: result.totalCount,
          loading: false,
        });
      },
      error => {
        if (controller.signal.aborted) return;
        setState({ error, loading: false });
      },
    );
    return () => controller.abort();
  }, [kmpApi, key]);
  return state;
}

/** Compliance and open alerts of the clusters of a page. */
function usePageExtras(items: RegisteredCluster[] | undefined): PageExtras {
  const kmpApi = useApi(kmpApiRef);
  const [extras, setExtras] = useState<PageExtras>({});
  const names = (items ?? []).map(c => c.name).join(',');
  useEffect(() => {
    setExtras({});
    if (!names) return undefined;
    const cluster = names.split(',');
    let current = true;
    const settle = <T,>(key: keyof PageExtras, load: () => Promise<T>) =>
      Promise.resolve()
        .then(load)
        .then(
          value => current && setExtras(e => ({ ...e, [key]: { value } })),
          error => current && setExtras(e => ({ ...e, [key]: { error } })),
        );
    settle('compliance', () =>
      kmpApi
        .listComplianceSummaries({ name: cluster, limit: cluster.length })
        .then(page => new Map(page.items.map(s => [s.cluster, s]))),
    );
    settle('alerts', () => kmpApi.getAlertSummary({ cluster }));
    return () => {
      current = false;
    };
  }, [kmpApi, names]);
  return extras;
}

/** Consecutive runs of clusters of the same environment group. */
function byGroup(items: RegisteredCluster[]) {
  const groups: { name: string; items: RegisteredCluster[] }[] = [];
  for (const item of items) {
    const last = groups[groups.length - 1];
    if (last && last.name === item.environmentGroup) last.items.push(item);
    else groups.push({ name: item.environmentGroup, items: [item] });
  }
  return groups;
}

/** The class of a body cell: the name stands out, statuses do not wrap. */
function cellClass(
  index: number,
  column: Column,
  classes: { nameClass: string; statusClass: string },
): string | undefined {
  if (index === 0) return classes.nameClass;
  return column.status ? classes.statusClass : undefined;
}

function ClusterRow(props: {
  cluster: RegisteredCluster;
  extras: PageExtras;
  nameClass: string;
  statusClass: string;
}) {
  const { cluster, extras } = props;
  return (
    <TableRow hover>
      {columns.map((column, i) => (
        <TableCell key={column.title} className={cellClass(i, column, props)}>
          {column.render(cluster, extras)}
        </TableCell>
      ))}
    </TableRow>
  );
}

/**
 * The rows of one page. Memoised: typing into the search box re-renders
 * the toolbar only, the rows when the next page arrives.
 */
const ClusterRows = memo(function PageRows(props: {
  items: RegisteredCluster[];
  extras: PageExtras;
  grouped: boolean;
  message?: string;
}) {
  const classes = useStyles();
  const { items, extras, grouped, message } = props;
  if (message) {
    return (
      <TableBody>
        <TableRow>
          <TableCell colSpan={columns.length} className={classes.message}>
            {message}
          </TableCell>
        </TableRow>
      </TableBody>
    );
  }
  if (!grouped) {
    return (
      <TableBody>
        {items.map(c => (
          <ClusterRow
            key={c.name}
            cluster={c}
            extras={extras}
            nameClass={classes.name}
            statusClass={classes.nowrap}
          />
        ))}
      </TableBody>
    );
  }
  return (
    <>
      {byGroup(items).map((group, i) => (
        <TableBody key={`${i}:${group.name}`}>
          <TableRow>
            <TableCell
              component="th"
              scope="rowgroup"
              colSpan={columns.length}
              className={classes.group}
            >
              {group.name}
            </TableCell>
          </TableRow>
          {group.items.map(c => (
            <ClusterRow
              key={c.name}
              cluster={c}
              extras={extras}
              nameClass={classes.name}
              statusClass={classes.nowrap}
            />
          ))}
        </TableBody>
      ))}
    </>
  );
});

/** A filter of the toolbar: one of `options`, or all (the empty value). */
function SelectFilter(props: {
  id: string;
  className: string;
  label: string;
  value: string;
  options: string[];
  onChange(value: string): void;
}) {
  return (
    <TextField
      select
      id={props.id}
      className={props.className}
      label={props.label}
      value={props.value}
      onChange={e => props.onChange(e.target.value)}
      SelectProps={{ native: true }}
      // The empty value shows "All", so the label stays above it.
      InputLabelProps={{ shrink: true }}
    >
      <option value="">All</option>
      {props.options.map(o => (
        <option key={o} value={o}>
          {o}
        </option>
      ))}
    </TextField>
  );
}

let tableIds = 0;

/**
 * Every cluster the viewer may see, paged, searched, filtered and sorted on
 * the server, so it stays fast with tens of thousands of clusters.
 *
 * `filter` narrows the list for the caller (for example to one
 * environment group); the viewer's search and filters narrow it further.
 */
export function ClusterTable(props: { filter?: ClusterListQuery }) {
  const classes = useStyles();
  const [titleId] = useState(() => `kmp-cluster-table-${++tableIds}`);
  const [state, setState] = useState(initialState);
  const page = useClusterPage(toQuery(props.filter ?? {}, state));
  const extras = usePageExtras(page.items);
  const update = (change: Partial<TableState>) =>
    // Any change but paging starts again on the first page.
    setState(s => ({ ...s, page: 0, ...change }));

  const narrowed = Boolean(
    state.search.trim() || state.environment || state.state,
  );
  let message: string | undefined;
  if (page.error) message = 'The clusters could not be loaded.';
  else if (!page.items) message = 'Loading clusters…';
  else if (page.items.length === 0) {
    message = narrowed
      ? 'No clusters match the search and filters.'
      : 'No clusters registered yet.';
  }
  const total = page.totalCount ?? 0;

  return (
    <Paper>
      <Toolbar className={classes.toolbar}>
        <Typography
          id={titleId}
          variant="h5"
          component="h2"
          className={classes.title}
        >
          Clusters
        </Typography>
        <TextField
          className={classes.search}
          type="search"
          placeholder="Filter"
          value={state.search}
          onChange={e => update({ search: e.target.value })}
          inputProps={{
            'aria-label':
              'Filter clusters by name, title, description or region',
            maxLength: 200,
          }}
          InputProps={{
            startAdornment: (
              <InputAdornment position="start">
                <SearchIcon fontSize="small" />
              </InputAdornment>
            ),
          }}
        />
        <SelectFilter
          id={`${titleId}-environment`}
          className={classes.select}
          label="Environment"
          value={state.environment}
          options={ENVIRONMENTS}
          onChange={environment => update({ environment })}
        />
        <SelectFilter
          id={`${titleId}-health`}
          className={classes.select}
          label="Health"
          value={state.state}
          options={STATES}
          onChange={value => update({ state: value })}
        />
        <FormControlLabel
          control={
            <Switch
              checked={state.grouped}
              onChange={e => update({ grouped: e.target.checked })}
            />
          }
          label="Group by environment group"
        />
      </Toolbar>
      <div className={classes.progress}>
        {page.loading && <LinearProgress aria-label="Loading clusters" />}
      </div>
      {page.error && <ResponseErrorPanel error={page.error} />}
      <TableContainer>
        <Table
          size="small"
          aria-labelledby={titleId}
          aria-busy={page.loading}
          className={page.loading && page.items ? classes.stale : undefined}
        >
          <TableHead>
            <TableRow>
              {columns.map(column => {
                const sortable =
                  column.orderBy &&
                  (!state.grouped || column.orderBy === 'environmentGroup');
                const active =
                  column.orderBy ===
                  (state.grouped ? 'environmentGroup' : state.orderBy);
                return (
                  <TableCell
                    key={column.title}
                    className={classes.nowrap}
                    sortDirection={active ? state.order : false}
                  >
                    {sortable ? (
                      <TableSortLabel
                        active={active}
                        direction={active ? state.order : 'asc'}
                        onClick={() =>
                          update({
                            orderBy: column.orderBy,
                            order:
                              active && state.order === 'asc' ? 'desc' : 'asc',
                          })
                        }
                      >
                        {column.title}
                      </TableSortLabel>
                    ) : (
                      column.title
                    )}
                  </TableCell>
                );
              })}
            </TableRow>
          </TableHead>
          <ClusterRows
            items={page.items ?? []}
            extras={extras}
            // The rows of an ungrouped answer stay ungrouped until the
            // answer ordered by group arrives.
            grouped={
              state.grouped && page.query?.orderBy === 'environmentGroup'
            }
            message={message}
          />
        </Table>
      </TableContainer>
      <Typography variant="srOnly" role="status">
        {page.items && !page.loading
          ? `${total} cluster${total === 1 ? '' : 's'}${
              narrowed ? ' match' : ''
            }`
          : ''}
      </Typography>
      <TablePagination
        component="div"
        count={total}
        page={state.page}
        rowsPerPage={state.pageSize}
        rowsPerPageOptions={PAGE_SIZES}
        onPageChange={(_, p) => setState(s => ({ ...s, page: p }))}
        onRowsPerPageChange={e => update({ pageSize: Number(e.target.value) })}
      />
    </Paper>
  );
}
