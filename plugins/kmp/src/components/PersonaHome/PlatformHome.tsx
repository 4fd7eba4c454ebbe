import {
  InfoCard,
  ResponseErrorPanel,
  StatusError,
  StatusOK,
  StatusWarning,
  Table,
  TableColumn,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { ClusterProfile } from '@kmp/plugin-kmp-common';
import Grid from '@material-ui/core/Grid';
import useAsync from 'react-use/esm/useAsync';
import { ClusterComplianceSummary, kmpApiRef } from '../../api';
import { clusterLink } from './OpsHome';

function Compliance(props: { row: ClusterComplianceSummary }) {
  const { row } = props;
  if (row.violations > 0) {
    return <StatusError>{row.violations} violation(s)</StatusError>;
  }
  if (!row.installedVersion) {
    return <StatusWarning>no bundle installed</StatusWarning>;
  }
  if (!row.upToDate || row.drift !== 'in-sync') {
    return (
      <StatusWarning>
        {row.upToDate ? `drift: ${row.drift}` : 'bundle out of date'}
      </StatusWarning>
    );
  }
  return <StatusOK>compliant</StatusOK>;
}

const complianceColumns: TableColumn<ClusterComplianceSummary>[] = [
  { title: 'Cluster', render: r => clusterLink(r.cluster) },
  { title: 'Group', field: 'environmentGroup' },
  { title: 'Compliance', render: r => <Compliance row={r} /> },
  {
    title: 'Bundle (installed / governed)',
    render: r =>
      `${r.installedVersion ?? 'none'} / ${r.governedVersion ?? '—'}`,
  },
  { title: 'Mode', render: r => r.mode ?? '—' },
  { title: 'Last scan', render: r => r.scannedAt ?? 'never' },
];

/** Policy compliance per cluster the viewer may read. */
export function ComplianceCard() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () => kmpApi.listComplianceSummaries({ limit: 50, offset: 0 }),
    [kmpApi],
  );
  if (error) return <ResponseErrorPanel error={error} />;
  return (
    <Table<ClusterComplianceSummary>
      title="Compliance"
      subtitle={
        value && value.totalCount > value.items.length
          ? `First ${value.items.length} of ${value.totalCount} clusters`
          : undefined
      }
      options={{ paging: false, search: false, padding: 'dense' }}
      isLoading={loading}
      columns={complianceColumns}
      data={value?.items ?? []}
    />
  );
}

const profileColumns: TableColumn<ClusterProfile>[] = [
  { title: 'Profile', field: 'name', highlight: true },
  { title: 'Title', render: p => p.title ?? '' },
  { title: 'Environment', field: 'environment' },
  { title: 'Pod security', field: 'podSecurity' },
  { title: 'Policy overlays', render: p => p.policyOverlays.join(', ') },
];

/** The cluster profiles the fleet is built from. */
export function ProfilesCard() {
  const kmpApi = useApi(kmpApiRef);
  const { value, loading, error } = useAsync(
    () => kmpApi.listProfiles(),
    [kmpApi],
  );
  if (error) return <ResponseErrorPanel error={error} />;
  return (
    <Table<ClusterProfile>
      title="Profiles"
      options={{ paging: false, search: false, padding: 'dense' }}
      isLoading={loading}
      columns={profileColumns}
      data={value?.items ?? []}
    />
  );
}

/** What a platform engineer works on: compliance and profiles. */
export function PlatformHome(props: { environmentGroups: string[] }) {
  return (
    <InfoCard
      title="Platform engineering"
      subheader={props.environmentGroups.join(', ')}
    >
      <Grid container spacing={2}>
        <Grid item xs={12}>
          <ComplianceCard />
        </Grid>
        <Grid item xs={12}>
          <ProfilesCard />
        </Grid>
      </Grid>
    </InfoCard>
  );
}
