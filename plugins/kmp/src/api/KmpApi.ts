import { createApiRef } from '@backstage/core-plugin-api';
import {
  ClusterProfile,
  EnvironmentGroup,
  Persona,
  PolicyComplianceReport,
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

/**
 * Client of the KMP backend (`/api/kmp`).
 *
 * @public
 */
export interface KmpApi {
  getHealth(): Promise<KmpHealth>;
  listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }>;
  listClusters(
    query?: ClusterListQuery,
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
