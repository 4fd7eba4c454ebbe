import { createApiRef } from '@backstage/core-plugin-api';
import {
  BreakGlassListQuery,
  BreakGlassRequest,
  BreakGlassRequestInput,
  BreakGlassStepResult,
  ClusterProfile,
  EnvironmentGroup,
  Persona,
  PolicyComplianceReport,
  PolicyInstallation,
  PolicyEvaluateRequest,
  PolicyEvaluateResponse,
  RegisteredCluster,
  StoredAuditEvent,
} from '@kmp/plugin-kmp-common';
import {
  BrokerResult,
  IssuedKubeconfig,
  KubeconfigRequest,
  KubeconfigToken,
  KubernetesObject,
  PodLogOptions,
  PodLogStream,
  WorkloadRef,
} from './broker';

// The break-glass shapes are the common package's; re-exported so that
// callers of this plugin's API need not depend on it.
export type {
  BreakGlassListQuery,
  BreakGlassRequest,
  BreakGlassRequestInput,
  BreakGlassState,
  BreakGlassStepResult,
} from '@kmp/plugin-kmp-common';

/** @public */
export interface KmpHealth {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
}

/** @public */
export interface ClusterListQuery {
  environment?: string[];
  environmentGroup?: string[];
  region?: string[];
  profile?: string[];
  state?: string[];
  connectivity?: string[];
  q?: string;
  orderBy?:
    | 'name'
    | 'environment'
    | 'environmentGroup'
    | 'region'
    | 'lifecycleState'
    | 'kubernetesVersion'
    | 'updatedAt';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

/** @public */
export interface ClusterSummary {
  total: number;
  byLifecycleState: Record<string, number>;
  byEnvironment: Record<string, number>;
  byConnectivity: Record<string, number>;
}

/** @public */
export type KmpAlertSeverity = 'critical' | 'high';

/**
 * A structural alert KMP raised for a cluster (firing = open).
 *
 * @public
 */
export interface KmpAlert {
  fingerprint: string;
  cluster: string;
  alertname: string;
  severity: KmpAlertSeverity;
  status: 'firing' | 'resolved';
  summary: string;
  description: string;
  labels: Record<string, string>;
  startsAt: string;
  endsAt?: string;
}

/**
 * Whether alert rules are evaluated at all: an empty list means "nothing
 * wrong" only when `enabled` and `lastEvaluatedAt` are set.
 *
 * @public
 */
export interface KmpAlertEvaluation {
  enabled: boolean;
  intervalSeconds: number;
  lastEvaluatedAt?: string;
  /** How many out-of-band receivers are configured. */
  receivers: number;
}

/** @public */
export interface KmpAlertListQuery {
  cluster?: string[];
  status?: Array<'firing' | 'resolved'>;
  severity?: KmpAlertSeverity[];
  limit?: number;
  offset?: number;
}

/** @public */
export interface KmpAlertPage {
  items: KmpAlert[];
  totalCount: number;
  evaluation: KmpAlertEvaluation;
}

/**
 * Firing alerts by severity, fleet-wide and per cluster (only clusters with
 * firing alerts are listed).
 *
 * @public
 */
export interface KmpAlertSummary {
  firing: number;
  bySeverity: Record<string, number>;
  clusters: Array<{
    cluster: string;
    firing: number;
    bySeverity: Record<string, number>;
  }>;
  evaluation: KmpAlertEvaluation;
}

/**
 * Client of the KMP backend (`/api/kmp`).
 *
 * @public
 */
export interface KmpApi {
  getHealth(): Promise<KmpHealth>;
  /** Alerts of the clusters the viewer may see, firing first. */
  listAlerts(query?: KmpAlertListQuery): Promise<KmpAlertPage>;
  /** Alerts of one cluster, firing first. */
  listClusterAlerts(
    cluster: string,
    query?: Omit<KmpAlertListQuery, 'cluster'>,
  ): Promise<KmpAlertPage>;
  /** Open-alert counts, optionally for some clusters only (a fleet page). */
  getAlertSummary(query?: { cluster?: string[] }): Promise<KmpAlertSummary>;
  listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }>;
  /** One page of clusters; `signal` cancels a request whose answer is no longer wanted. */
  listClusters(
    query?: ClusterListQuery,
    options?: { signal?: AbortSignal },
  ): Promise<{ items: RegisteredCluster[]; totalCount: number }>;
  getClusterSummary(): Promise<ClusterSummary>;
  /** One page of audit events, newest first unless `order: 'asc'`. */
  listAuditEvents(query?: AuditEventListQuery): Promise<AuditEventPage>;
  /** Every audit event matching the filter, as the backend's export streams it. */
  exportAuditEvents(
    query: AuditEventQuery,
    format: AuditExportFormat,
  ): Promise<Blob>;
  /** Recomputes the audit hash chain on the backend. */
  verifyAuditChain(): Promise<AuditVerifyResult>;
  /** The signed-in user's personas per environment group. */
  getMe(): Promise<KmpMe>;
  listProfiles(): Promise<{ items: ClusterProfile[] }>;
  listComplianceSummaries(query?: {
    limit?: number;
    offset?: number;
    /** Only these clusters (at most 100). */
    name?: string[];
  }): Promise<{ items: ClusterComplianceSummary[]; totalCount: number }>;
  /**
   * The signed-in user's tenant namespaces on a cluster that belong to one
   * of the teams (labelled `kmp.backstage.io/team`), whatever their names.
   */
  listTenantNamespaces(
    cluster: string,
    teams: string[],
  ): Promise<TenantNamespace[]>;

