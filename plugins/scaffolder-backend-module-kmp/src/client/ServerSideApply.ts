import { InputError } from '@backstage/errors';
import { KmpBackendClient } from './KmpBackendClient';

/** The field manager of every golden-path write. */
export const FIELD_MANAGER = 'kmp-golden-path';

/** A Kubernetes object as a template produces it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  [key: string]: unknown;
}

export type ApplyOperation = 'created' | 'configured' | 'unchanged';

export interface ApplyResult {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  operation: ApplyOperation;
  /** Server-side dry run: nothing was persisted. */
  dryRun: boolean;
  auditId?: string;
}

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

/** Objects the others depend on go first (as `kubectl apply` and Helm do). */
const KIND_ORDER = [
  'Namespace',
  'ResourceQuota',
  'LimitRange',
  'CustomResourceDefinition',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'ClusterRole',
  'Role',
  'ClusterRoleBinding',
  'RoleBinding',
  'NetworkPolicy',
  'PersistentVolumeClaim',
  'Service',
];

function kindRank(kind: string): number {
  const i = KIND_ORDER.indexOf(kind);
  return i === -1 ? KIND_ORDER.length : i;
}

/** Sorts objects into apply order, stable within a kind. */
export function inApplyOrder<T extends { kind: string }>(objects: T[]): T[] {
  return objects
    .map((o, i) => ({ o, i }))
    .sort((a, b) => kindRank(a.o.kind) - kindRank(b.o.kind) || a.i - b.i)
    .map(({ o }) => o);
}

/**
 * Server-side apply through the broker, as the initiator. Resource names
 * come from the cluster's own discovery (through the broker too), so custom
 * resources work like built-in ones.
 */
export class ServerSideApply {
  private readonly resources = new Map<string, Promise<ApiResource[]>>();

  constructor(
    private readonly client: KmpBackendClient,
    private readonly cluster: string,
  ) {}

  private discover(apiVersion: string): Promise<ApiResource[]> {
    let found = this.resources.get(apiVersion);
    if (!found) {
      const path = apiVersion.includes('/')
        ? `/apis/${apiVersion}`
        : `/api/${apiVersion}`;
      found = this.client
        .kube<{ resources: ApiResource[] }>(this.cluster, 'GET', path, {
          accept: [404],
        })
        .then(r => (r.status === 404 ? [] : r.body.resources ?? []));
      this.resources.set(apiVersion, found);
    }
    return found;
  }

  /** The API path of an object, from discovery. */
  async pathOf(object: KubeObject, namespace?: string): Promise<string> {
    const resource = (await this.discover(object.apiVersion)).find(
      r => r.kind === object.kind && !r.name.includes('/'),
    );
    if (!resource) {
      throw new InputError(
        `Cluster ${this.cluster} does not serve ${object.kind} in ${object.apiVersion}`,
      );
    }
    const prefix = object.apiVersion.includes('/')
      ? `/apis/${object.apiVersion}`
      : `/api/${object.apiVersion}`;
    const name = encodeURIComponent(object.metadata.name);
    if (!resource.namespaced) return `${prefix}/${resource.name}/${name}`;
    if (!namespace) {
      throw new InputError(
        `${object.kind} ${object.metadata.name} needs a namespace`,
      );
    }
    return `${prefix}/namespaces/${encodeURIComponent(namespace)}/${
      resource.name
    }/${name}`;
  }

  /** Whether a namespace exists on the cluster. */
  async namespaceExists(name: string): Promise<boolean> {
    const r = await this.client.kube(
      this.cluster,
      'GET',
      `/api/v1/namespaces/${encodeURIComponent(name)}`,
      { accept: [404] },
    );
    return r.status === 200;
  }

  /**
   * Applies one object (forcing ownership of the fields it sets, so that a
   * re-run converges) and tells whether it was created, changed or left as
   * it was.
   */
  async apply(
    object: KubeObject,
    options: { dryRun: boolean; defaultNamespace?: string },
  ): Promise<ApplyResult> {
    const namespace = object.metadata.namespace ?? options.defaultNamespace;
    const path = await this.pathOf(object, namespace);
    const body =
      namespace && path.includes('/namespaces/') && object.kind !== 'Namespace'
        ? { ...object, metadata: { ...object.metadata, namespace } }
        : object;

    const before = await this.client.kube<{
      metadata?: { resourceVersion?: string };
    }>(this.cluster, 'GET', path, { accept: [404] });
    const query = new URLSearchParams({
      fieldManager: FIELD_MANAGER,
      force: 'true',
      ...(options.dryRun ? { dryRun: 'All' } : {}),
    });
    const after = await this.client.kube<{
      metadata?: { resourceVersion?: string };
    }>(this.cluster, 'PATCH', `${path}?${query}`, {
      body,
      contentType: 'application/apply-patch+yaml',
    });

    // A dry run persists nothing, so its resourceVersion says nothing.
    let operation: ApplyOperation;
    if (before.status === 404) operation = 'created';
    else if (options.dryRun) operation = 'configured';
    else if (
      before.body.metadata?.resourceVersion ===
      after.body.metadata?.resourceVersion
    )
      operation = 'unchanged';
    else operation = 'configured';

    return {
      apiVersion: object.apiVersion,
      kind: object.kind,
      name: object.metadata.name,
      ...(path.includes('/namespaces/') && object.kind !== 'Namespace'
        ? { namespace }
        : {}),
      operation,
      dryRun: options.dryRun,
      auditId: after.auditId,
    };
  }
}
