import { EmptyState, InfoCard } from '@backstage/core-components';

/**
 * Alerts of the cluster. KMP has no alert routing API yet, so this says so
 * instead of pretending that all is quiet.
 */
export function AlertsCard() {
  return (
    <InfoCard title="Alerts">
      <EmptyState
        missing="info"
        title="Alerts are not configured"
        description="KMP does not route alerts for this cluster yet: there is no alert source to show. An empty list here would not mean that nothing is wrong."
      />
    </InfoCard>
  );
}
