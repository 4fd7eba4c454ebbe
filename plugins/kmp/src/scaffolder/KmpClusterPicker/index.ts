export {
  KmpClusterPicker,
  validateKmpClusterPicker,
  type KmpClusterPickerValue,
  type KmpClusterPickerUiOptions,
} from './KmpClusterPicker';
