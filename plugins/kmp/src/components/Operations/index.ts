export {
  DEFAULT_GITOPS_URL,
  GitOpsNotice,
  GuardedAction,
  visibilityOf,
} from './GuardedAction';
export type { ActionVisibility } from './GuardedAction';
export { PodLogsDialog } from './PodLogsDialog';
