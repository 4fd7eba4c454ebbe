import { createRouteRef } from '@backstage/core-plugin-api';

/** @public */
export const rootRouteRef = createRouteRef({ id: 'kmp' });

/** The audit explorer. @public */
export const auditRouteRef = createRouteRef({ id: 'kmp-audit' });

/** Break-glass requests and grants. @public */
export const breakGlassRouteRef = createRouteRef({ id: 'kmp-break-glass' });
