/**
 * Types of the access broker and kubeconfig calls of the KMP API.
 */

/**
 * The response header in which the broker names the audit correlation id.
 *
 * @public
 */
export const KMP_AUDIT_ID_HEADER = 'kmp-audit-id';

/**
 * A `meta/v1` Status, as the broker (and the cluster behind it) answers
 * refusals and failures.
 *
 * @public
 */
export interface KubernetesStatus {
  kind: 'Status';
  apiVersion?: string;
  status?: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: {
    name?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message: string; field?: string }>;
    retryAfterSeconds?: number;
  };
}

/**
 * A request through the broker that the broker or the cluster refused or
 * could not complete. `message` is the Status message, which names the rule
 * that refused ("production changes go through GitOps").
 *
 * @public
 */
export class KmpBrokerError extends Error {
  readonly statusCode: number;
  readonly reason?: string;
  readonly auditId?: string;
  readonly causes: Array<{ reason?: string; message: string; field?: string }>;

  constructor(options: {
    statusCode: number;
    message: string;
    reason?: string;
    auditId?: string;
    causes?: Array<{ reason?: string; message: string; field?: string }>;
  }) {
    super(options.message);
    this.name = 'KmpBrokerError';
    this.statusCode = options.statusCode;
    this.reason = options.reason;
    this.auditId = options.auditId;
    this.causes = options.causes ?? [];
  }

  /**
   * The cluster could not be reached (503/504 from the broker, or a 502 when
   * the cluster rejected KMP's own credential).
   */
  get unreachable(): boolean {
    return [502, 503, 504].includes(this.statusCode);
  }
}

/**
 * The answer of a broker request: the body and the audit id.
 *
 * @public
 */
export interface BrokerResult<T> {
  body: T;
  auditId?: string;
  /** `Warning` headers, e.g. policy rules in `Warn` mode. */
  warnings: string[];
}

/** @public */
export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';

/**
 * Options of a pod log request.
 *
 * @public
 */
export interface PodLogOptions {
  container?: string;
  /** The previous (terminated) instance of the container. */
  previous?: boolean;
  /** Keep the stream open and receive new lines as they are written. */
  follow?: boolean;
  tailLines?: number;
  signal?: AbortSignal;
}

/**
 * A pod log stream: chunks of text as the broker relays them.
 *
 * @public
 */
export interface PodLogStream {
  auditId?: string;
  chunks: AsyncIterable<string>;
}

/**
 * A kubeconfig token record (never the token itself).
 *
 * @public
 */
export interface KubeconfigToken {
  id: string;
  actorRef: string;
  actorKind: 'user' | 'service';
  cluster: string;
  access: 'read' | 'write';
  createdAt: string;
  expiresAt: string;
  revokedAt?: string;
  revokedBy?: string;
  state: 'active' | 'expired' | 'revoked';
}

/**
 * A freshly issued kubeconfig: the only time the token is visible.
 *
 * @public
 */
export interface IssuedKubeconfig extends KubeconfigToken {
  token: string;
  kubeconfig: string;
}

/** @public */
export interface KubeconfigRequest {
  expiresInSeconds?: number;
  access?: 'read' | 'write';
  namespace?: string;
}

/**
 * A workload through its namespace, kind and name.
 *
 * @public
 */
export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

/**
 * The parts of a Kubernetes object the portal reads.
 *
 * @public
 */
export interface KubernetesObject {
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
