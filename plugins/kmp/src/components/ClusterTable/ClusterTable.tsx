import {
  StatusAborted,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
  Table,
  TableColumn,
  TableProps,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';
import { ClusterListQuery, kmpApiRef } from '../../api';

const orderFields: Record<string, ClusterListQuery['orderBy']> = {
  name: 'name',
  environment: 'environment',
  environmentGroup: 'environmentGroup',
  region: 'region',
  lifecycleState: 'lifecycleState',
  kubernetesVersion: 'kubernetesVersion',
};

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

const columns: TableColumn<RegisteredCluster>[] = [
  { title: 'Cluster', field: 'name', highlight: true },
  { title: 'Environment', field: 'environment' },
  { title: 'Group', field: 'environmentGroup' },
  { title: 'Region', field: 'region' },
  { title: 'Profile', field: 'profile', sorting: false },
  { title: 'Version', field: 'kubernetesVersion' },
  {
    title: 'Health',
    field: 'lifecycleState',
    render: c => <ClusterState state={c.lifecycleState} />,
  },
  {
    title: 'Nodes',
    sorting: false,
    render: c =>
      c.status.nodeCount === undefined
        ? '—'
        : `${c.status.nodesReady ?? 0}/${c.status.nodeCount} ready`,
  },
  { title: 'Connectivity', field: 'connectivity', sorting: false },
];

/**
 * Every cluster the viewer may see, paged, searched and sorted on the
 * server, so it stays fast with tens of thousands of clusters.
 */
export function ClusterTable(props: { filter?: ClusterListQuery }) {
  const kmpApi = useApi(kmpApiRef);
  const data: TableProps<RegisteredCluster>['data'] = async query => {
    const orderBy = query.orderBy?.field
      ? orderFields[String(query.orderBy.field)]
      : undefined;
    const result = await kmpApi.listClusters({
      ...props.filter,
      q: query.search || undefined,
      orderBy,
      order: orderBy ? (query.orderDirection as 'asc' | 'desc') : undefined,
      limit: query.pageSize,
      offset: query.page * query.pageSize,
    });
    return {
      data: result.items,
      page: query.page,
      totalCount: result.totalCount,
    };
  };
  return (
    <Table<RegisteredCluster>
      title="Clusters"
      options={{
        pageSize: 20,
        pageSizeOptions: [20, 50, 100],
        debounceInterval: 100,
      }}
      columns={columns}
      data={data}
    />
  );
}
