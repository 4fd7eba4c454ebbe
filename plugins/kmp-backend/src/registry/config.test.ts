import { ConfigReader } from '@backstage/config';
import { readEnvironmentGroupsConfig } from './config';

describe('readEnvironmentGroupsConfig', () => {
  it('returns an empty list when nothing is configured', () => {
    expect(readEnvironmentGroupsConfig(new ConfigReader({}))).toEqual([]);
  });

  it.each([
    [
      [{ name: 'Bad_Name', environment: 'edge', owner: 'group:default/x' }],
      'kmp.environmentGroups[0].name: must be a DNS-1123 label',
    ],
    [[{ name: 'a', environment: 'edge' }], 'kmp.environmentGroups[0].owner: '],
    [
      [
        {
          name: 'a',
          environment: 'edge',
          owner: 'group:default/x',
          colour: 'red',
        },
      ],
      'kmp.environmentGroups[0]: ',
    ],
    [
      [
        { name: 'a', environment: 'edge', owner: 'group:default/x' },
        { name: 'a', environment: 'edge', owner: 'group:default/x' },
      ],
      "kmp.environmentGroups[1].name: 'a' is declared twice",
    ],
  ])('names the broken key of %j', (groups, message) => {
    expect(() =>
      readEnvironmentGroupsConfig(
        new ConfigReader({ kmp: { environmentGroups: groups } }),
      ),
    ).toThrow(`Invalid configuration at ${message}`);
  });
});
