export { ClickOpsCard } from './ClickOpsCard';
export { manifestOf, validateChange } from './manifests';
export type { ClickOpsChange } from './manifests';
