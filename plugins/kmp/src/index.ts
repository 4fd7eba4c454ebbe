/**
 * KMP portal plugin: fleet view, cluster pages, audit explorer.
 *
 * @packageDocumentation
 */

export { kmpPlugin, KmpFleetPage } from './plugin';
export { rootRouteRef as kmpRootRouteRef } from './routes';
export * from './api';
