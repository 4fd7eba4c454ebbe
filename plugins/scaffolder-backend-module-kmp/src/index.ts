/**
 * Scaffolder module of KMP: golden-path actions for tenants, apps and clusters.
 *
 * @packageDocumentation
 */

export { scaffolderModuleKmp as default } from './module';
export { createManifestsRenderAction } from './actions/manifestsRender';
export {
  renderGoldenPathApp,
  type GoldenPathAppParams,
} from './manifests/renderGoldenPathApp';
