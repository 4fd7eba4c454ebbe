import { createApiRef } from '@backstage/core-plugin-api';
import { EnvironmentGroup } from '@kmp/plugin-kmp-common';

/** @public */
export interface KmpHealth {
  status: 'ok' | 'unavailable';
  database: 'ok' | 'unavailable';
}

/**
 * Client of the KMP backend (`/api/kmp`).
 *
 * @public
 */
export interface KmpApi {
  getHealth(): Promise<KmpHealth>;
  listEnvironmentGroups(): Promise<{ items: EnvironmentGroup[] }>;
}

/** @public */
export const kmpApiRef = createApiRef<KmpApi>({ id: 'plugin.kmp.service' });
