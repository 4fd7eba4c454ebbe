import Grid from '@material-ui/core/Grid';
import { BreakGlassCard } from '../BreakGlass';
import { ClickOpsCard } from '../ClickOps';
import { KubeconfigCard } from '../Kubeconfig';
import { AlertsCard } from './AlertsCard';
import { ClusterAuditCard } from './ClusterAuditCard';
import { ClusterOverviewCard } from './ClusterOverviewCard';
import { ComplianceCard } from './ComplianceCard';
import { GitOpsCard } from './GitOpsCard';
import { EntityKmpClusterProvider } from './KmpClusterContext';
import { NamespacesCard } from './NamespacesCard';
import { WorkloadsCard } from './WorkloadsCard';

/**
 * The KMP view of a cluster entity: overview, tenants, workloads with
 * operational controls, GitOps state, compliance, alerts, kubeconfigs,
 * ClickOps, break-glass and the audit history. Each card shows its own loading, empty
 * and error state, so an unreachable cluster degrades card by card.
 *
 * @public
 */
export function EntityKmpClusterContent() {
  return (
    <EntityKmpClusterProvider>
      <Grid container spacing={3} alignItems="stretch">
        <Grid item xs={12} md={6}>
          <ClusterOverviewCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <ComplianceCard />
        </Grid>
        <Grid item xs={12}>
          <NamespacesCard />
        </Grid>
        <Grid item xs={12}>
          <WorkloadsCard />
        </Grid>
        <Grid item xs={12}>
          <GitOpsCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <AlertsCard />
        </Grid>
        <Grid item xs={12} md={6}>
          <KubeconfigCard />
        </Grid>
        <Grid item xs={12}>
          <ClickOpsCard />
        </Grid>
        <Grid item xs={12}>
          <BreakGlassCard />
        </Grid>
        <Grid item xs={12}>
          <ClusterAuditCard />
        </Grid>
      </Grid>
    </EntityKmpClusterProvider>
  );
}

/**
 * The overview card of a cluster entity, for the entity's overview page.
 *
 * @public
 */
export function EntityKmpClusterOverviewCard() {
  return (
    <EntityKmpClusterProvider>
      <ClusterOverviewCard />
    </EntityKmpClusterProvider>
  );
}
