import { LoggerService } from '@backstage/backend-plugin-api';
import {
  ClusterCredentials,
  ClusterGitOpsObject,
  PolicyInstallation,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { X509Certificate } from 'node:crypto';
import { ClusterStore } from '../registry/ClusterStore';
import { PolicyStore } from '../policy/PolicyStore';
import { AlertCondition, AlertStore, KmpAlert } from './AlertStore';
import {
  AlertRuleName,
  AlertRuleSettings,
  CertificateExpirySettings,
} from './config';

const PAGE = 500;

function clusterLabels(cluster: RegisteredCluster): Record<string, string> {
  return {
    environment: cluster.environment,
    environment_group: cluster.environmentGroup,
    region: cluster.region,
    source: 'kmp',
  };
}

/**
 * How much of an alert's description the GitOps objects may take (the
 * store keeps 4000 characters): whole entries only, then "and N more".
 */
const GITOPS_DESCRIPTION_BUDGET = 3000;

type AddCondition = (
  rule: AlertRuleName,
  condition: Omit<AlertCondition, 'cluster' | 'labels' | 'forSeconds'> & {
    labels?: Record<string, string>;
  },
) => void;

/** `Kustomization flux-system/infrastructure: BuildFailed — kustomize build failed…; and 3 more` */
function describeGitOpsObjects(
  objects: ClusterGitOpsObject[],
  total: number,
): string {
  const lines: string[] = [];
  let length = 0;
  for (const o of objects) {
    const text = [o.reason?.slice(0, 100), o.message?.slice(0, 200)]
      .filter(Boolean)
      .join(' — ');
    const line = `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}${
      text ? `: ${text}` : ''
    }`;
    if (lines.length > 0 && length + line.length > GITOPS_DESCRIPTION_BUDGET) {
      break;
    }
    lines.push(line);
    length += line.length + 2;
  }
  const more = total - lines.length;
  return `${lines.join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
}

const ENGINE_NAMES: Record<ClusterGitOpsObject['engine'], string> = {
  flux: 'Flux',
  argocd: 'Argo CD',
};

/**
 * GitOps reconciliation failures and drift, from the GitOps state the
 * registry's refresh loop last listed completely. One alert per cluster and
 * condition, naming the objects; `engine` when they are all one engine's.
 */
function gitopsConditions(cluster: RegisteredCluster, add: AddCondition) {
  const gitops = cluster.status.gitops;
  if (!gitops) return;
  /** The one engine of all the objects, if they share one. */
  const engineOf = (objects: ClusterGitOpsObject[]) => {
    const engines = new Set(objects.map(o => o.engine));
    return engines.size === 1 ? [...engines][0] : undefined;
  };
  const checked = gitops.checkedAt ? ` (checked ${gitops.checkedAt})` : '';
  const failing = Math.max(gitops.failingCount, gitops.failing.length);
  if (failing > 0) {
    const engine = engineOf(gitops.failing);
    add('gitopsReconciliation', {
      alertname: 'KmpGitOpsReconciliationFailing',
      severity: 'high',
      summary: `${failing} GitOps object${
        failing === 1 ? '' : 's'
      } failing to reconcile on ${cluster.name}`,
      description: `${
        engine
          ? `${ENGINE_NAMES[engine]} reports`
          : 'The GitOps controllers report'
      } ${failing} of ${gitops.objects} objects on ${
        cluster.name
      } failing${checked}: ${describeGitOpsObjects(
        gitops.failing,
        failing,
      )}. The cluster is not converging on what Git declares.`,
      labels: engine ? { engine } : {},
    });
  }
  const drifting = Math.max(gitops.outOfSyncCount, gitops.outOfSync.length);
  if (drifting > 0) {
    add('gitopsDrift', {
      alertname: 'KmpGitOpsOutOfSync',
      severity: 'high',
      summary: `${drifting} Argo CD application${
        drifting === 1 ? '' : 's'
      } out of sync on ${cluster.name}`,
      description: `${drifting} Argo CD application${
        drifting === 1 ? ' differs' : 's differ'
      } from what Git declares on ${
        cluster.name
      }${checked}: ${describeGitOpsObjects(
        gitops.outOfSync,
        drifting,
      )}. Sync them, or find who changed the cluster outside GitOps.`,
      labels: { engine: 'argocd' },
    });
  }
}

/** At most this many nodes are named in an alert's description. */
const NODES_IN_DESCRIPTION = 20;

/** `node-a, node-b and 3 more` */
function describeNodes(names: string[], total: number): string {
  const shown = names.slice(0, NODES_IN_DESCRIPTION);
  const more = total - shown.length;
  return `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

const plural = (n: number, one: string, many: string) =>
  `${n} ${n === 1 ? one : many}`;

/**
 * Node pressure, cordoned nodes and nodes without network (a CNI failure),
 * from the node list the registry's refresh loop last read. One alert per
 * cluster and condition, naming the nodes.
 */
function nodeConditions(cluster: RegisteredCluster, add: AddCondition) {
  const problems = cluster.status.nodeProblems;
  if (!problems) return;
  const checked = problems.checkedAt ? ` (checked ${problems.checkedAt})` : '';
  const pressure = Math.max(problems.pressureCount, problems.pressure.length);
  if (pressure > 0) {
    add('nodePressure', {
      alertname: 'KmpNodePressure',
      severity: 'high',
      summary: `${plural(pressure, 'node', 'nodes')} of ${
        cluster.name
      } under resource pressure`,
      description: `${plural(pressure, 'node', 'nodes')} of ${cluster.name} ${
        pressure === 1 ? 'reports' : 'report'
      } resource pressure${checked}: ${describeNodes(
        problems.pressure.map(p => `${p.node} (${p.conditions.join(', ')})`),
        pressure,
      )}. The kubelet evicts pods and refuses new ones until it is relieved; add capacity or find what consumes it.`,
    });
  }
  const cordoned = Math.max(
    problems.unschedulableCount,
    problems.unschedulable.length,
  );
  if (cordoned > 0) {
    add('nodesUnschedulable', {
      alertname: 'KmpNodesUnschedulable',
      severity: 'high',
      summary: `${plural(cordoned, 'node', 'nodes')} of ${
        cluster.name
      } cordoned`,
      description: `${plural(cordoned, 'node', 'nodes')} of ${cluster.name} ${
        cordoned === 1 ? 'is' : 'are'
      } marked unschedulable${checked}: ${describeNodes(
        problems.unschedulable,
        cordoned,
      )}. No new pods are placed on ${
        cordoned === 1 ? 'it' : 'them'
      }; finish the maintenance and uncordon (kubectl uncordon), or drain and remove ${
        cordoned === 1 ? 'it' : 'them'
      }.`,
    });
  }
  const offline = Math.max(
    problems.networkUnavailableCount,
    problems.networkUnavailable.length,
  );
  if (offline > 0) {
    add('nodeNetworkUnavailable', {
      alertname: 'KmpNodeNetworkUnavailable',
      severity: 'critical',
      summary: `Network unavailable on ${plural(offline, 'node', 'nodes')} of ${
        cluster.name
      }`,
      description: `${plural(offline, 'node', 'nodes')} of ${cluster.name} ${
        offline === 1 ? 'reports' : 'report'
      } NetworkUnavailable${checked}: ${describeNodes(
        problems.networkUnavailable,
        offline,
      )}. The node's network (the CNI plugin) is not set up, so pods there cannot start or reach the cluster; check the CNI daemon set on ${
        offline === 1 ? 'that node' : 'those nodes'
      }.`,
    });
  }
}

/**
 * The structural conditions of one cluster, from what the registry's
 * refresh loop last observed (it probes every directly connected cluster;
 * the alerts never probe a second time) and from the policy domain's
 * drift check of the installed admission policies.
 */
export function clusterConditions(
  cluster: RegisteredCluster,
  installation: PolicyInstallation | undefined,
  rules: Record<AlertRuleName, AlertRuleSettings>,
): AlertCondition[] {
  const conditions: AlertCondition[] = [];
  const labels = clusterLabels(cluster);
  const status = cluster.status;
  const add: AddCondition = (rule, condition) => {
    if (!rules[rule].enabled) return;
    conditions.push({
      ...condition,
      cluster: cluster.name,
      labels: { ...labels, ...condition.labels },
      forSeconds: rules[rule].forSeconds,
    });
  };

  if (cluster.lifecycleState === 'unreachable') {
    add('clusterUnreachable', {
      alertname: 'KmpClusterUnreachable',
      severity: 'critical',
      summary: `Cluster ${cluster.name} is unreachable from KMP`,
      description: `The API server of ${cluster.name} did not answer ${
        status.consecutiveFailures
      } consecutive health probes; last seen ${status.lastSeenAt ?? 'never'}.${
        status.lastError ? ` Last error: ${status.lastError}` : ''
      }`,
    });
  } else if (
    cluster.lifecycleState === 'active' ||
    cluster.lifecycleState === 'degraded'
  ) {
    if (status.controlPlaneHealthy === false) {
      add('controlPlaneUnhealthy', {
        alertname: 'KmpControlPlaneUnhealthy',
        severity: 'critical',
        summary: `Control plane of ${cluster.name} reports not ready`,
        description: `The API server of ${
          cluster.name
        } answers, but its /readyz check fails (checked ${
          status.lastCheckedAt ?? 'unknown'
        }): a control-plane component such as etcd, the scheduler or an admission webhook is failing.`,
      });
    }
    if (
      status.nodeCount !== undefined &&
      status.nodesReady !== undefined &&
      status.nodeCount > 0 &&
      status.nodesReady < status.nodeCount
    ) {
      add('nodesNotReady', {
        alertname: 'KmpNodesNotReady',
        severity: 'high',
        summary: `${status.nodeCount - status.nodesReady} of ${
          status.nodeCount
        } nodes of ${cluster.name} are not ready`,
        description: `${status.nodesReady} of ${status.nodeCount} nodes of ${cluster.name} report Ready; workloads on the others cannot be scheduled or may be evicted.`,
      });
    }
    nodeConditions(cluster, add);
    gitopsConditions(cluster, add);
  }

  if (installation?.drift.status === 'drifted') {
    const details = installation.drift.details.slice(0, 5).join('; ');
    add('policyDrift', {
      alertname: 'KmpAdmissionPolicyDrift',
      severity: 'high',
      summary: `Admission policies of ${cluster.name} drifted from bundle ${installation.bundleVersion}`,
      description: `The admission policies on ${
        cluster.name
      } no longer match the governed bundle ${installation.bundleVersion} (${
        installation.mode
      }, checked ${installation.drift.checkedAt ?? 'unknown'})${
        details ? `: ${details}` : ''
      }. Admission control may not enforce what the cluster profile requires.`,
      labels: { bundle_version: installation.bundleVersion },
    });
  }
  return conditions;
}

const DAY_MS = 86_400_000;
const PEM_CERTIFICATE =
  /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** What a certificate KMP holds for a cluster is, and when it expires. */
export interface HeldCertificate {
  /**
   * KMP's client certificate, the CA it trusts the cluster with, or the API
   * server's own serving certificate (as the refresh loop last saw it).
   */
  kind: 'client' | 'ca' | 'serving';
  notAfter: Date;
  subject: string;
}

/**
 * The certificates among a cluster's credentials: KMP's client certificate
 * and the CA it trusts the API server with (the earliest-expiring one of a
 * bundle). Only dates and subjects leave this function, never key material.
 */
export function heldCertificates(
  credentials: ClusterCredentials | undefined,
): HeldCertificate[] {
  const held: HeldCertificate[] = [];
  const earliest = (pem: string | undefined) => {
    let first: X509Certificate | undefined;
    for (const block of pem?.match(PEM_CERTIFICATE) ?? []) {
      try {
        const cert = new X509Certificate(block);
        if (!first || Date.parse(cert.validTo) < Date.parse(first.validTo)) {
          first = cert;
        }
      } catch {
        // Not a certificate the registry would have accepted; skip it.
      }
    }
    return first;
  };
  for (const [kind, pem] of [
    ['client', credentials?.clientCertificate],
    ['ca', credentials?.certificateAuthority],
  ] as const) {
    const cert = earliest(pem);
    if (cert) {
      held.push({
        kind,
        notAfter: new Date(cert.validTo),
        subject: cert.subject.replace(/\n/g, ', '),
      });
    }
  }
  return held;
}

/** The API server's serving certificate the registry last observed. */
export function servingCertificateOf(
  cluster: RegisteredCluster,
): HeldCertificate[] {
  const serving = cluster.status.servingCertificate;
  return serving
    ? [
        {
          kind: 'serving',
          notAfter: new Date(serving.notAfter),
          subject: serving.subject,
        },
      ]
    : [];
}

const CERTIFICATE_TEXT: Record<
  HeldCertificate['kind'],
  { alertname: string; what: (cluster: string) => string; remedy: string }
> = {
  client: {
    alertname: 'KmpClientCertificateExpiring',
    what: cluster => `The client certificate KMP uses for ${cluster}`,
    remedy:
      'Once it expires KMP, and everything that reaches the cluster through KMP, loses access; rotate it in the registry',
  },
  ca: {
    alertname: 'KmpClusterCACertificateExpiring',
    what: cluster =>
      `The CA certificate KMP trusts the API server of ${cluster} with`,
    remedy:
      'Once it expires KMP, and everything that reaches the cluster through KMP, loses access; rotate it in the registry',
  },
  serving: {
    alertname: 'KmpServingCertificateExpiring',
    what: cluster => `The serving certificate of the API server of ${cluster}`,
    remedy:
      "Once it expires every client, KMP included, refuses the API server; renew it on the cluster (for example `kubeadm certs renew apiserver`, or your provider's rotation), then check the CA KMP trusts in the registry",
  },
};

/** Alerts for certificates that expire within the warning window. */
export function certificateConditions(
  cluster: RegisteredCluster,
  certificates: HeldCertificate[],
  settings: AlertRuleSettings & CertificateExpirySettings,
  now: Date,
): AlertCondition[] {
  if (!settings.enabled) return [];
  const conditions: AlertCondition[] = [];
  for (const cert of certificates) {
    const left = (cert.notAfter.getTime() - now.getTime()) / DAY_MS;
    if (left > settings.warnDays) continue;
    const text = CERTIFICATE_TEXT[cert.kind];
    const what = text.what(cluster.name);
    const when =
      left <= 0
        ? `expired ${Math.floor(-left)} day(s) ago`
        : `expires in ${Math.floor(left)} day(s)`;
    conditions.push({
      cluster: cluster.name,
      alertname: text.alertname,
      severity: left <= settings.criticalDays ? 'critical' : 'high',
      summary: `${what} ${when}`,
      description: `${what} (${
        cert.subject
      }) is valid until ${cert.notAfter.toISOString()}. ${
        text.remedy
      } (PATCH /clusters/${cluster.name} with new credentials).`,
      labels: { ...clusterLabels(cluster), certificate: cert.kind },
      forSeconds: settings.forSeconds,
    });
  }
  return conditions;
}

/**
 * Evaluates the alert rules over the fleet: reads the stored observations
 * page by page, and reconciles the alert store with the conditions that
 * hold. Runs as one scheduled task across all backend instances.
 */
export class AlertEvaluator {
  /** Certificates per cluster, re-read only when the cluster's revision moves. */
  private readonly certificates = new Map<
    string,
    { revision: number; held: HeldCertificate[] }
  >();

  private constructor(
    private readonly alerts: AlertStore,
    private readonly clusters: ClusterStore,
    private readonly policies: PolicyStore,
    private readonly rules: Record<AlertRuleName, AlertRuleSettings>,
    private readonly certificateSettings: CertificateExpirySettings,
    private readonly credentialsOf:
      | ((name: string) => Promise<ClusterCredentials | undefined>)
      | undefined,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    alerts: AlertStore;
    clusters: ClusterStore;
    policies: PolicyStore;
    rules: Record<AlertRuleName, AlertRuleSettings>;
    certificates?: CertificateExpirySettings;
    /** Decrypted credentials of a cluster (the registry's), for certificate expiry. */
    credentialsOf?: (name: string) => Promise<ClusterCredentials | undefined>;
    logger: LoggerService;
  }) {
    return new AlertEvaluator(
      options.alerts,
      options.clusters,
      options.policies,
      options.rules,
      options.certificates ?? { warnDays: 30, criticalDays: 7 },
      options.credentialsOf,
      options.logger,
    );
  }

  /**
   * The certificates KMP holds for a cluster. Credentials change only with
   * a new cluster revision, so they are decrypted once per revision.
   */
  private async certificatesOf(
    cluster: RegisteredCluster,
  ): Promise<HeldCertificate[]> {
    if (!this.credentialsOf) return [];
    const cached = this.certificates.get(cluster.name);
    if (cached && cached.revision === cluster.revision) return cached.held;
    let held: HeldCertificate[] = [];
    try {
      held = heldCertificates(await this.credentialsOf(cluster.name));
    } catch (error) {
      this.logger.debug(
        `Alerts: cannot read the certificates of cluster ${cluster.name}: ${
          (error as Error).name
        }`,
      );
    }
    this.certificates.set(cluster.name, { revision: cluster.revision, held });
    return held;
  }

  async evaluate(
    now = new Date(),
  ): Promise<{ clusters: number; fired: KmpAlert[]; resolved: KmpAlert[] }> {
    const conditions: AlertCondition[] = [];
    let clusters = 0;
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.clusters.list({
        orderBy: 'name',
        limit: PAGE,
        offset,
      });
      const installations = new Map(
        page.items.length === 0
          ? []
          : (
              await this.policies.listInstallations({
                clusters: page.items.map(c => c.name),
                limit: PAGE,
                offset: 0,
              })
            ).items.map(i => [i.cluster, i]),
      );
      for (const cluster of page.items) {
        conditions.push(
          ...clusterConditions(
            cluster,
            installations.get(cluster.name),
            this.rules,
          ),
          ...certificateConditions(
            cluster,
            [
              ...(await this.certificatesOf(cluster)),
              ...servingCertificateOf(cluster),
            ],
            { ...this.rules.certificateExpiry, ...this.certificateSettings },
            now,
          ),
        );
      }
      clusters += page.items.length;
      if (page.items.length < PAGE) break;
    }
    // Alerts of clusters that are gone (decommissioned) resolve here too:
    // their conditions are no longer among those that hold.
    const { fired, resolved } = await this.alerts.reconcile(conditions, {
      now,
      clusters,
    });
    for (const alert of fired) {
      this.logger.info(
        `Alert ${alert.alertname} firing for cluster ${alert.cluster} (${alert.fingerprint})`,
      );
    }
    for (const alert of resolved) {
      this.logger.info(
        `Alert ${alert.alertname} resolved for cluster ${alert.cluster} (${alert.fingerprint})`,
      );
    }
    return { clusters, fired, resolved };
  }
}
