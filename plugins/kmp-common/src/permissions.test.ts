import { isResourcePermission } from '@backstage/plugin-permission-common';
import {
  KMP_CLUSTER_RESOURCE_TYPE,
  kmpClusterReadPermission,
  kmpClusterRegisterPermission,
  kmpPermissions,
} from './permissions';
import { KMP_ANNOTATIONS, KMP_PREFIX } from './annotations';

describe('kmpPermissions', () => {
  it('have unique names under the kmp. namespace', () => {
    const names = kmpPermissions.map(p => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) {
      expect(name).toMatch(/^kmp\.[a-z-]+(\.[a-z-]+)*$/);
    }
  });

  it('scope per-cluster permissions to the cluster resource type', () => {
    expect(
      isResourcePermission(kmpClusterReadPermission, KMP_CLUSTER_RESOURCE_TYPE),
    ).toBe(true);
    expect(isResourcePermission(kmpClusterRegisterPermission)).toBe(false);
  });
});

describe('KMP_ANNOTATIONS', () => {
  it('all live under the one kmp prefix and are valid annotation keys', () => {
    for (const key of Object.values(KMP_ANNOTATIONS)) {
      expect(key.startsWith(`${KMP_PREFIX}/`)).toBe(true);
      expect(key.split('/')[1]).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    }
  });
});
