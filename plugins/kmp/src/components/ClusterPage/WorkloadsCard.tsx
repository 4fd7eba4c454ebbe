import {
  EmptyState,
  InfoCard,
  Progress,
  StatusError,
  StatusOK,
  StatusPending,
  StatusWarning,
} from '@backstage/core-components';
import { useApi } from '@backstage/core-plugin-api';
import Button from '@material-ui/core/Button';
import MenuItem from '@material-ui/core/MenuItem';
import Table from '@material-ui/core/Table';
import TableBody from '@material-ui/core/TableBody';
import TableCell from '@material-ui/core/TableCell';
import TableHead from '@material-ui/core/TableHead';
import TableRow from '@material-ui/core/TableRow';
import TextField from '@material-ui/core/TextField';
import Typography from '@material-ui/core/Typography';
import { useState } from 'react';
import { KubernetesObject, kmpApiRef, WorkloadKind } from '../../api';
import { useBrokerList } from '../../hooks';
import { GitOpsNotice, GuardedAction, PodLogsDialog } from '../Operations';
import { visibilityOf } from '../Operations/GuardedAction';
import { BrokerErrorState } from './BrokerErrorState';
import { useKmpCluster } from './KmpClusterContext';

type Workload = KubernetesObject & {
  spec?: { replicas?: number };
  status?: {
    replicas?: number;
    readyReplicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
  };
};

type Pod = KubernetesObject & {
  spec?: { containers?: Array<{ name: string }> };
  status?: {
    phase?: string;
    containerStatuses?: Array<{
      name: string;
      ready: boolean;
      restartCount: number;
    }>;
  };
};

const ALL = '*';

function readyOf(kind: WorkloadKind, w: Workload): [number, number] {
  if (kind === 'DaemonSet') {
    return [w.status?.numberReady ?? 0, w.status?.desiredNumberScheduled ?? 0];
  }
  return [w.status?.readyReplicas ?? 0, w.spec?.replicas ?? 0];
}

function Ready(props: { ready: number; desired: number }) {
  const text = `${props.ready}/${props.desired} ready`;
  if (props.desired === 0) return <StatusPending>{text}</StatusPending>;
  if (props.ready >= props.desired) return <StatusOK>{text}</StatusOK>;
  if (props.ready === 0) return <StatusError>{text}</StatusError>;
  return <StatusWarning>{text}</StatusWarning>;
}

function PodPhase(props: { pod: Pod }) {
  const phase = props.pod.status?.phase ?? 'Unknown';
  switch (phase) {
    case 'Running':
    case 'Succeeded':
      return <StatusOK>{phase}</StatusOK>;
    case 'Pending':
      return <StatusPending>{phase}</StatusPending>;
    case 'Failed':
      return <StatusError>{phase}</StatusError>;
    default:
      return <StatusWarning>{phase}</StatusWarning>;
  }
}

function ScaleAction(props: {
  kind: WorkloadKind;
  workload: Workload;
  onDone(): void;
}) {
  const { cluster, permissions } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const current = props.workload.spec?.replicas ?? 0;
  const [replicas, setReplicas] = useState(String(current));
  const n = Number(replicas);
  const valid = /^\d{1,4}$/.test(replicas) && n <= 1000;
  const { name, namespace = '' } = props.workload.metadata;
  return (
    <GuardedAction
      decision={permissions.decide('scale')}
      label="Scale"
      ariaLabel={`Scale ${props.kind} ${name}`}
      title={`Scale ${props.kind} ${namespace}/${name}`}
      description={`Currently ${current} replicas on ${cluster.name}.`}
      confirmDisabled={!valid}
      onConfirm={() =>
        kmpApi.scaleWorkload(
          cluster.name,
          { namespace, kind: props.kind, name },
          n,
        )
      }
      onDone={props.onDone}
    >
      <TextField
        id="kmp-scale-replicas"
        label="Replicas"
        type="number"
        value={replicas}
        onChange={e => setReplicas(e.target.value)}
        error={!valid}
        helperText={valid ? undefined : 'a whole number from 0 to 1000'}
        inputProps={{ min: 0, max: 1000 }}
      />
    </GuardedAction>
  );
}

