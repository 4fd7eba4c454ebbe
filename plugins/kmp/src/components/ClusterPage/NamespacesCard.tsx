import {
  EmptyState,
  InfoCard,
  Progress,
  StatusOK,
  StatusWarning,
} from '@backstage/core-components';
import Chip from '@material-ui/core/Chip';
import LinearProgress from '@material-ui/core/LinearProgress';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import Typography from '@material-ui/core/Typography';
import { useApi } from '@backstage/core-plugin-api';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import { KMP_TEAM_LABEL } from '@kmp/plugin-kmp-common';
import { kmpApiRef, KubernetesObject } from '../../api';
import { useBrokerList } from '../../hooks';
import { BrokerErrorState } from './BrokerErrorState';
import { useKmpCluster } from './KmpClusterContext';
import { isSystemNamespace, teamOf } from './kubernetes';
import { usagePercent } from './quantity';

type Namespace = KubernetesObject & { status?: { phase?: string } };
type ResourceQuota = KubernetesObject & {
  status?: { hard?: Record<string, string>; used?: Record<string, string> };
};

function QuotaUsage(props: { quotas: ResourceQuota[] }) {
  const rows = props.quotas.flatMap(q =>
    Object.entries(q.status?.hard ?? {}).map(([resource, hard]) => ({
      key: `${q.metadata.name}/${resource}`,
      resource,
      hard,
      used: q.status?.used?.[resource] ?? '0',
    })),
  );
  if (rows.length === 0) {
    return (
      <Typography variant="body2" color="textSecondary">
        no quota
      </Typography>
    );
  }
  return (
    <>
      {rows.map(r => {
        const percent = usagePercent(r.used, r.hard);
        return (
          <div key={r.key}>
            <Typography variant="caption">
              {r.resource}: {r.used} / {r.hard}
              {percent !== undefined && ` (${percent}%)`}
            </Typography>
            {percent !== undefined && (
              <LinearProgress
                variant="determinate"
                value={percent}
                color={percent >= 90 ? 'secondary' : 'primary'}
                aria-label={`${r.resource} quota used`}
              />
            )}
          </div>
        );
      })}
    </>
  );
}

/**
 * The cluster's namespaces — tenants with their team and quota usage, and
 * system namespaces — read live through the broker as the viewer.
 */
export function NamespacesCard() {
  const { cluster, permissions } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  // Developers may read only their teams' namespaces.
  const scoped = permissions.readScope === 'own-namespaces';
  const teamsKey = permissions.teams.join(',');
  const all = useBrokerList<Namespace>(
    cluster.name,
    permissions.loading || scoped ? undefined : '/api/v1/namespaces',
  );
  const own = useAsyncRetry(async () => {
    if (!scoped) return undefined;
    // Developers may not list namespaces; the backend tells them which are
    // their teams' (by the team label, whatever their names).
    const mine = await kmpApi.listTenantNamespaces(
      cluster.name,
      teamsKey.split(',').filter(Boolean),
    );
    return mine.map(
      (ns): Namespace => ({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns.name, labels: { [KMP_TEAM_LABEL]: ns.team } },
        ...(ns.phase ? { status: { phase: ns.phase } } : {}),
      }),
    );
  }, [kmpApi, cluster.name, scoped, teamsKey]);
  const namespaces = scoped ? own : all;
  const quotas = useBrokerList<ResourceQuota>(
    cluster.name,
    scoped
      ? permissions.teams.map(
          ns => `/api/v1/namespaces/${encodeURIComponent(ns)}/resourcequotas`,
        )
      : '/api/v1/resourcequotas',
    { optional: scoped },
  );
  let content;
  if (permissions.loading || namespaces.loading) {
    content = <Progress />;
  } else if (namespaces.error) {
    content = <BrokerErrorState error={namespaces.error} what="namespaces" />;
  } else if (!namespaces.value?.length) {
    content = (
      <EmptyState
        missing="data"
        title="No namespaces you may see"
        description={
          scoped
            ? `None of your teams (${
                permissions.teams.join(', ') || 'none'
              }) has a tenant namespace on this cluster.`
            : 'The cluster lists no namespace for you.'
        }
      />
    );
  } else {
    const sorted = [...namespaces.value].sort(
      (a, b) =>
        Number(isSystemNamespace(a)) - Number(isSystemNamespace(b)) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
    content = (
      <>
        {quotas.error && (
          <BrokerErrorState error={quotas.error} what="resource quotas" />
        )}
        <Table size="small" aria-label="namespaces">
          <TableHead>
            <TableRow>
              <TableCell>Namespace</TableCell>
              <TableCell>Team</TableCell>
              <TableCell>Phase</TableCell>
              <TableCell>Quota usage</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {sorted.map(ns => {
              const team = teamOf(ns);
              return (
                <TableRow key={ns.metadata.name}>
                  <TableCell>
                    {ns.metadata.name}{' '}
                    {isSystemNamespace(ns) && (
                      <Chip size="small" label="system" />
                    )}
                  </TableCell>
                  <TableCell>{team ?? '—'}</TableCell>
                  <TableCell>
                    {ns.status?.phase === 'Active' ? (
                      <StatusOK>Active</StatusOK>
                    ) : (
                      <StatusWarning>
                        {ns.status?.phase ?? 'unknown'}
                      </StatusWarning>
                    )}
                  </TableCell>
                  <TableCell>
                    {quotas.loading ? (
                      '…'
                    ) : (
                      <QuotaUsage
                        quotas={(quotas.value ?? []).filter(
                          q => q.metadata.namespace === ns.metadata.name,
                        )}
                      />
                    )}
                  </TableCell>
                </TableRow>
              );
            })}
          </TableBody>
        </Table>
      </>
    );
  }
  return <InfoCard title="Namespaces and tenants">{content}</InfoCard>;
}
