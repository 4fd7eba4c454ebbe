/**
 * Scaffolder module of KMP: golden-path actions for tenants, apps and clusters.
 *
 * @packageDocumentation
 */

export { scaffolderModuleKmp as default } from './module';
export { createManifestsRenderAction } from './actions/manifestsRender';
export { createNamespaceCreateAction } from './actions/namespaceCreate';
export { createApplyAction } from './actions/apply';
export { createPolicyCheckAction } from './actions/policyCheck';
export { createGitopsPublishAction } from './actions/gitopsPublish';
export { createClusterRegisterAction } from './actions/clusterRegister';
export {
  renderGoldenPathApp,
  type GoldenPathAppParams,
} from './manifests/renderGoldenPathApp';
export {
  renderTenantNamespace,
  type TenantNamespaceParams,
} from './namespace/renderTenantNamespace';
export {
  DEFAULT_SIZE_TIERS,
  readGoldenPathsConfig,
  type GoldenPathsConfig,
  type GitopsRepository,
  type SizeTier,
  type TenantRoleBinding,
} from './config';
