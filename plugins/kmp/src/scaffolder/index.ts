export {
  KmpClusterPicker,
  validateKmpClusterPicker,
  type KmpClusterPickerValue,
  type KmpClusterPickerUiOptions,
} from './KmpClusterPicker';
export {
  KmpSizeTierPicker,
  useSizeTiers,
  type SizeTierInfo,
} from './KmpSizeTierPicker';
export {
  KmpClusterPickerFieldExtension,
  KmpSizeTierPickerFieldExtension,
} from './extensions';
