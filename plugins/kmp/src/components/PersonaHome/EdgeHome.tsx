import {
  InfoCard,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusPending,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef } from '../../api';
import { clusterLink } from './OpsHome';

const CONNECTIVITY: Record<RegisteredCluster['connectivity'], string> = {
  direct: 'direct',
  edge: 'agent tunnel',
  'edge-async': 'queued commands',
};

/** Whether KMP can reach an edge cluster now, and how. */
export function EdgeConnectivity(props: { cluster: RegisteredCluster }) {
  const { lifecycleState, connectivity } = props.cluster;
  const how = CONNECTIVITY[connectivity];
  switch (lifecycleState) {
    case 'active':
    case 'degraded':
      return <StatusOK>connected ({how})</StatusOK>;
    case 'unreachable':
      return <StatusError>disconnected ({how})</StatusError>;
    default:
      return (
        <StatusPending>
          {lifecycleState} ({how})
        </StatusPending>
      );
  }
}

const edgeColumns: TableColumn<RegisteredCluster>[] = [
  { title: 'Cluster', render: c => clusterLink(c.name) },
  { title: 'Site', field: 'region' },
  { title: 'Group', field: 'environmentGroup' },
  { title: 'Connectivity', render: c => <EdgeConnectivity cluster={c} /> },
  { title: 'Last seen', render: c => c.status.lastSeenAt ?? 'never' },
  { title: 'Version', render: c => c.kubernetesVersion ?? '—' },
];

/** What an edge operator works on: edge clusters and their connectivity. */
export function EdgeHome(props: { environmentGroups: string[] }) {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () =>
      kmpApi.listClusters({
        environment: ['edge'],
        environmentGroup: props.environmentGroups,
        orderBy: 'lifecycleState',
        order: 'desc',
        limit: 100,
      }),
    [kmpApi, props.environmentGroups.join(',')],
  );
  return (
    <InfoCard
      title="Edge operations"
      subheader={props.environmentGroups.join(', ')}
    >
      {error ? (
        <ResponseErrorPanel error={error} />
      ) : (
        <Table<RegisteredCluster>
          title="Edge clusters"
          subtitle={
            value && value.totalCount > value.items.length
              ? `${value.items.length} of ${value.totalCount}`
              : undefined
          }
          options={{ paging: false, search: false, padding: 'dense' }}
          isLoading={loading}
          columns={edgeColumns}
          data={value?.items ?? []}
          emptyContent={
            <Typography style={{ padding: 16 }}>
              No edge clusters in your environment groups.
            </Typography>
          }
        />
      )}
    </InfoCard>
  );
}
