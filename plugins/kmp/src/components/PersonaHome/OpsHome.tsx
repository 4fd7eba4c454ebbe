import {
  InfoCard,
  ResponseErrorPanel,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { EntityRefLink } from '@backstage/plugin-catalog-react';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { KmpAlert, kmpApiRef } from '../../api';
import {
  AlertSeverity,
  alertSourceProblem,
  forwardingNote,
} from '../ClusterPage/AlertsCard';
import { ClusterState } from '../ClusterTable';

function HealthTile(props: { title: string; value?: number }) {
  return (
    <InfoCard title={props.title} variant="gridItem">
      <Typography variant="h3" component="p" aria-label={props.title}>
        {props.value ?? '…'}
      </Typography>
    </InfoCard>
  );
}

/** Fleet health as four numbers: every cluster the viewer may see. */
export function FleetHealthTiles() {
  const kmpApi = useApi(kmpApiRef);
  const { value, error } = useAsync(() => kmpApi.getClusterSummary(), [kmpApi]);
  if (error) return <ResponseErrorPanel error={error} />;
  const states = value?.byLifecycleState ?? {};
  const count = (state: string) => (value ? states[state] ?? 0 : undefined);
  return (
    <Grid container spacing={2}>
      <Grid item xs={6} md={3}>
        <HealthTile title="Clusters" value={value?.total} />
      </Grid>
      <Grid item xs={6} md={3}>
        <HealthTile title="Active" value={count('active')} />
      </Grid>
      <Grid item xs={6} md={3}>
        <HealthTile title="Degraded" value={count('degraded')} />
      </Grid>
      <Grid item xs={6} md={3}>
        <HealthTile title="Unreachable" value={count('unreachable')} />
      </Grid>
    </Grid>
  );
}

export const clusterLink = (name: string) => (
  <EntityRefLink entityRef={{ kind: 'resource', namespace: 'default', name }}>
    {name}
  </EntityRefLink>
);

const unhealthyColumns: TableColumn<RegisteredCluster>[] = [
  { title: 'Cluster', render: c => clusterLink(c.name) },
  { title: 'Group', field: 'environmentGroup' },
  { title: 'Health', render: c => <ClusterState state={c.lifecycleState} /> },
  { title: 'Last seen', render: c => c.status.lastSeenAt ?? 'never' },
  { title: 'Last error', render: c => c.status.lastError ?? '' },
];

/** Degraded and unreachable clusters of the groups the viewer operates. */
export function UnhealthyClustersCard(props: { environmentGroups: string[] }) {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () =>
      kmpApi.listClusters({
        environmentGroup: props.environmentGroups,
        state: ['degraded', 'unreachable'],
        orderBy: 'name',
        limit: 50,
      }),
    [kmpApi, props.environmentGroups.join(',')],
  );
  if (error) return <ResponseErrorPanel error={error} />;
  return (
    <Table<RegisteredCluster>
      title="Clusters needing attention"
      subtitle={
        value && value.totalCount > value.items.length
          ? `${value.items.length} of ${value.totalCount}`
          : undefined
      }
      options={{ paging: false, search: false, padding: 'dense' }}
      isLoading={loading}
      columns={unhealthyColumns}
      data={value?.items ?? []}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          Every cluster of your environment groups is healthy.
        </Typography>
      }
    />
  );
}

const alertColumns: TableColumn<KmpAlert>[] = [
  {
    title: 'Severity',
    render: a => <AlertSeverity severity={a.severity} />,
  },
  { title: 'Cluster', render: a => clusterLink(a.cluster) },
  { title: 'Alert', render: a => a.summary },
  { title: 'Since', render: a => new Date(a.startsAt).toLocaleString() },
];

/**
 * The open (firing) alerts of every cluster the viewer may see, critical
 * first. Says "no open alerts" only when alert rules are evaluated.
 */
export function OpenAlertsCard() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () => kmpApi.listAlerts({ status: ['firing'], limit: 50 }),
    [kmpApi],
  );
  if (error) return <ResponseErrorPanel error={error} />;
  const items = value?.items ?? [];
  const total = value?.totalCount ?? 0;
  const evaluation = value?.evaluation;
  const problem = evaluation ? alertSourceProblem(evaluation) : undefined;
  return (
    <Table<KmpAlert>
      title="Open alerts"
      subtitle={[
        total > items.length ? `${items.length} of ${total}` : undefined,
        problem?.title,
        evaluation && !problem ? forwardingNote(evaluation) : undefined,
      ]
        .filter(Boolean)
        .join(' · ')}
      options={{ paging: false, search: false, padding: 'dense' }}
      isLoading={loading}
      columns={alertColumns}
      data={items}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          {problem
            ? `${problem.title}. ${problem.description}`
            : 'No open alerts in the clusters you can see.'}
        </Typography>
      }
    />
  );
}

/**
 * What ops works on: the fleet's health, its open alerts and the clusters
 * that need help.
 */
export function OpsHome(props: { environmentGroups: string[] }) {
  return (
    <InfoCard title="Ops" subheader={props.environmentGroups.join(', ')}>
      <Grid container spacing={2}>
        <Grid item xs={12}>
          <FleetHealthTiles />
        </Grid>
        <Grid item xs={12}>
          <OpenAlertsCard />
        </Grid>
        <Grid item xs={12}>
          <UnhealthyClustersCard environmentGroups={props.environmentGroups} />
        </Grid>
      </Grid>
    </InfoCard>
  );
}
