import { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/** RFC 9110 §7.6.1 connection-specific fields, plus ones Node sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'content-length',
]);

/**
 * Request fields that carry or assert identity. The broker authenticates the
 * caller itself and sets the cluster credential and impersonation; anything
 * a caller sends here would let it speak as someone else (Impersonate-*,
 * the front-proxy X-Remote-* fields), reach the cluster with its own
 * credential, or confuse the cluster's audit (Audit-ID, X-Forwarded-*).
 */
const IDENTITY_FIELDS = new Set([
  'authorization',
  'cookie',
  'forwarded',
  'x-real-ip',
  'audit-id',
]);
const IDENTITY_PREFIXES = [
  // The stock Kubernetes plugin's proxy passes the user's credential for the
  // cluster's auth provider on (Backstage-Kubernetes-Authorization-<provider>).
  'backstage-kubernetes-authorization',
  'impersonate-',
  'proxy-',
  'x-forwarded-',
  'x-remote-',
];

function connectionListed(headers: IncomingHttpHeaders): Set<string> {
  const value = headers.connection;
  const list = Array.isArray(value) ? value.join(',') : value ?? '';
  return new Set(
    list
      .split(',')
      .map(token => token.trim().toLowerCase())
      .filter(Boolean),
  );
}

/**
 * The caller's headers that may go to the cluster, and the names of those
 * that were removed (recorded in the audit event, so an attempt to smuggle
 * an identity is visible).
 */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): {
  headers: OutgoingHttpHeaders;
  stripped: string[];
} {
  const listed = connectionListed(headers);
  const out: OutgoingHttpHeaders = {};
  const stripped: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed.has(lower)) continue;
    if (
      IDENTITY_FIELDS.has(lower) ||
      IDENTITY_PREFIXES.some(prefix => lower.startsWith(prefix))
    ) {
      stripped.push(lower);
      continue;
    }
    out[lower] = value;
  }
  return { headers: out, stripped };
}

/** The cluster's response headers that may go back to the caller. */
export function forwardableResponseHeaders(
  headers: IncomingHttpHeaders,
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      out[lower] = value;
      continue;
    }
    if (
      HOP_BY_HOP.has(lower) ||
      listed.has(lower) ||
      lower.startsWith('proxy-') ||
      lower === 'set-cookie'
    ) {
      continue;
    }
    out[lower] = value;
  }
  // The backend's compression middleware would otherwise buffer and
  // re-encode the stream (a watch would stall until its buffer filled); the
  // cluster already compresses large responses when the client asks for it.
  const cacheControl = out['cache-control'];
  out['cache-control'] = cacheControl
    ? `${cacheControl}, no-transform`
    : 'no-transform';
  return out;
}
