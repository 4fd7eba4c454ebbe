import {
  InfoCard,
  StatusError,
  StatusOK,
  StatusWarning,
  StructuredMetadataTable,
} from '@backstage/core-components';
import { PERSONA_INFO } from '@kmp/plugin-kmp-common';
import { ReactNode } from 'react';
import { ClusterState } from '../ClusterTable';
import { useKmpCluster } from './KmpClusterContext';

const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : '—');

const DAY_MS = 86_400_000;
/** Within this many days the certificate's expiry shows as a warning. */
const CERTIFICATE_WARN_DAYS = 30;

/** The API server's serving certificate: how long it is still valid. */
function servingCertificate(notAfter: string, now = Date.now()): ReactNode {
  const days = Math.floor((Date.parse(notAfter) - now) / DAY_MS);
  const until = `(until ${when(notAfter)})`;
  if (days < 0) {
    return <StatusError>expired {until}</StatusError>;
  }
  const text = `valid for ${days} more day${days === 1 ? '' : 's'} ${until}`;
  return days <= CERTIFICATE_WARN_DAYS ? (
    <StatusWarning>{text}</StatusWarning>
  ) : (
    <StatusOK>{text}</StatusOK>
  );
}

/**
 * What the registry knows about a cluster: metadata, health, nodes,
 * control plane, connectivity and profile, and the viewer's personas.
 */
export function ClusterOverviewCard() {
  const { cluster, permissions } = useKmpCluster();
  const { status } = cluster;
  let nodes: ReactNode = '—';
  if (status.nodeCount !== undefined) {
    const text = `${status.nodesReady ?? 0}/${status.nodeCount} ready`;
    nodes =
      status.nodesReady === status.nodeCount ? (
        <StatusOK>{text}</StatusOK>
      ) : (
        <StatusWarning>{text}</StatusWarning>
      );
  }
  let controlPlane: ReactNode = 'unknown';
  if (status.controlPlaneHealthy !== undefined) {
    controlPlane = status.controlPlaneHealthy ? (
      <StatusOK>healthy</StatusOK>
    ) : (
      <StatusError>unhealthy</StatusError>
    );
  }
  const metadata: Record<string, unknown> = {
    cluster: cluster.title
      ? `${cluster.title} (${cluster.name})`
      : cluster.name,
    health: <ClusterState state={cluster.lifecycleState} />,
    environment: cluster.environment,
    'environment group': cluster.environmentGroup,
    region: cluster.region,
    profile: cluster.profile,
    'Kubernetes version': cluster.kubernetesVersion ?? '—',
    distribution: cluster.distribution ?? '—',
    connectivity: cluster.connectivity,
    nodes,
    'control plane': controlPlane,
    'last seen': when(status.lastSeenAt),
    'last checked': when(status.lastCheckedAt),
    owner: cluster.owner,
    'your personas': permissions.loading
      ? '…'
      : permissions.personas.map(p => PERSONA_INFO[p].title).join(', ') ||
        (permissions.error
          ? `unknown (${permissions.error.message})`
          : 'none in this environment group'),
  };
  const problems = status.nodeProblems;
  if (problems) {
    const parts = [
      problems.networkUnavailableCount > 0 &&
        `${problems.networkUnavailableCount} without network (CNI)`,
      problems.pressureCount > 0 &&
        `${problems.pressureCount} under pressure (${problems.pressure
          .map(p => `${p.node}: ${p.conditions.join(', ')}`)
          .slice(0, 3)
          .join('; ')}${problems.pressureCount > 3 ? '; …' : ''})`,
      problems.unschedulableCount > 0 &&
        `${problems.unschedulableCount} cordoned`,
    ].filter(Boolean);
    if (parts.length === 0) {
      metadata['node problems'] = <StatusOK>none</StatusOK>;
    } else if (problems.networkUnavailableCount > 0) {
      metadata['node problems'] = (
        <StatusError>{parts.join(' · ')}</StatusError>
      );
    } else {
      metadata['node problems'] = (
        <StatusWarning>{parts.join(' · ')}</StatusWarning>
      );
    }
  }
  if (status.servingCertificate) {
    metadata['API server certificate'] = servingCertificate(
      status.servingCertificate.notAfter,
    );
  }
  if (status.lastError) {
    metadata['last error'] = <StatusError>{status.lastError}</StatusError>;
  }
  return (
    <InfoCard title="Cluster" subheader={cluster.description}>
      <StructuredMetadataTable metadata={metadata} />
    </InfoCard>
  );
}
