export { ClusterTable, ClusterState } from './ClusterTable';
