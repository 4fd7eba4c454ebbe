import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
} from '@backstage/backend-plugin-api';
import {
  ConflictError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import type {
  ClusterProfile,
  EnvironmentGroup,
  PolicyEvaluateRequest,
  PolicyEvaluateResponse,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';

/** An error answered by the KMP backend or by a cluster through the broker. */
export class KmpRequestError extends Error {
  readonly status: number;
  readonly auditId?: string;
  constructor(message: string, status: number, auditId?: string) {
    super(message);
    this.name = 'KmpRequestError';
    this.status = status;
    this.auditId = auditId;
  }
}

/** The message of an error body: a Kubernetes Status or a Backstage error. */
function describeFailure(status: number, text: string): string {
  try {
    const body = JSON.parse(text);
    if (body?.kind === 'Status' && typeof body.message === 'string') {
      const causes = (body.details?.causes ?? [])
        .map((c: { message?: string }) => c.message)
        .filter(Boolean);
      return causes.length > 0
        ? `${body.message}: ${causes.join('; ')}`
        : body.message;
    }
    if (typeof body?.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON: fall through
  }
  return text.trim().slice(0, 500) || `HTTP ${status}`;
}

/** Maps an HTTP failure to the Backstage error of the same meaning. */
function toError(status: number, message: string, auditId?: string): Error {
  const suffix = auditId ? ` (KMP audit id ${auditId})` : '';
  switch (status) {
    case 400:
    case 422:
      return new InputError(`${message}${suffix}`);
    case 401:
    case 403:
      return new NotAllowedError(`${message}${suffix}`);
    case 404:
      return new NotFoundError(`${message}${suffix}`);
    case 409:
      return new ConflictError(`${message}${suffix}`);
    case 503:
      return new ServiceUnavailableError(`${message}${suffix}`);
    default:
      return new KmpRequestError(`${message}${suffix}`, status, auditId);
  }
}

export interface KmpResponse<T> {
  status: number;
  body: T;
  auditId?: string;
}

/**
 * The KMP backend as the user who runs a template: every request carries a
 * token issued on behalf of the task's initiator, so the KMP backend and the
 * broker authorise, impersonate and audit the real person.
 */
export class KmpBackendClient {
  private constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  static async forInitiator(options: {
    auth: AuthService;
    discovery: DiscoveryService;
    credentials: BackstageCredentials;
  }): Promise<KmpBackendClient> {
    const { token } = await options.auth.getPluginRequestToken({
      onBehalfOf: options.credentials,
      targetPluginId: 'kmp',
    });
    const baseUrl = await options.discovery.getBaseUrl('kmp');
    return new KmpBackendClient(baseUrl, token);
  }

  /** One request; non-2xx answers throw with the server's own message. */
  async request<T>(
    method: string,
    path: string,
    options: {
      body?: unknown;
      contentType?: string;
      /** Statuses answered as a value instead of an error. */
      accept?: number[];
    } = {},
  ): Promise<KmpResponse<T>> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      accept: 'application/json',
    };
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/json';
      body =
        typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    }
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers,
      body,
    });
    const text = await response.text();
    const auditId = response.headers.get('kmp-audit-id') ?? undefined;
    if (!response.ok && !options.accept?.includes(response.status)) {
      throw toError(
        response.status,
        describeFailure(response.status, text),
        auditId,
      );
    }
    let parsed: unknown = undefined;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = text;
      }
    }
    return { status: response.status, body: parsed as T, auditId };
  }

  /** A request to a cluster's Kubernetes API through the broker. */
  kube<T>(
    cluster: string,
    method: string,
    kubePath: string,
    options: { body?: unknown; contentType?: string; accept?: number[] } = {},
  ) {
    return this.request<T>(
      method,
      `/proxy/clusters/${encodeURIComponent(cluster)}${kubePath}`,
      options,
    );
  }

  async getCluster(name: string): Promise<RegisteredCluster> {
    return (
      await this.request<RegisteredCluster>(
        'GET',
        `/clusters/${encodeURIComponent(name)}`,
      )
    ).body;
  }

  /** The active clusters of an environment group. */
  async listClusters(environmentGroup: string): Promise<RegisteredCluster[]> {
    const items: RegisteredCluster[] = [];
    for (let offset = 0; ; offset += 500) {
      const page = await this.request<{
        items: RegisteredCluster[];
        totalCount: number;
      }>(
        'GET',
        `/clusters?environmentGroup=${encodeURIComponent(
          environmentGroup,
        )}&limit=500&offset=${offset}`,
      );
      items.push(...page.body.items);
      if (page.body.items.length < 500) return items;
    }
  }

  async listProfiles(): Promise<ClusterProfile[]> {
    return (await this.request<{ items: ClusterProfile[] }>('GET', '/profiles'))
      .body.items;
  }

  async listEnvironmentGroups(): Promise<EnvironmentGroup[]> {
    return (
      await this.request<{ items: EnvironmentGroup[] }>(
        'GET',
        '/environment-groups',
      )
    ).body.items;
  }

  async evaluatePolicies(
    request: PolicyEvaluateRequest,
  ): Promise<PolicyEvaluateResponse> {
    return (
      await this.request<PolicyEvaluateResponse>('POST', '/policies/evaluate', {
        body: request,
      })
    ).body;
  }
}
