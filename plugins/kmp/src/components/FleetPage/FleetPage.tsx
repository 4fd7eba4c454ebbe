import {
  Content,
  ContentHeader,
  EmptyState,
  Header,
  InfoCard,
  Page,
  Progress,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Grid from '@material-ui/core/Grid';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { ClusterTable } from '../ClusterTable';

function PlatformHealthCard() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () => kmpApi.getHealth(),
    [kmpApi],
  );
  return (
    <InfoCard title="Platform control plane">
      {loading && <Progress />}
      {error && (
        <StatusError>KMP backend unreachable: {error.message}</StatusError>
      )}
      {value &&
        (value.status === 'ok' ? (
          <StatusOK>KMP backend and database are healthy</StatusOK>
        ) : (
          <StatusError>KMP database unavailable</StatusError>
        ))}
    </InfoCard>
  );
}

function EnvironmentGroupsTable() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () => kmpApi.listEnvironmentGroups(),
    [kmpApi],
  );
  if (error) {
    return <ResponseErrorPanel error={error} />;
  }
  if (!loading && value?.items.length === 0) {
    return (
      <EmptyState
        missing="data"
        title="No environment groups yet"
        description="Declare environment groups under kmp.environmentGroups in app-config.yaml."
      />
    );
  }
  // A handful of rows: a plain table, without material-table's weight.
  return (
    <InfoCard title="Environment groups" noPadding>
      {loading && <Progress />}
      <Table size="small" aria-label="Environment groups">
        <TableHead>
          <TableRow>
            <TableCell>Environment group</TableCell>
            <TableCell>Title</TableCell>
            <TableCell>Environment</TableCell>
            <TableCell>Owner</TableCell>
          </TableRow>
        </TableHead>
        <TableBody>
          {(value?.items ?? []).map(group => (
            <TableRow key={group.name}>
              <TableCell>
                <strong>{group.name}</strong>
              </TableCell>
              <TableCell>{group.title ?? ''}</TableCell>
              <TableCell>{group.environment}</TableCell>
              <TableCell>{group.owner}</TableCell>
            </TableRow>
          ))}
        </TableBody>
      </Table>
    </InfoCard>
  );
}

function SummaryTile(props: {
  title: string;
  value?: number;
  detail?: string;
}) {
  return (
    <InfoCard title={props.title} variant="gridItem">
      <Typography variant="h3" component="p">
        {props.value ?? '…'}
      </Typography>
      {props.detail && (
        <Typography variant="body2" color="textSecondary">
          {props.detail}
        </Typography>
      )}
    </InfoCard>
  );
}

function FleetSummary() {
  const kmpApi = useApi(kmpApiRef);
  const { value, error } = useAsync(() => kmpApi.getClusterSummary(), [kmpApi]);
  if (error) {
    return <ResponseErrorPanel error={error} />;
  }
  const states = value?.byLifecycleState ?? {};
  const envs = value?.byEnvironment ?? {};
  return (
    <Grid container spacing={3}>
      <Grid item xs={6} md={3}>
        <SummaryTile
          title="Clusters"
          value={value?.total}
          detail={
            value
              ? `${envs.production ?? 0} production · ${
                  envs['non-production'] ?? 0
                } non-production · ${envs.edge ?? 0} edge`
              : undefined
          }
        />
      </Grid>
      <Grid item xs={6} md={3}>
        <SummaryTile
          title="Active"
          value={value ? states.active ?? 0 : undefined}
        />
      </Grid>
      <Grid item xs={6} md={3}>
        <SummaryTile
          title="Degraded"
          value={value ? states.degraded ?? 0 : undefined}
        />
      </Grid>
      <Grid item xs={6} md={3}>
        <SummaryTile
          title="Unreachable"
          value={value ? states.unreachable ?? 0 : undefined}
          detail={
            value && states.registering
              ? `${states.registering} registering`
              : undefined
          }
        />
      </Grid>
    </Grid>
  );
}

/**
 * The fleet page: the entry point of the KMP portal.
 *
 * @public
 */
export function FleetPage() {
  return (
    <Page themeId="tool">
      <Header
        title="Kubernetes fleet"
        subtitle="Every cluster, environment group and profile under one governed control surface"
      />
      <Content>
        <ContentHeader title="Fleet overview" />
        <Grid container spacing={3}>
          <Grid item xs={12}>
            <FleetSummary />
          </Grid>
          <Grid item xs={12}>
            <ClusterTable />
          </Grid>
          <Grid item xs={12} md={4}>
            <PlatformHealthCard />
          </Grid>
          <Grid item xs={12} md={8}>
            <EnvironmentGroupsTable />
          </Grid>
        </Grid>
      </Content>
    </Page>
  );
}
