import { Entity } from '@backstage/catalog-model';
import {
  KMP_ANNOTATIONS,
  KUBERNETES_CLUSTER_ENTITY_TYPE,
} from '@kmp/plugin-kmp-common';

/**
 * True for catalog entities that are Kubernetes clusters
 * (`Resource` of `spec.type: kubernetes-cluster`).
 *
 * @public
 */
export function isKmpClusterEntity(entity: Entity): boolean {
  return (
    entity.kind.toLocaleLowerCase('en-US') === 'resource' &&
    entity.spec?.type === KUBERNETES_CLUSTER_ENTITY_TYPE
  );
}

/**
 * The KMP registry name of a cluster entity: the `kmp.backstage.io/cluster`
 * annotation the catalog module sets, else undefined (a cluster entity KMP
 * does not manage).
 *
 * @public
 */
export function kmpClusterNameOf(entity: Entity): string | undefined {
  return entity.metadata.annotations?.[KMP_ANNOTATIONS.cluster] || undefined;
}
