import { Response } from 'express';

/** The `reason` of a Kubernetes `Status` for each code the broker answers. */
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  501: 'MethodNotAllowed',
  502: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A `meta/v1` Status, as every Kubernetes client understands it. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason?: string; message: string; field?: string }>;
    retryAfterSeconds?: number;
  };
  code: number;
}

/**
 * A refusal or failure the broker answers itself, as a Kubernetes `Status`.
 * `reason` is what the audit event records as the decision's reason.
 */
export class BrokerError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: KubeStatus['details'],
    /** Short rule name for the audit trail; defaults to the message. */
    readonly rule?: string,
  ) {
    super(message);
    this.name = 'BrokerError';
  }

  toStatus(): KubeStatus {
    return kubeStatus(this.code, this.message, this.details);
  }
}

export function kubeStatus(
  code: number,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: REASONS[code] ?? 'Unknown',
    ...(details ? { details } : {}),
    code,
  };
}

/** Writes a Status response unless the response has already started. */
export function sendStatus(res: Response, status: KubeStatus): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify(status);
  res.statusCode = status.code;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.setHeader('Cache-Control', 'no-cache, private');
  if (status.details?.retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(status.details.retryAfterSeconds));
  }
  res.end(body);
}
