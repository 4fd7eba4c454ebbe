import { createHash } from 'node:crypto';

/** The previous hash of the first event of a chain. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, undefined
 * members left out. Two events with the same content have the same canonical
 * form whatever the order their keys were built in, so the hash over it is
 * stable across processes and database round trips.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(`cannot hash the non-finite number ${value}`);
      }
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value
          .map(item => (item === undefined ? 'null' : canonicalJson(item)))
          .join(',')}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter(key => record[key] !== undefined)
        .sort();
      return `{${keys
        .map(key => `${JSON.stringify(key)}:${canonicalJson(record[key])}`)
        .join(',')}}`;
    }
    default:
      throw new TypeError(`cannot hash a value of type ${typeof value}`);
  }
}

/** hash = hex SHA-256(previous hash (hex) || canonical JSON of the event). */
export function chainHash(prevHash: string, canonical: string): string {
  return createHash('sha256').update(prevHash).update(canonical).digest('hex');
}
