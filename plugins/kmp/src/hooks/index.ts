export { useKmpPermissions } from './useKmpPermissions';
export type { KmpPermissions } from './useKmpPermissions';
export { isKmpClusterEntity, kmpClusterNameOf } from './clusterEntity';
export { useBrokerList } from './useBrokerList';
export type { KubernetesList } from './useBrokerList';
