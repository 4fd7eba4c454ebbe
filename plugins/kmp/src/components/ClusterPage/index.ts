export {
  EntityKmpClusterContent,
  EntityKmpClusterOverviewCard,
} from './EntityKmpClusterContent';
export {
  EntityKmpClusterProvider,
  KmpClusterProvider,
  useKmpCluster,
} from './KmpClusterContext';
export { ClusterOverviewCard } from './ClusterOverviewCard';
export { NamespacesCard } from './NamespacesCard';
export { WorkloadsCard } from './WorkloadsCard';
export { GitOpsCard } from './GitOpsCard';
export { ComplianceCard } from './ComplianceCard';
export { AlertsCard } from './AlertsCard';
export { ClusterAuditCard } from './ClusterAuditCard';
