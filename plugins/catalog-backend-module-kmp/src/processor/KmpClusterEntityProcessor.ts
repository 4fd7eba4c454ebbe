import { Entity } from '@backstage/catalog-model';
import { LocationSpec } from '@backstage/plugin-catalog-common';
import { CatalogProcessor } from '@backstage/plugin-catalog-node';
import {
  clusterLifecycleStateSchema,
  connectivitySchema,
  dnsLabelSchema,
  environmentSchema,
  KMP_ANNOTATIONS,
  KMP_PREFIX,
  KUBERNETES_CLUSTER_ENTITY_TYPE,
  kubernetesVersionSchema,
  regionSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';

const knownKeys = new Map<string, z.ZodType<string> | undefined>([
  [KMP_ANNOTATIONS.cluster, dnsLabelSchema],
  [KMP_ANNOTATIONS.environment, environmentSchema],
  [KMP_ANNOTATIONS.environmentGroup, dnsLabelSchema],
  [KMP_ANNOTATIONS.region, regionSchema],
  [KMP_ANNOTATIONS.profile, dnsLabelSchema],
  [KMP_ANNOTATIONS.distribution, z.string().min(1).max(63)],
  [KMP_ANNOTATIONS.kubernetesVersion, kubernetesVersionSchema],
  [KMP_ANNOTATIONS.connectivity, connectivitySchema],
  [KMP_ANNOTATIONS.lifecycleState, clusterLifecycleStateSchema],
  [KMP_ANNOTATIONS.team, undefined],
  [KMP_ANNOTATIONS.owner, undefined],
  [KMP_ANNOTATIONS.costCentre, undefined],
  [KMP_ANNOTATIONS.policyBundleVersion, undefined],
]);

/** Annotations a cluster entity must carry to be governed by KMP. */
const requiredOnClusters = [
  KMP_ANNOTATIONS.environment,
  KMP_ANNOTATIONS.environmentGroup,
] as const;

function isClusterEntity(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'resource' &&
    entity.spec?.type === KUBERNETES_CLUSTER_ENTITY_TYPE
  );
}

/**
 * Validates the `kmp.` annotations and labels of entities from any source
 * (for example a hand-written `catalog-info.yaml`). A violation stops
 * processing of that entity with an error naming the entity, the key and the
 * rule, which the catalog reports on the entity and in its error log.
 *
 * @public
 */
export class KmpClusterEntityProcessor implements CatalogProcessor {
  getProcessorName(): string {
    return 'KmpClusterEntityProcessor';
  }

  async validateEntityKind(): Promise<boolean> {
    // Not a kind validator: this processor only adds checks.
    return false;
  }

  async preProcessEntity(
    entity: Entity,
    _location: LocationSpec,
  ): Promise<Entity> {
    const ref = `${entity.kind}:${entity.metadata.namespace ?? 'default'}/${
      entity.metadata.name
    }`;
    const problems: string[] = [];

    for (const [where, values] of [
      ['annotation', entity.metadata.annotations ?? {}],
      ['label', entity.metadata.labels ?? {}],
    ] as const) {
      for (const [key, value] of Object.entries(values)) {
        if (!key.startsWith(`${KMP_PREFIX}/`)) continue;
        if (!knownKeys.has(key)) {
          problems.push(`unknown ${where} '${key}'`);
          continue;
        }
        const schema = knownKeys.get(key);
        const result = schema?.safeParse(value);
        if (result && !result.success) {
          problems.push(
            `${where} '${key}' has value '${value}': ${result.error.issues[0].message}`,
          );
        }
      }
    }

    if (isClusterEntity(entity)) {
      const annotations = entity.metadata.annotations ?? {};
      const hasKmpMetadata = Object.keys(annotations).some(k =>
        k.startsWith(`${KMP_PREFIX}/`),
      );
      if (hasKmpMetadata) {
        for (const key of requiredOnClusters) {
          if (!annotations[key]) {
            problems.push(`missing required annotation '${key}'`);
          }
        }
      }
    }

    if (problems.length > 0) {
      throw new Error(`Invalid KMP metadata on ${ref}: ${problems.join('; ')}`);
    }
    return entity;
  }
}
