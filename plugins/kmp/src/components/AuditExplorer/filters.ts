import { AuditEventQuery } from '../../api';

/** The filters the explorer offers, in the order of the form. */
export type AuditFilter = Pick<
  AuditEventQuery,
  'actor' | 'action' | 'cluster' | 'decision' | 'outcome' | 'from' | 'to'
>;

const TEXT_KEYS = ['actor', 'action', 'cluster'] as const;
const DECISIONS = ['allow', 'deny'] as const;
const OUTCOMES = ['success', 'failure', 'pending'] as const;

function oneOf<T extends string>(
  values: readonly T[],
  value: string | null,
): T | undefined {
  return values.find(v => v === value);
}

function isoTime(value: string | null): string | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/**
 * Reads the filter from the page's query string, so that a filtered view
 * can be linked to (e.g. from a cluster page); unknown or malformed values
 * are dropped rather than sent to the backend.
 */
export function filterFromSearchParams(params: URLSearchParams): AuditFilter {
  const filter: AuditFilter = {};
  for (const key of TEXT_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  const decision = oneOf(DECISIONS, params.get('decision'));
  if (decision) filter.decision = decision;
  const outcome = oneOf(OUTCOMES, params.get('outcome'));
  if (outcome) filter.outcome = outcome;
  const from = isoTime(params.get('from'));
  if (from) filter.from = from;
  const to = isoTime(params.get('to'));
  if (to) filter.to = to;
  return filter;
}

/** The query string of a filter; empty values are left out. */
export function filterToSearchParams(filter: AuditFilter): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) {
    if (value) params.set(key, value);
  }
  return params;
}

/** `2026-11-25T12:00:00.000Z` → the `datetime-local` value in local time. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  const offsetMs = date.getTimezoneOffset() * 60_000;
  return new Date(date.getTime() - offsetMs).toISOString().slice(0, 16);
}

/** A `datetime-local` value (local time) → RFC 3339 in UTC. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}
