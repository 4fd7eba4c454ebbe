import { Entity } from '@backstage/catalog-model';
import { createExtensionTester } from '@backstage/frontend-test-utils';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import plugin from './alpha';

const entity = (kind: string, type: string): Entity => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind,
  metadata: { name: 'payments-dev-eu1' },
  spec: { type, owner: 'group:default/platform-team' },
});

describe('kmp plugin (new frontend system)', () => {
  it('adds a Cluster tab to kubernetes-cluster Resources only', () => {
    const tester = createExtensionTester(
      plugin.getExtension('entity-content:kmp/cluster'),
    );
    expect(tester.get(EntityContentBlueprint.dataRefs.title)).toBe('Cluster');
    const filter = tester.get(EntityContentBlueprint.dataRefs.filterFunction)!;
    expect(filter(entity('Resource', 'kubernetes-cluster'))).toBe(true);
    expect(filter(entity('Resource', 'database'))).toBe(false);
    expect(filter(entity('Component', 'kubernetes-cluster'))).toBe(false);
  });

  it('adds the cluster overview card to the same entities', () => {
    const tester = createExtensionTester(
      plugin.getExtension('entity-card:kmp/cluster-overview'),
    );
    const filter = tester.get(EntityCardBlueprint.dataRefs.filterFunction)!;
    expect(filter(entity('Resource', 'kubernetes-cluster'))).toBe(true);
    expect(filter(entity('Component', 'service'))).toBe(false);
  });
});
