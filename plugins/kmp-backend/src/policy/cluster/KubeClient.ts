import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import http from 'node:http';
import https from 'node:https';
import { LookupFunction } from 'node:net';

export interface KubeEndpoint {
  server: string;
  credentials: ClusterCredentials;
  /** DNS lookup that enforces the registry's cluster URL policy. */
  lookup?: LookupFunction;
}

export interface KubeResponse {
  status: number;
  body: string;
  /** Texts of the `Warning` headers (admission warnings among them). */
  warnings: string[];
}

export class KubeRequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    /** HTTP status the cluster answered (not this backend's status). */
    readonly responseStatus: number,
    readonly body: string,
  ) {
    let detail = body.slice(0, 500);
    try {
      detail = JSON.parse(body).message ?? detail;
    } catch {
      // not JSON
    }
    super(`${method} ${path} answered ${responseStatus}: ${detail}`);
    this.name = 'KubeRequestError';
  }
}

/** Parses `299 - "text"` warning header values (RFC 7234 §5.5). */
export function parseWarningHeader(value: string): string | undefined {
  const match = /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(value);
  return match ? match[1].replace(/\\(.)/g, '$1') : undefined;
}

const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * A small JSON client for a cluster's API server: requests with a hard
 * timeout, server-side apply, paged lists, and the admission warnings
 * returned with a response. Connections go through the registry's URL
 * policy lookup.
 */
export class KubeClient {
  private readonly agent: http.Agent;
  private readonly isHttps: boolean;

  private constructor(
    private readonly endpoint: KubeEndpoint,
    private readonly timeoutMs: number,
    private readonly userAgent: string,
  ) {
    this.isHttps = endpoint.server.startsWith('https:');
    const { credentials } = endpoint;
    this.agent = this.isHttps
      ? new https.Agent({
          keepAlive: true,
          maxSockets: 4,
          ca: credentials.certificateAuthority,
          cert: credentials.clientCertificate,
          key: credentials.clientKey,
          rejectUnauthorized: !credentials.skipTlsVerify,
        })
      : new http.Agent({ keepAlive: true, maxSockets: 4 });
  }

  static create(
    endpoint: KubeEndpoint,
    options: { timeoutMs?: number; userAgent?: string } = {},
  ): KubeClient {
    return new KubeClient(
      endpoint,
      options.timeoutMs ?? 15_000,
      options.userAgent ?? 'kmp-policy',
    );
  }

  close() {
    this.agent.destroy();
  }

  request(
    method: string,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<KubeResponse> {
    const url = new URL(this.endpoint.server.replace(/\/$/, '') + path);
    let payload: string | undefined = undefined;
    if (body !== undefined) {
      payload = typeof body === 'string' ? body : JSON.stringify(body);
    }
    const { token } = this.endpoint.credentials;
    const options: https.RequestOptions = {
      method,
      agent: this.agent,
      lookup: this.endpoint.lookup,
      headers: {
        accept: 'application/json',
        'user-agent': this.userAgent,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(payload !== undefined
          ? {
              'content-type': contentType,
              'content-length': String(Buffer.byteLength(payload)),
            }
          : {}),
      },
    };
    return new Promise((resolve, reject) => {
      const req = (this.isHttps ? https : http).request(url, options, res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            req.destroy(
              new Error(`${method} ${path} answered more than 64 MiB`),
            );
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => {
          const warnings: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            if (res.rawHeaders[i].toLowerCase() === 'warning') {
              const text = parseWarningHeader(res.rawHeaders[i + 1]);
              if (text !== undefined) warnings.push(text);
            }
          }
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            warnings,
          });
        });
        res.on('error', reject);
      });
      req.setTimeout(this.timeoutMs, () =>
        req.destroy(
          new Error(`${method} ${path} timed out after ${this.timeoutMs} ms`),
        ),
      );
      req.on('error', reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  async json<T = any>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<T> {
    const res = await this.request(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) {
      throw new KubeRequestError(method, path, res.status, res.body);
    }
    return JSON.parse(res.body) as T;
  }

  /** GET, or undefined on 404. */
  async getOptional<T = any>(path: string): Promise<T | undefined> {
    const res = await this.request('GET', path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) {
      throw new KubeRequestError('GET', path, res.status, res.body);
    }
    return JSON.parse(res.body) as T;
  }

  /**
   * Lists a collection page by page. Stops after `maxItems` and says so,
   * so one huge cluster cannot exhaust the backend.
   */
  async list<T = any>(
    path: string,
    options: {
      labelSelector?: string;
      pageSize?: number;
      maxItems?: number;
    } = {},
  ): Promise<{ items: T[]; truncated: boolean }> {
    const items: T[] = [];
    const maxItems = options.maxItems ?? 50_000;
    let next: string | undefined;
    do {
      const query = new URLSearchParams({
        limit: String(options.pageSize ?? 500),
      });
      if (options.labelSelector) {
        query.set('labelSelector', options.labelSelector);
      }
      if (next) query.set('continue', next);
      const page = await this.json<{
        items?: T[];
        metadata?: { continue?: string };
      }>('GET', `${path}?${query}`);
      items.push(...(page.items ?? []));
      next = page.metadata?.continue || undefined;
      if (items.length >= maxItems) {
        return { items: items.slice(0, maxItems), truncated: !!next };
      }
    } while (next);
    return { items, truncated: false };
  }

  /** Server-side apply, taking ownership of the fields KMP governs. */
  async apply<T = any>(
    path: string,
    object: unknown,
    fieldManager: string,
  ): Promise<T> {
    return this.json<T>(
      'PATCH',
      `${path}?fieldManager=${encodeURIComponent(fieldManager)}&force=true`,
      object,
      'application/apply-patch+yaml',
    );
  }

  /** DELETE; a missing object is not an error. */
  async delete(path: string): Promise<void> {
    const res = await this.request('DELETE', path);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) {
      throw new KubeRequestError('DELETE', path, res.status, res.body);
    }
  }

  /** Resources of an API group version, or undefined if it is not served. */
  async resources(
    groupVersion: string,
  ): Promise<
    Array<{ name: string; kind: string; namespaced: boolean }> | undefined
  > {
    const base = groupVersion.includes('/')
      ? `/apis/${groupVersion}`
      : `/api/${groupVersion}`;
    const list = await this.getOptional<{
      resources: Array<{ name: string; kind: string; namespaced: boolean }>;
    }>(base);
    return list?.resources.filter(r => !r.name.includes('/'));
  }
}

/** The collection path of a resource (all namespaces when `namespace` is absent). */
export function collectionPath(
  group: string,
  version: string,
  resource: string,
  namespace?: string,
): string {
  const base = group ? `/apis/${group}/${version}` : `/api/${version}`;
  return namespace
    ? `${base}/namespaces/${namespace}/${resource}`
    : `${base}/${resource}`;
}
