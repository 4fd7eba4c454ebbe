/*
 * A tiny untyped Kubernetes REST client (admin token, discovery, server-side
 * apply, status subresource). Fixtures send wire-format objects through it
 * as they are; @kubernetes/client-node's typed (de)serialisation would drop
 * or rename fields of such plain objects.
 */
import https from 'node:https';
import { httpsRequest, HttpsResponse } from './net';

export interface ResourceInfo {
  plural: string;
  namespaced: boolean;
  hasStatus: boolean;
}

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly body: string,
  ) {
    let msg = body;
    try {
      msg = JSON.parse(body).message ?? body;
    } catch {
      // not JSON
    }
    super(`${method} ${path}: ${status} ${msg}`);
  }
}

export interface KubeRestTarget {
  server: string;
  caPem: string;
  token: string;
}

const FIELD_MANAGER = 'kube-testbed';

export class KubeRest {
  private readonly agent: https.Agent;
  private discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(private readonly target: KubeRestTarget) {
    this.agent = new https.Agent({
      ca: target.caPem,
      keepAlive: true,
      maxSockets: 8,
    });
  }

  close() {
    this.agent.destroy();
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<HttpsResponse> {
    const res = await httpsRequest(`${this.target.server}${path}`, {
      ca: this.target.caPem,
      token: this.target.token,
      agent: this.agent,
      method,
      body,
      headers: contentType ? { 'Content-Type': contentType } : undefined,
      timeoutMs: 60_000,
    });
    if (res.status >= 400) {
      throw new KubeApiError(res.status, method, path, res.body);
    }
    return res;
  }

  async get<T = any>(path: string): Promise<T> {
    return (await this.request('GET', path)).json<T>();
  }

  async getOrUndefined<T = any>(path: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return undefined;
      throw e;
    }
  }

  private groupVersionPath(apiVersion: string) {
    return apiVersion.includes('/')
      ? `/apis/${apiVersion}`
      : `/api/${apiVersion}`;
  }

  /** Discovery info for apiVersion/kind (refreshes once on a miss). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    for (let attempt = 0; attempt < 2; attempt++) {
      let p = this.discovery.get(apiVersion);
      if (!p || attempt > 0) {
        p = this.get(this.groupVersionPath(apiVersion)).then(list => {
          const m = new Map<string, ResourceInfo>();
          const names = new Set<string>(list.resources.map((r: any) => r.name));
          for (const r of list.resources as any[]) {
            if (r.name.includes('/')) continue;
            m.set(r.kind, {
              plural: r.name,
              namespaced: r.namespaced,
              hasStatus: names.has(`${r.name}/status`),
            });
          }
          return m;
        });
        p.catch(() => this.discovery.delete(apiVersion));
        this.discovery.set(apiVersion, p);
      }
      try {
        const info = (await p).get(kind);
        if (info) return info;
      } catch (e) {
        if (attempt > 0) throw e;
      }
    }
    throw new Error(`kube-testbed: no resource for ${apiVersion} ${kind}`);
  }

  async objectPath(obj: any, withName = true): Promise<string> {
    const info = await this.resource(obj.apiVersion, obj.kind);
    const ns = info.namespaced
      ? `/namespaces/${obj.metadata.namespace ?? 'default'}`
      : '';
    const base = `${this.groupVersionPath(obj.apiVersion)}${ns}/${info.plural}`;
    return withName ? `${base}/${obj.metadata.name}` : base;
  }

  /**
   * Server-side apply of obj (status is applied separately through the
   * status subresource when the object has one). Returns the live object.
   */
  async apply(obj: any): Promise<any> {
    const { status, ...rest } = obj;
    const info = await this.resource(obj.apiVersion, obj.kind);
    const path = await this.objectPath(obj);
    const body = info.hasStatus || !status ? rest : obj;
    let live = (
      await this.request(
        'PATCH',
        `${path}?fieldManager=${FIELD_MANAGER}&force=true`,
        body,
        'application/apply-patch+yaml',
      )
    ).json();
    if (status && info.hasStatus) {
      live = await this.patchStatus(obj, status);
    }
    return live;
  }

  /** Merge-patches the status subresource. */
  async patchStatus(obj: any, status: unknown): Promise<any> {
    const path = await this.objectPath(obj);
    return (
      await this.request(
        'PATCH',
        `${path}/status`,
        { status },
        'application/merge-patch+json',
      )
    ).json();
  }

  /**
   * Creates obj, or replaces it if it exists (used for CRDs: server-side
   * apply would store megabytes of managedFields for big schemas).
   */
  async createOrReplace(obj: any): Promise<any> {
    const collection = await this.objectPath(obj, false);
    try {
      return (await this.request('POST', collection, obj)).json();
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 409)) throw e;
    }
    const path = `${collection}/${obj.metadata.name}`;
    const live = await this.get(path);
    const next = {
      ...obj,
      metadata: {
        ...obj.metadata,
        resourceVersion: live.metadata.resourceVersion,
      },
    };
    return (await this.request('PUT', path, next)).json();
  }

  async delete(obj: any): Promise<void> {
    try {
      await this.request('DELETE', await this.objectPath(obj));
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404)) throw e;
    }
  }

  /** Polls fn until it returns a truthy value. */
  async waitFor<T>(
    what: string,
    fn: () => Promise<T | undefined | false>,
    timeoutMs = 30_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let lastErr: unknown;
    for (;;) {
      try {
        const v = await fn();
        if (v) return v;
      } catch (e) {
        lastErr = e;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `kube-testbed: timed out waiting for ${what}${
            lastErr ? `: ${(lastErr as Error).message}` : ''
          }`,
        );
      }
      await new Promise(r => setTimeout(r, 150));
    }
  }
}
