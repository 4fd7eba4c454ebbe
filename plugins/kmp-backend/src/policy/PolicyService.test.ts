import { mockServices } from '@backstage/backend-test-utils';
import { InputError } from '@backstage/errors';
import path from 'node:path';
import { buildCase } from './__testUtils__/policyCorpus';
import { PolicyBundleSet } from './bundle/PolicyBundleSet';
import { PolicyRegistry, PolicyService } from './PolicyService';
import { PolicyStore } from './PolicyStore';

describe('PolicyService.evaluate', () => {
  function createService() {
    const get = jest.fn(async (name: string) =>
      name === 'payments-prod'
        ? { name, environment: 'production' as const, owner: 'group:x' }
        : undefined,
    );
    const registry = {
      environmentGroups: { get },
    } as unknown as PolicyRegistry;
    const service = PolicyService.create({
      bundles: PolicyBundleSet.load(path.resolve(__dirname, '../../policies')),
      registry,
      store: {} as PolicyStore,
      logger: mockServices.logger.mock(),
    });
    return { service, get };
  }
  const manifests = [
    buildCase('app', 'Deployment', 'team-payments', ['privileged']).object,
  ];

  it('looks an environment group up once, and still refuses a wrong environment', async () => {
    const { service, get } = createService();
    for (let i = 0; i < 3; i++) {
      const response = await service.evaluate({
        target: {
          environment: 'production',
          environmentGroup: 'payments-prod',
        },
        manifests,
      });
      expect(response.bundle.environmentGroup).toBe('payments-prod');
      expect(response.results[0].violations.map(v => v.ruleId)).toContain(
        'pod-security-privileged',
      );
    }
    expect(get).toHaveBeenCalledTimes(1);

    await expect(
      service.evaluate({
        target: { environment: 'edge', environmentGroup: 'payments-prod' },
        manifests,
      }),
    ).rejects.toThrow(
      new InputError(
        "environment group 'payments-prod' is production, not edge",
      ),
    );
  });

  it('asks again for a group that did not exist', async () => {
    const { service, get } = createService();
    for (let i = 0; i < 2; i++) {
      await expect(
        service.evaluate({
          target: { environment: 'production', environmentGroup: 'nope' },
          manifests,
        }),
      ).rejects.toThrow("environment group 'nope' does not exist");
    }
    expect(get).toHaveBeenCalledTimes(2);
  });
});
