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
import {
  classifyArgoApplication,
  classifyFluxObject,
  GitOpsObject as GitOpsResource,
  GitOpsState,
} from '@kmp/plugin-kmp-common';
import { ReactNode } from 'react';
import { KmpBrokerError, KubernetesObject } from '../../api';
import { useBrokerList } from '../../hooks';
import { BrokerErrorState } from './BrokerErrorState';
import { useKmpCluster } from './KmpClusterContext';

type GitOpsObject = KubernetesObject & Pick<GitOpsResource, 'spec' | 'status'>;

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

/** The status badge of a classified state; the text says what the engine says. */
function badge(state: GitOpsState, text: string): ReactNode {
  switch (state) {
    case 'ready':
      return <StatusOK>{text}</StatusOK>;
    case 'failed':
      return <StatusError>{text}</StatusError>;
    case 'out-of-sync':
    case 'suspended':
      return <StatusWarning>{text}</StatusWarning>;
    default:
      return <StatusPending>{text}</StatusPending>;
  }
}

const FLUX_TEXT: Record<GitOpsState, string> = {
  ready: 'Ready',
  failed: 'Not ready',
  progressing: 'Reconciling',
  'out-of-sync': 'Out of sync',
  suspended: 'Suspended',
  unknown: 'unknown',
};

function fluxRow(kind: string, o: GitOpsObject): Row {
  const c = classifyFluxObject(o);
  const text =
    c.state === 'ready' || c.state === 'suspended' || c.state === 'unknown'
      ? FLUX_TEXT[c.state]
      : c.reason ?? FLUX_TEXT[c.state];
  return {
    kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    status: badge(c.state, text),
    revision: short(c.revision),
    message: c.message ?? '',
  };
}

function argoRow(o: GitOpsObject): Row {
  const c = classifyArgoApplication(o);
  const sync = o.status?.sync?.status ?? 'Unknown';
  const health = o.status?.health?.status ?? 'Unknown';
  return {
    kind: 'Application',
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name,
    // An Argo CD state that is neither ready nor failed is worth a look.
    status: badge(
      c.state === 'ready' || c.state === 'failed' ? c.state : 'out-of-sync',
      `${sync} · ${health}`,
    ),
    revision: short(c.revision),
    message: c.message ?? '',
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
