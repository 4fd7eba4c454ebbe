import { DiscoveryApi, FetchApi } from '@backstage/core-plugin-api';
import { ResponseError } from '@backstage/errors';
import {
  ClusterProfile,
  EnvironmentGroup,
  PolicyComplianceReport,
  PolicyInstallation,
  PolicyEvaluateRequest,
  PolicyEvaluateResponse,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import {
  BrokerResult,
  IssuedKubeconfig,
  KMP_AUDIT_ID_HEADER,
  KmpBrokerError,
  KubeconfigRequest,
  KubeconfigToken,
  KubernetesObject,
  KubernetesStatus,
  PodLogOptions,
  PodLogStream,
  WorkloadKind,
  WorkloadRef,
} from './broker';
import {
  AuditEventListQuery,
  AuditEventPage,
  AuditEventQuery,
  AuditExportFormat,
  AuditVerifyResult,
  BreakGlassListQuery,
  BreakGlassRequest,
  BreakGlassRequestInput,
  BreakGlassStepResult,
  ClusterComplianceSummary,
  ClusterListQuery,
  ClusterSummary,
  GitopsPublishRequest,
  GitopsPublishResult,
  KmpAlertListQuery,
  KmpAlertPage,
  KmpAlertSummary,
  KmpApi,
  KmpHealth,
  KmpMe,
  TenantNamespace,
} from './KmpApi';

/** `?a=1&b=2` of the defined, non-empty values; arrays repeat the key. */
function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) {
      params.append(key, String(v));
    }
  }
  const search = params.toString();
  return search ? `?${search}` : '';
}

const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

const WORKLOAD_RESOURCES: Record<WorkloadKind, string> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
};

const segment = encodeURIComponent;

const operationPath = (cluster: string, w: WorkloadRef) =>
  `/clusters/${segment(cluster)}/namespaces/${segment(w.namespace)}/workloads/${
    WORKLOAD_RESOURCES[w.kind]
  }/${segment(w.name)}`;

const operationPodPath = (
  cluster: string,
  p: { namespace: string; name: string },
) =>
  `/clusters/${segment(cluster)}/namespaces/${segment(
    p.namespace,
  )}/pods/${segment(p.name)}`;

/**
 * The REST path of an object: the plural is the lower-cased kind + `s`,
 * which holds for the kinds ClickOps writes (Deployment, ConfigMap,
 * Service …).
 */
function objectPath(o: KubernetesObject): string {
  const [group, version] = o.apiVersion.includes('/')
    ? o.apiVersion.split('/')
    : [undefined, o.apiVersion];
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  const ns = o.metadata.namespace
    ? `/namespaces/${segment(o.metadata.namespace)}`
    : '';
  return `${base}${ns}/${o.kind.toLowerCase()}s/${segment(o.metadata.name)}`;
}

function warningsOf(response: Response): string[] {
  const header = response.headers.get('warning');
  // `299 - "text"` entries, comma-separated.
  return header
    ? Array.from(header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g), m => m[1])
    : [];
}

/**
 * A KmpBrokerError from a refused or failed broker response: a Kubernetes
 * Status (the broker's and the cluster's refusals) or a Backstage error
 * body (invalid input of a typed route).
 */
async function brokerError(response: Response): Promise<KmpBrokerError> {
  const auditId = response.headers.get(KMP_AUDIT_ID_HEADER) ?? undefined;
  const text = await response.text().catch(() => '');
  let status:
    | (Partial<KubernetesStatus> & { error?: { message?: string } })
    | undefined;
  try {
    status = JSON.parse(text);
  } catch {
    status = undefined;
  }
  let message = `${response.status} ${response.statusText || 'request failed'}${
    text && !status ? `: ${text.slice(0, 200)}` : ''
  }`;
  if (status?.kind === 'Status' && status.message) {
    message = status.message;
  } else if (status?.error?.message) {
    message = status.error.message;
  }
  return new KmpBrokerError({
    statusCode: response.status,
    message,
    reason: status?.reason,
    auditId,
    causes: status?.details?.causes,
  });
}

