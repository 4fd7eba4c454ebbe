/**
 * Catalog module of KMP: cluster registry → catalog entities, and validation
 * of `kmp.` annotations on cluster entities from any source.
 *
 * @packageDocumentation
 */

export { catalogModuleKmp as default } from './module';
export { KmpClusterEntityProcessor } from './processor/KmpClusterEntityProcessor';