  // Cluster page: registry record, compliance, policy pre-flight.
  getCluster(name: string): Promise<RegisteredCluster>;
  getClusterCompliance(cluster: string): Promise<PolicyComplianceReport>;
  /**
   * Installs the cluster's governed policy bundle: server-side apply, or a
   * commit to its GitOps repository (`gitops`); the backend's configured
   * mode without `mode`. Platform engineers (kmp.policy.manage).
   */
  distributePolicies(
    cluster: string,
    mode?: 'apply' | 'gitops',
  ): Promise<PolicyInstallation>;
  /** Checks drift and scans the cluster's live objects now. */
  scanCompliance(cluster: string): Promise<PolicyComplianceReport>;
  evaluatePolicies(
    request: PolicyEvaluateRequest,
  ): Promise<PolicyEvaluateResponse>;

  // Just-in-time kubeconfigs.
  issueKubeconfig(
    cluster: string,
    request?: KubeconfigRequest,
  ): Promise<IssuedKubeconfig>;
  listKubeconfigTokens(): Promise<{ items: KubeconfigToken[] }>;
  revokeKubeconfigToken(id: string): Promise<KubeconfigToken>;

  // Break-glass with four eyes (`/break-glass/requests`).
  /** Asks for a time-boxed grant on a production or edge cluster. */
  requestBreakGlass(
    input: BreakGlassRequestInput,
  ): Promise<BreakGlassStepResult>;
  /**
   * The caller's own requests and, for approvers, everybody's pending
   * requests and live grants; newest first.
   */
  listBreakGlassRequests(
    query?: BreakGlassListQuery,
  ): Promise<{ items: BreakGlassRequest[] }>;
  getBreakGlassRequest(id: string): Promise<BreakGlassRequest>;
  /** Approves somebody else's pending request (never one's own). */
  approveBreakGlassRequest(
    id: string,
    options?: { comment?: string },
  ): Promise<BreakGlassStepResult>;
  /** Denies somebody else's pending request (never one's own). */
  denyBreakGlassRequest(
    id: string,
    options?: { comment?: string },
  ): Promise<BreakGlassStepResult>;
  /** Ends a live grant, or withdraws a pending request, at once. */
  revokeBreakGlassRequest(
    id: string,
    options?: { reason?: string },
  ): Promise<BreakGlassStepResult>;

