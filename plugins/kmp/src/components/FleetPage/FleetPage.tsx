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
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EnvironmentGroup } from '@kmp/plugin-kmp-common';
import Grid from '@material-ui/core/Grid';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { ClusterTable } from '../ClusterTable';
import Typography from '@material-ui/core/Typography';

const columns: TableColumn<EnvironmentGroup>[] = [
  { title: 'Environment group', field: 'name', highlight: true },
  { title: 'Title', field: 'title' },
  { title: 'Environment', field: 'environment' },
  { title: 'Owner', field: 'owner' },
];

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
  return (
    <Table<EnvironmentGroup>
      title="Environment groups"
      options={{ paging: false, search: false }}
      isLoading={loading}
      columns={columns}
      data={value?.items ?? []}
    />
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
