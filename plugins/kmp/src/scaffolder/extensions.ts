import { createScaffolderFieldExtension } from '@backstage/plugin-scaffolder-react';
import { kmpPlugin } from '../plugin';
import { KmpClusterPicker, validateKmpClusterPicker } from './KmpClusterPicker';
import { KmpSizeTierPicker } from './KmpSizeTierPicker';

/**
 * `ui:field: KmpClusterPicker` (legacy frontend system): a cluster or an
 * environment group of the fleet, from the KMP registry.
 *
 * @public
 */
export const KmpClusterPickerFieldExtension = kmpPlugin.provide(
  createScaffolderFieldExtension({
    name: 'KmpClusterPicker',
    component: KmpClusterPicker,
    validation: validateKmpClusterPicker,
  }),
);

/**
 * `ui:field: KmpSizeTierPicker` (legacy frontend system): a namespace size
 * tier with the quota it implies.
 *
 * @public
 */
export const KmpSizeTierPickerFieldExtension = kmpPlugin.provide(
  createScaffolderFieldExtension({
    name: 'KmpSizeTierPicker',
    component: KmpSizeTierPicker,
  }),
);