function WorkloadRow(props: {
  kind: WorkloadKind;
  workload: Workload;
  onChange(): void;
}) {
  const { cluster, permissions } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const { kind, workload } = props;
  const { name, namespace = '' } = workload.metadata;
  const [ready, desired] = readyOf(kind, workload);
  return (
    <TableRow>
      <TableCell>{kind}</TableCell>
      <TableCell>{namespace}</TableCell>
      <TableCell>{name}</TableCell>
      <TableCell>
        <Ready ready={ready} desired={desired} />
      </TableCell>
      <TableCell>
        <GuardedAction
          decision={permissions.decide('restart')}
          label="Restart"
          ariaLabel={`Restart ${kind} ${name}`}
          title={`Restart ${kind} ${namespace}/${name}?`}
          description={`Every pod of ${name} on ${cluster.name} is replaced, one by one, like kubectl rollout restart.`}
          onConfirm={() =>
            kmpApi.restartWorkload(cluster.name, { namespace, kind, name })
          }
          onDone={props.onChange}
        />{' '}
        {kind !== 'DaemonSet' && (
          <ScaleAction
            kind={kind}
            workload={workload}
            onDone={props.onChange}
          />
        )}
      </TableCell>
    </TableRow>
  );
}

function PodRow(props: { pod: Pod; onChange(): void }) {
  const { cluster, permissions } = useKmpCluster();
  const kmpApi = useApi(kmpApiRef);
  const [logsOpen, setLogsOpen] = useState(false);
  const { pod } = props;
  const { name, namespace = '' } = pod.metadata;
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = (pod.spec?.containers ?? []).map(c => c.name);
  const restarts = statuses.reduce((sum, s) => sum + s.restartCount, 0);
  const logs = permissions.decide('logs');
  return (
    <TableRow>
      <TableCell>{namespace}</TableCell>
      <TableCell>{name}</TableCell>
      <TableCell>
        <PodPhase pod={pod} />
      </TableCell>
      <TableCell>
        {statuses.filter(s => s.ready).length}/{containers.length}
      </TableCell>
      <TableCell>{restarts}</TableCell>
      <TableCell>
        {visibilityOf(logs) === 'enabled' && (
          <Button
            size="small"
            variant="outlined"
            aria-label={`Logs of ${name}`}
            onClick={() => setLogsOpen(true)}
          >
            Logs
          </Button>
        )}{' '}
        <GuardedAction
          decision={permissions.decide('delete-pod')}
          label="Delete"
          ariaLabel={`Delete pod ${name}`}
          destructive
          title={`Delete pod ${namespace}/${name}?`}
          description="Its controller, if any, starts a replacement."
          onConfirm={() => kmpApi.deletePod(cluster.name, { namespace, name })}
          onDone={props.onChange}
        />
        {logsOpen && (
          <PodLogsDialog
            open
            cluster={cluster.name}
            namespace={namespace}
            pod={name}
            containers={containers}
            onClose={() => setLogsOpen(false)}
          />
        )}
      </TableCell>
    </TableRow>
  );
}

function PodsTable(props: { namespace: string; namespaces: string[] }) {
  const { cluster, permissions } = useKmpCluster();
  const scoped = permissions.readScope === 'own-namespaces';
  const nsPath = (ns: string) =>
    `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`;
  let paths: string | string[] = nsPath(props.namespace);
  if (props.namespace === ALL) {
    paths = scoped ? props.namespaces.map(nsPath) : '/api/v1/pods?limit=500';
  }
  const pods = useBrokerList<Pod>(cluster.name, paths, { optional: scoped });
  if (pods.loading) return <Progress />;
  if (pods.error) return <BrokerErrorState error={pods.error} what="pods" />;
  if (!pods.value?.length) {
    return (
      <Typography variant="body2" color="textSecondary">
        No pods.
      </Typography>
    );
  }
  return (
    <Table size="small" aria-label="pods">
      <TableHead>
        <TableRow>
          <TableCell>Namespace</TableCell>
          <TableCell>Pod</TableCell>
          <TableCell>Phase</TableCell>
          <TableCell>Ready</TableCell>
          <TableCell>Restarts</TableCell>
          <TableCell>Actions</TableCell>
        </TableRow>
      </TableHead>
      <TableBody>
        {pods.value.map(pod => (
          <PodRow
            key={`${pod.metadata.namespace}/${pod.metadata.name}`}
            pod={pod}
            onChange={pods.retry}
          />
        ))}
      </TableBody>
    </Table>
  );
}

