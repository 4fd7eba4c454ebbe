import { ConfigReader } from '@backstage/config';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import {
  DEFAULT_ROLE_BINDINGS,
  DEFAULT_SIZE_TIERS,
  readGoldenPathsConfig,
} from './config';

const read = (goldenPaths: unknown) =>
  readGoldenPathsConfig(new ConfigReader({ kmp: { goldenPaths } } as any));

describe('readGoldenPathsConfig', () => {
  it('has the platform defaults without configuration', () => {
    const config = readGoldenPathsConfig(new ConfigReader({}));
    expect(Object.keys(config.sizeTiers)).toEqual(['small', 'medium', 'large']);
    expect(config.defaultSizeTier).toBe('small');
    expect(config.gatewayNamespaces).toEqual(['gateway-system']);
    expect(config.roleBindings).toBe(DEFAULT_ROLE_BINDINGS);
    expect(config.gitops.repositories).toEqual([]);
  });

  it('reads the demo configuration of app-config.yaml, the same tiers as the defaults', async () => {
    const appConfig = parse(
      await fs.readFile(
        path.resolve(__dirname, '../../../app-config.yaml'),
        'utf8',
      ),
    );
    const config = readGoldenPathsConfig(new ConfigReader(appConfig));
    expect(config.sizeTiers).toEqual(DEFAULT_SIZE_TIERS);
  });

  it('applies repository defaults', () => {
    const config = read({
      gitops: {
        repositories: [
          {
            environmentGroup: 'payments-prod',
            url: 'https://git.example.com/p.git',
          },
        ],
      },
    });
    expect(config.gitops.repositories[0]).toEqual({
      environmentGroup: 'payments-prod',
      url: 'https://git.example.com/p.git',
      branch: 'main',
      path: 'clusters/{cluster}/namespaces/{namespace}',
    });
  });

  it.each([
    [
      {
        sizeTiers: {
          small: {
            quota: { pods: 'many' },
            limits: { default: {}, defaultRequest: {} },
          },
        },
      },
      'Invalid configuration at kmp.goldenPaths.sizeTiers.small.quota.pods: must be a Kubernetes quantity',
    ],
    [
      { defaultSizeTier: 'tiny' },
      "Invalid configuration at kmp.goldenPaths.defaultSizeTier: 'tiny' is not one of the size tiers (small, medium, large)",
    ],
    [
      {
        gitops: {
          repositories: [
            {
              environmentGroup: 'p',
              url: 'https://bot:token@git.example.com/p.git',
            },
          ],
        },
      },
      'Invalid configuration at kmp.goldenPaths.gitops.repositories[0].url: credentials go in auth, never in the URL',
    ],
    [
      {
        gitops: {
          repositories: [
            {
              environmentGroup: 'p',
              url: 'https://git.example.com/p.git',
              path: '../x',
            },
          ],
        },
      },
      'Invalid configuration at kmp.goldenPaths.gitops.repositories[0].path: must be a relative path without ..',
    ],
  ])('rejects %j with one line naming the key', (goldenPaths, message) => {
    expect(() => read(goldenPaths)).toThrow(message);
  });
});
