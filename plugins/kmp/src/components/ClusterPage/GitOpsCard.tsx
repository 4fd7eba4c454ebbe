import {
  EmptyState,
  InfoCard,
  Progress,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import { ReactNode } from 'react';
import { KmpBrokerError, KubernetesObject } from '../../api';
import { useBrokerList } from '../../hooks';
import { BrokerErrorState } from './BrokerErrorState';
import { useKmpCluster } from './KmpClusterContext';
import { Condition, conditionOf } from './kubernetes';

type GitOpsObject = KubernetesObject & {
  status?: {
    conditions?: Condition[];
    lastAppliedRevision?: string;
    lastAttemptedRevision?: string;
    artifact?: { revision?: string };
    history?: Array<{ chartVersion?: string }>;
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string };
  };
};

/** The GitOps kinds KMP reads, where their CRDs are installed. */
const SOURCES: Array<{
  kind: string;
  group: string;
  version: string;
  plural: string;
}> = [
  {
    kind: 'Kustomization',
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'kustomizations',
  },
  {
    kind: 'HelmRelease',
    group: 'helm.toolkit.fluxcd.io',
    version: 'v2',
    plural: 'helmreleases',
  },
  {
    kind: 'GitRepository',
    group: 'source.toolkit.fluxcd.io',
    version: 'v1',
    plural: 'gitrepositories',
  },
  {
    kind: 'Application',
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'applications',
  },
];

interface Row {
  kind: string;
  namespace: string;
  name: string;
  status: ReactNode;
  revision: string;
  message: string;
}

const short = (revision?: string) =>
  revision?.replace(/([0-9a-f]{12})[0-9a-f]{28}\b/, '$1') ?? '—';

function fluxRow(kind: string, o: GitOpsObject): Row {
  const ready = conditionOf(o, 'Ready');
  let status: ReactNode;
  if (!ready) status = <StatusPending>unknown</StatusPending>;
  else if (ready.status === 'True') status = <StatusOK>Ready</StatusOK>;
  else if (ready.status === 'False') {
    status = <StatusError>{ready.reason ?? 'Not ready'}</StatusError>;
  } else
    status = <StatusPending>{ready.reason ?? 'Reconciling'}</StatusPending>;
  const revision =
    o.status?.lastAppliedRevision ??
    o.status?.artifact?.revision ??
    o.status?.history?.[0]?.chartVersion ??
    o.status?.lastAttemptedRevision;
  return {
    kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    status,
    revision: short(revision),
    message: ready?.message ?? '',
  };
}

function argoRow(o: GitOpsObject): Row {
  const sync = o.status?.sync?.status ?? 'Unknown';
  const health = o.status?.health?.status ?? 'Unknown';
  const text = `${sync} · ${health}`;
  let status: ReactNode = <StatusWarning>{text}</StatusWarning>;
  if (sync === 'Synced' && health === 'Healthy') {
    status = <StatusOK>{text}</StatusOK>;
  } else if (health === 'Degraded' || health === 'Missing') {
    status = <StatusError>{text}</StatusError>;
  }
  return {
    kind: 'Application',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    status,
    revision: short(o.status?.sync?.revision),
    message:
      o.status?.health?.message ?? o.status?.operationState?.message ?? '',
  };
}

/**
 * The cluster's GitOps state: Flux Kustomizations, HelmReleases and
 * GitRepositories and Argo CD Applications, with ready or sync status and
 * the last revision. Kinds whose CRDs are not installed are skipped.
 */
export function GitOpsCard() {
  const { cluster, permissions } = useKmpCluster();
  const scoped = permissions.readScope === 'own-namespaces';
  const lists = SOURCES.map(source => {
    const base = `/apis/${source.group}/${source.version}`;
    let paths: string | string[] | undefined;
    if (!permissions.loading) {
      paths = scoped
        ? permissions.teams.map(
            ns =>
              `${base}/namespaces/${encodeURIComponent(ns)}/${source.plural}`,
          )
        : `${base}/${source.plural}`;
    }
    return { source, paths };
  });
  // A fixed number of hooks: one per source.
  const kustomizations = useBrokerList<GitOpsObject>(
    cluster.name,
    lists[0].paths,
    { optional: true },
  );
  const helmReleases = useBrokerList<GitOpsObject>(
    cluster.name,
    lists[1].paths,
    { optional: true },
  );
  const gitRepositories = useBrokerList<GitOpsObject>(
    cluster.name,
    lists[2].paths,
    { optional: true },
  );
  const applications = useBrokerList<GitOpsObject>(
    cluster.name,
    lists[3].paths,
    { optional: true },
  );
  const results = [kustomizations, helmReleases, gitRepositories, applications];

  let content;
  const error = results.map(r => r.error).find(Boolean);
  if (permissions.loading || results.some(r => r.loading)) {
    content = <Progress />;
  } else if (error instanceof KmpBrokerError && error.statusCode === 403) {
    // GitOps controllers' objects usually live in system namespaces that
    // a persona (a developer) may not read: a state, not a failure.
    content = (
      <EmptyState
        missing="info"
        title="GitOps objects are not visible to you"
        description={`${error.message}${
          error.auditId ? ` (audit id ${error.auditId})` : ''
        }`}
      />
    );
  } else if (error) {
    content = <BrokerErrorState error={error} what="GitOps state" />;
  } else if (results.every(r => r.value === undefined)) {
    content = (
      <EmptyState
        missing="info"
        title="No GitOps controller"
        description="Neither Flux nor Argo CD custom resources are served by this cluster."
      />
    );
  } else {
    const rows: Row[] = [
      ...(kustomizations.value ?? []).map(o => fluxRow('Kustomization', o)),
      ...(helmReleases.value ?? []).map(o => fluxRow('HelmRelease', o)),
      ...(gitRepositories.value ?? []).map(o => fluxRow('GitRepository', o)),
      ...(applications.value ?? []).map(argoRow),
    ];
    content =
      rows.length === 0 ? (
        <EmptyState
          missing="data"
          title="Nothing reconciled by GitOps"
          description="The GitOps controllers' resources exist, but there are no objects you may see."
        />
      ) : (
        <Table size="small" aria-label="GitOps objects">
          <TableHead>
            <TableRow>
              <TableCell>Kind</TableCell>
              <TableCell>Namespace</TableCell>
              <TableCell>Name</TableCell>
              <TableCell>Status</TableCell>
              <TableCell>Last revision</TableCell>
              <TableCell>Message</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {rows.map(r => (
              <TableRow key={`${r.kind}/${r.namespace}/${r.name}`}>
                <TableCell>{r.kind}</TableCell>
                <TableCell>{r.namespace}</TableCell>
                <TableCell>{r.name}</TableCell>
                <TableCell>{r.status}</TableCell>
                <TableCell>
                  <code>{r.revision}</code>
                </TableCell>
                <TableCell>{r.message}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      );
  }
  return <InfoCard title="GitOps">{content}</InfoCard>;
}