/** The JSON body and audit id of a broker answer, or its refusal. */
async function brokerResult<T>(response: Response): Promise<BrokerResult<T>> {
  if (!response.ok) {
    throw await brokerError(response);
  }
  return {
    body: (await response.json()) as T,
    auditId: response.headers.get(KMP_AUDIT_ID_HEADER) ?? undefined,
    warnings: warningsOf(response),
  };
}

/** The body of a (possibly endless) response as decoded text chunks. */
async function* textChunks(response: Response): AsyncGenerator<string> {
  if (!response.body) {
    yield await response.text();
    return;
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      if (text) yield text;
    }
    finished = true;
    const rest = decoder.decode();
    if (rest) yield rest;
  } finally {
    // A consumer that stops early (closing the log viewer) ends the stream,
    // and with it the broker's upstream request.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

/**
 * Default {@link KmpApi} implementation over the discovery and fetch APIs.
 *
 * @public
 */
export class KmpClient implements KmpApi {
  private readonly discoveryApi: DiscoveryApi;
  private readonly fetchApi: FetchApi;

  constructor(options: { discoveryApi: DiscoveryApi; fetchApi: FetchApi }) {
    this.discoveryApi = options.discoveryApi;
    this.fetchApi = options.fetchApi;
  }

  async getHealth(): Promise<KmpHealth> {
    return this.request<KmpHealth>('/health', { okStatuses: [503] });
  }

  async listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }> {
    return this.request('/environment-groups');
  }

  async listClusters(
    query: ClusterListQuery = {},
    options: { signal?: AbortSignal } = {},
  ): Promise<{ items: RegisteredCluster[]; totalCount: number }> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === '') continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        params.append(key, String(v));
      }
    }
    const search = params.toString();
    return this.request(`/clusters${search ? `?${search}` : ''}`, {
      init: { signal: options.signal },
    });
  }

  async getClusterSummary(): Promise<ClusterSummary> {
    return this.request('/clusters/summary');
  }

  async listAlerts(query: KmpAlertListQuery = {}): Promise<KmpAlertPage> {
    return this.request(`/alerts${queryString(query)}`);
  }

  async listClusterAlerts(
    cluster: string,
    query: Omit<KmpAlertListQuery, 'cluster'> = {},
  ): Promise<KmpAlertPage> {
    return this.request(
      `/clusters/${segment(cluster)}/alerts${queryString(query)}`,
    );
  }

  async getAlertSummary(
    query: { cluster?: string[] } = {},
  ): Promise<KmpAlertSummary> {
    return this.request(`/alerts/summary${queryString(query)}`);
  }

  async listAuditEvents(
    query: AuditEventListQuery = {},
  ): Promise<AuditEventPage> {
    return this.request(`/audit/events${queryString(query)}`);
  }

  async exportAuditEvents(
    query: AuditEventQuery,
    format: AuditExportFormat,
  ): Promise<Blob> {
    const response = await this.fetchKmp(
      `/audit/events/export${queryString({ ...query, format })}`,
    );
    if (!response.ok) {
      throw await ResponseError.fromResponse(response);
    }
    return response.blob();
  }

  async verifyAuditChain(): Promise<AuditVerifyResult> {
    return this.request('/audit/verify');
  }

  async getMe(): Promise<KmpMe> {
    return this.request('/me');
  }

  async listProfiles(): Promise<{ items: ClusterProfile[] }> {
    return this.request('/profiles');
  }

  async listComplianceSummaries(
    query: { limit?: number; offset?: number; name?: string[] } = {},
  ): Promise<{ items: ClusterComplianceSummary[]; totalCount: number }> {
    return this.request(`/policies/compliance${queryString(query)}`);
  }

  async listTenantNamespaces(
    cluster: string,
    teams: string[],
  ): Promise<TenantNamespace[]> {
    if (teams.length === 0) return [];
    // The backend reads them with the registry's credential by team label
    // (developers may not list namespaces through the broker).
    const { items } = await this.request<{
      items: Array<{ name: string; team: string; phase?: string }>;
    }>(`/clusters/${encodeURIComponent(cluster)}/tenant-namespaces`);
    return items
      .filter(ns => teams.includes(ns.team))
      .map(ns => ({
        cluster,
        name: ns.name,
        team: ns.team,
        ...(ns.phase ? { phase: ns.phase } : {}),
      }));
  }

  async getCluster(name: string): Promise<RegisteredCluster> {
    return this.request(`/clusters/${encodeURIComponent(name)}`);
  }

  async getClusterCompliance(cluster: string): Promise<PolicyComplianceReport> {
    return this.request(`/policies/compliance${queryString({ cluster })}`);
  }

  async distributePolicies(
    cluster: string,
    mode?: 'apply' | 'gitops',
  ): Promise<PolicyInstallation> {
    return this.request('/policies/distribute', {
      init: jsonInit('POST', { cluster, ...(mode ? { mode } : {}) }),
    });
  }

  async scanCompliance(cluster: string): Promise<PolicyComplianceReport> {
    return this.request('/policies/compliance/scan', {
      init: jsonInit('POST', { cluster }),
    });
  }

  async evaluatePolicies(
    request: PolicyEvaluateRequest,
  ): Promise<PolicyEvaluateResponse> {
    return this.request('/policies/evaluate', {
      init: jsonInit('POST', request),
    });
  }

  async issueKubeconfig(
    cluster: string,
    request: KubeconfigRequest = {},
  ): Promise<IssuedKubeconfig> {
    return this.request(`/clusters/${encodeURIComponent(cluster)}/kubeconfig`, {
      init: jsonInit('POST', request),
    });
  }

  async listKubeconfigTokens(): Promise<{ items: KubeconfigToken[] }> {
    return this.request('/kubeconfig-tokens');
  }

  async revokeKubeconfigToken(id: string): Promise<KubeconfigToken> {
    return this.request(`/kubeconfig-tokens/${encodeURIComponent(id)}`, {
      init: { method: 'DELETE' },
    });
  }

  async requestBreakGlass(
    input: BreakGlassRequestInput,
  ): Promise<BreakGlassStepResult> {
    return this.request('/break-glass/requests', {
      init: jsonInit('POST', input),
    });
  }

  async listBreakGlassRequests(
    query: BreakGlassListQuery = {},
  ): Promise<{ items: BreakGlassRequest[] }> {
    return this.request(`/break-glass/requests${queryString(query)}`);
  }

  async getBreakGlassRequest(id: string): Promise<BreakGlassRequest> {
    return this.request(`/break-glass/requests/${encodeURIComponent(id)}`);
  }

  async approveBreakGlassRequest(
    id: string,
    options: { comment?: string } = {},
  ): Promise<BreakGlassStepResult> {
    return this.breakGlassStep(id, 'approve', { comment: options.comment });
  }

  async denyBreakGlassRequest(
    id: string,
    options: { comment?: string } = {},
  ): Promise<BreakGlassStepResult> {
    return this.breakGlassStep(id, 'deny', { comment: options.comment });
  }

  async revokeBreakGlassRequest(
    id: string,
    options: { reason?: string } = {},
  ): Promise<BreakGlassStepResult> {
    return this.breakGlassStep(id, 'revoke', { reason: options.reason });
  }

  /** A decision or revocation; blank optional fields are left out (strict body). */
  private async breakGlassStep(
    id: string,
    step: 'approve' | 'deny' | 'revoke',
    body: Record<string, string | undefined>,
  ): Promise<BreakGlassStepResult> {
    const given = Object.fromEntries(
      Object.entries(body).filter(([, v]) => v !== undefined && v.trim()),
    );
    return this.request(
      `/break-glass/requests/${encodeURIComponent(id)}/${step}`,
      { init: jsonInit('POST', given) },
    );
  }

  async proxy(
    cluster: string,
    path: string,
    init?: RequestInit,
  ): Promise<Response> {
    if (!path.startsWith('/')) {
      throw new TypeError(`broker path must start with '/': ${path}`);
    }
    const baseUrl = await this.discoveryApi.getBaseUrl('kmp');
    return this.fetchApi.fetch(
      `${baseUrl}/proxy/clusters/${encodeURIComponent(cluster)}${path}`,
      init,
    );
  }

  async proxyJson<T>(
    cluster: string,
    path: string,
    init?: RequestInit,
  ): Promise<BrokerResult<T>> {
    return brokerResult<T>(
      await this.proxy(cluster, path, {
        ...init,
        headers: { accept: 'application/json', ...init?.headers },
      }),
    );
  }

  // Operational actions: the broker's typed routes, which make the same
  // Kubernetes request kubectl would, through the broker's request path.

  async restartWorkload(
    cluster: string,
    target: WorkloadRef,
  ): Promise<BrokerResult<unknown>> {
    return brokerResult(
      await this.fetchKmp(`${operationPath(cluster, target)}/restart`, {
        method: 'POST',
      }),
    );
  }

  async scaleWorkload(
    cluster: string,
    target: WorkloadRef,
    replicas: number,
  ): Promise<BrokerResult<unknown>> {
    if (target.kind === 'DaemonSet') {
      throw new TypeError('a DaemonSet cannot be scaled');
    }
    return brokerResult(
      await this.fetchKmp(
        `${operationPath(cluster, target)}/scale`,
        jsonInit('POST', { replicas }),
      ),
    );
  }

  async deletePod(
    cluster: string,
    target: { namespace: string; name: string },
  ): Promise<BrokerResult<unknown>> {
    return brokerResult(
      await this.fetchKmp(operationPodPath(cluster, target), {
        method: 'DELETE',
      }),
    );
  }

  async streamPodLogs(
    cluster: string,
    target: { namespace: string; name: string },
    options: PodLogOptions = {},
  ): Promise<PodLogStream> {
    const { signal, ...query } = options;
    const response = await this.fetchKmp(
      `${operationPodPath(cluster, target)}/logs${queryString({
        container: query.container,
        previous: query.previous || undefined,
        follow: query.follow || undefined,
        tailLines: query.tailLines,
      })}`,
      { signal },
    );
    if (!response.ok) {
      throw await brokerError(response);
    }
    return {
      auditId: response.headers.get(KMP_AUDIT_ID_HEADER) ?? undefined,
      chunks: textChunks(response),
    };
  }

  async applyManifest(
    cluster: string,
    manifest: KubernetesObject,
  ): Promise<BrokerResult<KubernetesObject>> {
    return this.proxyJson(
      cluster,
      `${objectPath(manifest)}${queryString({
        fieldManager: 'kmp-clickops',
        force: 'true',
      })}`,
      {
        method: 'PATCH',
        headers: { 'content-type': 'application/apply-patch+yaml' },
        // JSON is YAML; the broker and the API server accept both.
        body: JSON.stringify(manifest),
      },
    );
  }

  async publishToGit(
    cluster: string,
    request: GitopsPublishRequest,
  ): Promise<GitopsPublishResult> {
    return this.request(
      `/clusters/${encodeURIComponent(cluster)}/gitops/publish`,
      { init: jsonInit('POST', request) },
    );
  }

  /** Fetches a backend path and returns the response as it is. */
  private async fetchKmp(path: string, init?: RequestInit): Promise<Response> {
    const baseUrl = await this.discoveryApi.getBaseUrl('kmp');
    return this.fetchApi.fetch(`${baseUrl}${path}`, init);
  }

  private async request<T>(
    path: string,
    options?: { init?: RequestInit; okStatuses?: number[] },
  ): Promise<T> {
    const baseUrl = await this.discoveryApi.getBaseUrl('kmp');
    const response = await this.fetchApi.fetch(
      `${baseUrl}${path}`,
      options?.init,
    );
    if (!response.ok && !options?.okStatuses?.includes(response.status)) {
      throw await ResponseError.fromResponse(response);
    }
    return (await response.json()) as T;
  }
}
