/**
 * The KMP persona RBAC mapper: a permission policy module that turns
 * identity-provider groups into persona decisions.
 *
 * @packageDocumentation
 */

export { permissionModuleKmpPolicy as default } from './module';
export { KmpPermissionPolicy } from './KmpPermissionPolicy';
