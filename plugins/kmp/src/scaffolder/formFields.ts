import { createFormField } from '@backstage/plugin-scaffolder-react/alpha';
import { KmpClusterPicker, validateKmpClusterPicker } from './KmpClusterPicker';
import { KmpSizeTierPicker } from './KmpSizeTierPicker';

/** The cluster picker as a form field of the new frontend system. */
export const kmpClusterPickerFormField = createFormField({
  name: 'KmpClusterPicker',
  component: KmpClusterPicker,
  validation: validateKmpClusterPicker,
});

/** The size-tier picker as a form field of the new frontend system. */
export const kmpSizeTierPickerFormField = createFormField({
  name: 'KmpSizeTierPicker',
  component: KmpSizeTierPicker,
});