  /**
   * A raw request through the access broker to the cluster's Kubernetes API
   * (`path` starts with `/api`, `/apis`, `/version` …) as the signed-in
   * user. The response is returned as it is, refusals included.
   */
  proxy(cluster: string, path: string, init?: RequestInit): Promise<Response>;
  /**
   * A JSON request through the broker; refusals and failures throw a
   * {@link KmpBrokerError} carrying the Status message and the audit id.
   */
  proxyJson<T>(
    cluster: string,
    path: string,
    init?: RequestInit,
  ): Promise<BrokerResult<T>>;

  // Operational actions through the broker.
  restartWorkload(
    cluster: string,
    target: WorkloadRef,
  ): Promise<BrokerResult<unknown>>;
  scaleWorkload(
    cluster: string,
    target: WorkloadRef,
    replicas: number,
  ): Promise<BrokerResult<unknown>>;
  deletePod(
    cluster: string,
    target: { namespace: string; name: string },
  ): Promise<BrokerResult<unknown>>;
  streamPodLogs(
    cluster: string,
    target: { namespace: string; name: string },
    options?: PodLogOptions,
  ): Promise<PodLogStream>;
  /** Server-side apply (`fieldManager=kmp-clickops`) of one object. */
  applyManifest(
    cluster: string,
    manifest: KubernetesObject,
  ): Promise<BrokerResult<KubernetesObject>>;
  /**
   * Commits objects of one namespace to the cluster's GitOps repository,
   * authored by the caller, after the persona rules and the policy
   * pre-flight allow it (any environment).
   */
  publishToGit(
    cluster: string,
    request: GitopsPublishRequest,
  ): Promise<GitopsPublishResult>;
}

/** What `publishToGit` sends. */
export interface GitopsPublishRequest {
  /** Kubernetes objects, or YAML (documents separated by `---`). */
  manifests: KubernetesObject[] | string;
  /** Commit message; default names the objects and the cluster. */
  message?: string;
  /** The objects' namespace; default the one they name. */
  namespace?: string;
}

/** Where a publication landed. */
export interface GitopsPublishResult {
  commit: string;
  branch: string;
  repoUrl: string;
  /** Repository paths of the files written. */
  paths: string[];
  /** False when the repository already declared all of it (no commit). */
  changed: boolean;
  auditId: string;
}

/**
 * Filters of the audit query and export APIs; all exact matches except
 * `action`, which may end in `.*` for a prefix, and the `from`/`to` range
 * (RFC 3339).
 *
 * @public
 */
export interface AuditEventQuery {
  actor?: string;
  actorType?: 'human' | 'service' | 'gitops' | 'break-glass';
  cluster?: string;
  namespace?: string;
  action?: string;
  decision?: 'allow' | 'deny';
  outcome?: 'success' | 'failure' | 'pending';
  correlationId?: string;
  from?: string;
  to?: string;
  order?: 'asc' | 'desc';
}

/** @public */
export interface AuditEventListQuery extends AuditEventQuery {
  /** Page size, 1 to 1000. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

/** @public */
export interface AuditEventPage {
  items: StoredAuditEvent[];
  nextCursor?: string;
}

/** @public */
export type AuditExportFormat = 'ndjson' | 'csv';

/** @public */
export interface AuditVerifyResult {
  valid: boolean;
  checked: number;
  headSeq: number;
  checkpointSeq?: number;
  firstInvalidSeq?: number;
  reason?: string;
}

/**
 * The signed-in user as KMP sees them (`GET /api/kmp/me`).
 *
 * @public
 */
export interface KmpMe {
  user: string;
  ownershipRefs: string[];
  gitops: boolean;
  personas: Array<{
    environmentGroup: string;
    environment: 'production' | 'non-production' | 'edge';
    persona: Persona;
  }>;
}

/** @public */
export interface ClusterComplianceSummary {
  cluster: string;
  environment: string;
  environmentGroup: string;
  governedVersion?: string;
  installedVersion?: string;
  mode?: string;
  drift: string;
  upToDate: boolean;
  violations: number;
  scannedAt?: string;
  scanStatus?: string;
}

/** @public */
export interface TenantNamespace {
  cluster: string;
  name: string;
  team: string;
  phase?: string;
}

/** @public */
export const kmpApiRef = createApiRef<KmpApi>({ id: 'plugin.kmp.service' });
