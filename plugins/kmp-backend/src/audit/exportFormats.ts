import { StoredAuditEvent } from '@kmp/plugin-kmp-common';

/** The columns of the CSV export, in order. */
export const CSV_COLUMNS: Array<[string, (e: StoredAuditEvent) => unknown]> = [
  ['seq', e => e.seq],
  ['id', e => e.id],
  ['time', e => e.time],
  ['actorType', e => e.actor.type],
  ['actor', e => e.actor.ref],
  ['persona', e => e.actor.persona],
  ['ip', e => e.actor.ip],
  ['userAgent', e => e.actor.userAgent],
  ['action', e => e.action],
  ['cluster', e => e.target.cluster],
  ['environmentGroup', e => e.target.environmentGroup],
  ['namespace', e => e.target.namespace],
  [
    'resource',
    e =>
      e.target.resource
        ? [
            e.target.resource.group,
            e.target.resource.version,
            e.target.resource.resource,
            e.target.resource.subresource,
            e.target.resource.name,
          ]
            .filter(Boolean)
            .join('/')
        : undefined,
  ],
  ['decision', e => e.decision.result],
  ['reason', e => e.decision.reason],
  ['outcome', e => e.outcome],
  ['correlationId', e => e.correlationId],
  ['method', e => e.request?.method],
  ['path', e => e.request?.path],
  ['status', e => e.response?.status],
  ['source', e => e.source],
  ['hash', e => e.hash],
];

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would run as a formula
 * (starting with = + - @ or a control character) gets a leading quote, so
 * an attacker-chosen actor name or path cannot execute when an auditor opens
 * the export.
 */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) {
    text = `'${text}`;
  }
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvHeader(): string {
  return `${CSV_COLUMNS.map(([name]) => name).join(',')}\r\n`;
}

export function csvRow(event: StoredAuditEvent): string {
  return `${CSV_COLUMNS.map(([, get]) => csvCell(get(event))).join(',')}\r\n`;
}

export function ndjsonLine(event: StoredAuditEvent): string {
  return `${JSON.stringify(event)}\n`;
}
