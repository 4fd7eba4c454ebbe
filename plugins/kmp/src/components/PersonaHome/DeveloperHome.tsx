import {
  InfoCard,
  ResponseErrorPanel,
  Table,
  TableColumn,
  WarningPanel,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogApiRef, EntityRefLink } from '@backstage/plugin-catalog-react';
import Grid from '@material-ui/core/Grid';
import Typography from '@material-ui/core/Typography';
import useAsync from 'react-use/esm/useAsync';
import { kmpApiRef, TenantNamespace } from '../../api';
import { ClusterState } from '../ClusterTable';
import { RegisteredCluster } from '@kmp/plugin-kmp-common';

/** Clusters asked at once; a developer's clusters are few. */
const CONCURRENCY = 4;
/** A home page is not a fleet listing. */
const MAX_CLUSTERS = 100;

type NamespaceRow = TenantNamespace & { clusterInfo: RegisteredCluster };

async function mapBounded<T, R>(
  items: T[],
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker),
  );
  return results;
}

const namespaceColumns: TableColumn<NamespaceRow>[] = [
  { title: 'Namespace', field: 'name', highlight: true },
  {
    title: 'Cluster',
    render: row => (
      <EntityRefLink
        entityRef={{
          kind: 'resource',
          namespace: 'default',
          name: row.cluster,
        }}
      >
        {row.cluster}
      </EntityRefLink>
    ),
  },
  { title: 'Environment', render: row => row.clusterInfo.environment },
  { title: 'Team', field: 'team' },
  {
    title: 'Cluster health',
    render: row => <ClusterState state={row.clusterInfo.lifecycleState} />,
  },
];

/**
 * The tenant namespaces of the viewer's teams: for each cluster of the
 * environment groups they develop in, the namespaces labelled with one of
 * their teams, read through the broker as the viewer.
 */
export function MyNamespacesCard(props: {
  environmentGroups: string[];
  teams: string[];
}) {
  const kmpApi = useApi(kmpApiRef);
  const { environmentGroups, teams } = props;
  const { value, loading, error } = useAsync(async () => {
    const { items: clusters } = await kmpApi.listClusters({
      environmentGroup: environmentGroups,
      limit: MAX_CLUSTERS,
      orderBy: 'name',
    });
    const perCluster = await mapBounded(clusters, async cluster => {
      try {
        const namespaces = await kmpApi.listTenantNamespaces(
          cluster.name,
          teams,
        );
        return {
          rows: namespaces.map(ns => ({ ...ns, clusterInfo: cluster })),
        };
      } catch (e) {
        return { failure: `${cluster.name}: ${(e as Error).message}` };
      }
    });
    return {
      rows: perCluster.flatMap(r => r.rows ?? []),
      failures: perCluster.flatMap(r => (r.failure ? [r.failure] : [])),
    };
  }, [kmpApi, environmentGroups.join(','), teams.join(',')]);

  if (error) {
    return <ResponseErrorPanel error={error} />;
  }
  return (
    <>
      <Table<NamespaceRow>
        title="My namespaces"
        subtitle={
          teams.length
            ? `Tenant namespaces of ${teams.join(', ')}`
            : 'You belong to no team'
        }
        options={{ paging: false, search: false, padding: 'dense' }}
        isLoading={loading}
        columns={namespaceColumns}
        data={value?.rows ?? []}
        emptyContent={
          <Typography style={{ padding: 16 }}>
            Your teams have no tenant namespace yet. Create one with the tenant
            namespace template.
          </Typography>
        }
      />
      {value && value.failures.length > 0 && (
        <WarningPanel
          severity="warning"
          title={`${value.failures.length} cluster(s) could not be read`}
          message={value.failures.join('\n')}
        />
      )}
    </>
  );
}

const componentColumns: TableColumn<Entity>[] = [
  {
    title: 'Component',
    render: e => <EntityRefLink entityRef={e} defaultKind="component" />,
  },
  { title: 'Type', render: e => String(e.spec?.type ?? '') },
  { title: 'Lifecycle', render: e => String(e.spec?.lifecycle ?? '') },
  { title: 'Description', render: e => e.metadata.description ?? '' },
];

/** The catalog components owned by the viewer or their teams. */
export function MyComponentsCard(props: { ownershipRefs: string[] }) {
  const catalogApi = useApi(catalogApiRef);
  const { ownershipRefs } = props;
  const { value, loading, error } = useAsync(async () => {
    if (ownershipRefs.length === 0) return [];
    const { items } = await catalogApi.getEntities({
      filter: { kind: 'Component', 'relations.ownedBy': ownershipRefs },
      fields: ['kind', 'metadata', 'spec.type', 'spec.lifecycle'],
    });
    return items.sort((a, b) =>
      stringifyEntityRef(a).localeCompare(stringifyEntityRef(b)),
    );
  }, [catalogApi, ownershipRefs.join(',')]);

  if (error) {
    return <ResponseErrorPanel error={error} />;
  }
  return (
    <Table<Entity>
      title="My components"
      options={{ paging: false, search: false, padding: 'dense' }}
      isLoading={loading}
      columns={componentColumns}
      data={value ?? []}
      emptyContent={
        <Typography style={{ padding: 16 }}>
          Your teams own no components in the catalog yet.
        </Typography>
      }
    />
  );
}

/** What a developer works on: their namespaces and their components. */
export function DeveloperHome(props: {
  environmentGroups: string[];
  teams: string[];
  ownershipRefs: string[];
}) {
  return (
    <InfoCard title="Developer" subheader={props.environmentGroups.join(', ')}>
      <Grid container spacing={2}>
        <Grid item xs={12}>
          <MyNamespacesCard
            environmentGroups={props.environmentGroups}
            teams={props.teams}
          />
        </Grid>
        <Grid item xs={12}>
          <MyComponentsCard ownershipRefs={props.ownershipRefs} />
        </Grid>
      </Grid>
    </InfoCard>
  );
}
