import { StoredAuditEvent } from '@kmp/plugin-kmp-node';
import { isIP } from 'node:net';

/** CEF header fields escape backslash and pipe, and cannot hold newlines. */
export function cefHeaderEscape(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/[\r\n]+/g, ' ');
}

/** CEF extension values escape backslash and equals, and encode newlines. */
export function cefValueEscape(value: string): string {
  return value
    .replace(/\\/g, '\\\\')
    .replace(/=/g, '\\=')
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r');
}

export interface CefOptions {
  vendor: string;
  product: string;
  version: string;
}

/** CEF severity 0–10 of an audit event. */
export function cefSeverity(event: StoredAuditEvent): number {
  if (event.actor.type === 'break-glass') return 9;
  if (event.severity === 'critical') return 9;
  if (event.severity === 'high') return 7;
  if (event.decision.result === 'deny') return 6;
  if (event.outcome === 'failure') return 5;
  if (event.severity === 'medium') return 4;
  return 3;
}

function resourceOf(event: StoredAuditEvent): string | undefined {
  const r = event.target.resource;
  if (!r) return undefined;
  return [r.group, r.version, r.resource, r.subresource, r.name]
    .filter(Boolean)
    .join('/');
}

/**
 * Formats an audit event as ArcSight Common Event Format, the payload
 * Microsoft Sentinel ingests from syslog (CommonSecurityLog): standard keys
 * where CEF has them (suser, src, act, outcome, request…) and labelled
 * custom strings for the Kubernetes target.
 */
export function formatCef(
  event: StoredAuditEvent,
  options: CefOptions,
): string {
  const header = [
    'CEF:0',
    cefHeaderEscape(options.vendor),
    cefHeaderEscape(options.product),
    cefHeaderEscape(options.version),
    cefHeaderEscape(event.action),
    cefHeaderEscape(
      `${event.action} ${event.decision.result} ${event.outcome}`,
    ),
    String(cefSeverity(event)),
  ].join('|');

  const extensions: Array<[string, string | number | undefined]> = [
    ['rt', Date.parse(event.time)],
    ['externalId', event.id],
    ['suser', event.actor.ref],
    ['spriv', event.actor.persona],
    [
      'src',
      event.actor.ip && isIP(event.actor.ip) ? event.actor.ip : undefined,
    ],
    ['requestClientApplication', event.actor.userAgent],
    ['act', event.decision.result],
    ['reason', event.decision.reason],
    ['outcome', event.outcome],
    ['requestMethod', event.request?.method],
    ['request', event.request?.path],
    ['cs1Label', event.target.cluster && 'cluster'],
    ['cs1', event.target.cluster],
    ['cs2Label', event.target.namespace && 'namespace'],
    ['cs2', event.target.namespace],
    ['cs3Label', event.target.environmentGroup && 'environmentGroup'],
    ['cs3', event.target.environmentGroup],
    ['cs4Label', event.target.resource && 'resource'],
    ['cs4', resourceOf(event)],
    ['cs5Label', 'actorType'],
    ['cs5', event.actor.type],
    ['cs6Label', 'correlationId'],
    ['cs6', event.correlationId],
    ['cn1Label', 'seq'],
    ['cn1', event.seq],
    [
      'cn2Label',
      event.response?.status !== undefined ? 'httpStatus' : undefined,
    ],
    ['cn2', event.response?.status],
    ['flexString1Label', 'chainHash'],
    ['flexString1', event.hash],
    ['deviceExternalId', event.source],
  ];
  const extension = extensions
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}=${cefValueEscape(String(value))}`)
    .join(' ');
  return `${header}|${extension}`;
}
