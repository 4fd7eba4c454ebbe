/**
 * KMP portal plugin: fleet view, cluster pages, audit explorer.
 *
 * @packageDocumentation
 */

export {
  kmpPlugin,
  KmpFleetPage,
  KmpAuditPage,
  KmpBreakGlassPage,
  KmpPersonaHome,
  EntityKmpClusterContent,
  EntityKmpClusterOverviewCard,
} from './plugin';
export {
  isKmpClusterEntity,
  kmpClusterNameOf,
  useKmpPermissions,
} from './hooks';
export type { KmpPermissions } from './hooks';
export {
  rootRouteRef as kmpRootRouteRef,
  auditRouteRef as kmpAuditRouteRef,
  breakGlassRouteRef as kmpBreakGlassRouteRef,
} from './routes';
export * from './api';
export * from './scaffolder';
export * from './kubernetes';
