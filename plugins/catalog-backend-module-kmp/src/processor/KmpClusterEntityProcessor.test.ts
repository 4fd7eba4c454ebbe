import { Entity } from '@backstage/catalog-model';
import { KmpClusterEntityProcessor } from './KmpClusterEntityProcessor';

const location = {
  type: 'url',
  target: 'https://example.com/catalog-info.yaml',
};

function cluster(
  annotations: Record<string, string>,
  labels?: Record<string, string>,
): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: { name: 'payments-prod-eu1', annotations, labels },
    spec: { type: 'kubernetes-cluster', owner: 'group:default/platform-team' },
  };
}

describe('KmpClusterEntityProcessor', () => {
  const processor = new KmpClusterEntityProcessor();

  it('passes a cluster with valid kmp annotations through unchanged', async () => {
    const entity = cluster({
      'kmp.backstage.io/environment': 'production',
      'kmp.backstage.io/environment-group': 'payments-prod',
      'kmp.backstage.io/region': 'eu-west-1',
      'kmp.backstage.io/connectivity': 'direct',
      'kmp.backstage.io/kubernetes-version': 'v1.34.2',
    });
    await expect(processor.preProcessEntity(entity, location)).resolves.toBe(
      entity,
    );
  });

  it('leaves entities without kmp metadata alone', async () => {
    const entity = cluster({ 'backstage.io/managed-by-location': 'url:x' });
    await expect(processor.preProcessEntity(entity, location)).resolves.toBe(
      entity,
    );
  });

  it('names the entity, key, value and rule of an invalid value', async () => {
    await expect(
      processor.preProcessEntity(
        cluster({
          'kmp.backstage.io/environment': 'staging',
          'kmp.backstage.io/environment-group': 'payments-prod',
        }),
        location,
      ),
    ).rejects.toThrow(
      /^Invalid KMP metadata on Resource:default\/payments-prod-eu1: annotation 'kmp.backstage.io\/environment' has value 'staging': /,
    );
  });

  it('reports unknown kmp keys, invalid labels and missing required annotations together', async () => {
    const error = await processor
      .preProcessEntity(
        cluster(
          { 'kmp.backstage.io/enviroment': 'production' },
          { 'kmp.backstage.io/connectivity': 'satellite' },
        ),
        location,
      )
      .catch(e => e);
    expect(error.message).toContain(
      "unknown annotation 'kmp.backstage.io/enviroment'",
    );
    expect(error.message).toContain(
      "label 'kmp.backstage.io/connectivity' has value 'satellite'",
    );
    expect(error.message).toContain(
      "missing required annotation 'kmp.backstage.io/environment'",
    );
    expect(error.message).toContain(
      "missing required annotation 'kmp.backstage.io/environment-group'",
    );
  });

  it('validates kmp keys on other kinds too, without requiring cluster annotations', async () => {
    const component: Entity = {
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Component',
      metadata: {
        name: 'svc',
        annotations: { 'kmp.backstage.io/environment-group': 'Bad Group' },
      },
      spec: { type: 'service' },
    };
    await expect(
      processor.preProcessEntity(component, location),
    ).rejects.toThrow(
      "annotation 'kmp.backstage.io/environment-group' has value 'Bad Group'",
    );
    const ok: Entity = {
      ...component,
      metadata: {
        name: 'svc',
        annotations: { 'kmp.backstage.io/environment-group': 'payments-prod' },
      },
    };
    await expect(processor.preProcessEntity(ok, location)).resolves.toBe(ok);
  });
});
