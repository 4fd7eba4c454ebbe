import { parseAllDocuments } from 'yaml';
import { declareObjects, mergeDeclared } from './declaredObjects';

describe('mergeDeclared', () => {
  it('merges maps by field and named lists by name, like server-side apply', () => {
    const declared = {
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              { name: 'api', image: 'api:1', env: [{ name: 'A', value: '1' }] },
              { name: 'sidecar', image: 'proxy:1' },
            ],
          },
        },
      },
    };
    const merged = mergeDeclared(declared, {
      spec: {
        template: {
          spec: {
            containers: [{ name: 'api', env: [{ name: 'B', value: '2' }] }],
          },
        },
      },
    });
    expect(merged).toEqual({
      spec: {
        replicas: 2,
        template: {
          spec: {
            containers: [
              {
                name: 'api',
                image: 'api:1',
                env: [
                  { name: 'A', value: '1' },
                  { name: 'B', value: '2' },
                ],
              },
              { name: 'sidecar', image: 'proxy:1' },
            ],
          },
        },
      },
    });
  });

  it('replaces scalars and lists without names', () => {
    expect(
      mergeDeclared({ args: ['a', 'b'], n: 1 }, { args: ['c'], n: 2 }),
    ).toEqual({ args: ['c'], n: 2 });
  });
});

describe('declareObjects', () => {
  const deployment = (replicas: number) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'api', namespace: 'team-a' },
    spec: { replicas },
  });

  it('gives a new object its own file', () => {
    const out = declareObjects(new Map(), [deployment(3)]);
    expect([...out.keys()]).toEqual(['deployment-api.yaml']);
    expect(
      parseAllDocuments(out.get('deployment-api.yaml')!).map(d => d.toJS()),
    ).toEqual([deployment(3)]);
  });

  it('edits a declared object in place, leaving its neighbours and other files alone', () => {
    const current = new Map([
      [
        'apps/api.yml',
        '# the api\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: team-a\nspec:\n  replicas: 1\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n',
      ],
      ['README.md', 'apiVersion: v1\n'],
      ['broken.yaml', 'a: [\n'],
    ]);
    const out = declareObjects(current, [deployment(4)]);
    expect([...out.keys()]).toEqual(['apps/api.yml']);
    const docs = parseAllDocuments(out.get('apps/api.yml')!).map(d => d.toJS());
    expect(docs).toEqual([
      deployment(4),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api' } },
    ]);
    expect(out.get('apps/api.yml')).toContain('# the api');
  });

  it('does not take an object of another API group for the declared one', () => {
    const current = new Map([
      [
        'deployment-api.yaml',
        'apiVersion: example.com/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: team-a\n',
      ],
    ]);
    const out = declareObjects(current, [deployment(1)]);
    expect([...out.keys()]).toEqual(['deployment-api-2.yaml']);
  });
});
