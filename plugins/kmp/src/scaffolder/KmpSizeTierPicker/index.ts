export {
  KmpSizeTierPicker,
  useSizeTiers,
  type SizeTierInfo,
} from './KmpSizeTierPicker';