/**
 * Deployments, StatefulSets and DaemonSets with their ready counts, and the
 * pods of a namespace, with the operational controls the viewer's persona
 * allows (restart, scale, logs, delete pod), all through the broker.
 */
export function WorkloadsCard() {
  const { cluster, permissions } = useKmpCluster();
  const scoped = permissions.readScope === 'own-namespaces';
  // Developers read only their team's tenant namespaces, so they ask per
  // namespace instead of across the cluster.
  const paths = (resource: string) => {
    if (permissions.loading) return undefined;
    return scoped
      ? permissions.teams.map(
          ns =>
            `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/${resource}`,
        )
      : `/apis/apps/v1/${resource}`;
  };
  const options = { optional: scoped };
  const deployments = useBrokerList<Workload>(
    cluster.name,
    paths('deployments'),
    options,
  );
  const statefulSets = useBrokerList<Workload>(
    cluster.name,
    paths('statefulsets'),
    options,
  );
  const daemonSets = useBrokerList<Workload>(
    cluster.name,
    paths('daemonsets'),
    options,
  );
  const [namespace, setNamespace] = useState<string>();

  const lists: Array<[WorkloadKind, typeof deployments]> = [
    ['Deployment', deployments],
    ['StatefulSet', statefulSets],
    ['DaemonSet', daemonSets],
  ];
  const reloadAll = () => lists.forEach(([, l]) => l.retry());
  const loading = permissions.loading || lists.some(([, l]) => l.loading);
  const error = lists.map(([, l]) => l.error).find(Boolean);
  const rows = lists.flatMap(([kind, l]) =>
    (l.value ?? []).map(workload => ({ kind, workload })),
  );
  const namespaces = [
    ...new Set(rows.map(r => r.workload.metadata.namespace ?? '')),
  ].sort();
  const selected = namespace ?? namespaces[0] ?? ALL;
  const visible = rows.filter(
    r => selected === ALL || r.workload.metadata.namespace === selected,
  );
  const notice = (['restart', 'scale', 'delete-pod'] as const)
    .map(a => permissions.decide(a))
    .find(d => visibilityOf(d) === 'disabled');

  let content;
  if (loading && rows.length === 0) {
    content = <Progress />;
  } else if (error) {
    content = <BrokerErrorState error={error} what="workloads" />;
  } else if (rows.length === 0) {
    content = (
      <EmptyState
        missing="data"
        title="No workloads you may see"
        description="No Deployment, StatefulSet or DaemonSet on this cluster is visible to you."
      />
    );
  } else {
    content = (
      <>
        {notice && <GitOpsNotice decision={notice} />}
        <TextField
          select
          id="kmp-workloads-namespace"
          label="Namespace"
          value={selected}
          onChange={e => setNamespace(e.target.value)}
          style={{ minWidth: 240 }}
        >
          <MenuItem value={ALL}>All namespaces</MenuItem>
          {namespaces.map(ns => (
            <MenuItem key={ns} value={ns}>
              {ns}
            </MenuItem>
          ))}
        </TextField>
        <Table size="small" aria-label="workloads">
          <TableHead>
            <TableRow>
              <TableCell>Kind</TableCell>
              <TableCell>Namespace</TableCell>
              <TableCell>Name</TableCell>
              <TableCell>Ready</TableCell>
              <TableCell>Actions</TableCell>
            </TableRow>
          </TableHead>
          <TableBody>
            {visible.map(({ kind, workload }) => (
              <WorkloadRow
                key={`${kind}/${workload.metadata.namespace}/${workload.metadata.name}`}
                kind={kind}
                workload={workload}
                onChange={reloadAll}
              />
            ))}
          </TableBody>
        </Table>
        <Typography variant="h6" style={{ marginTop: 16 }}>
          Pods
        </Typography>
        <PodsTable namespace={selected} namespaces={namespaces} />
      </>
    );
  }
  return <InfoCard title="Workloads">{content}</InfoCard>;
}
