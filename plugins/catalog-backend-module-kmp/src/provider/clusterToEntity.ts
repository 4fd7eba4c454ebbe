import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  Entity,
} from '@backstage/catalog-model';
import {
  EnvironmentGroup,
  ENVIRONMENT_GROUP_ENTITY_TYPE,
  KMP_ANNOTATIONS,
  KUBERNETES_CLUSTER_ANNOTATIONS,
  KUBERNETES_CLUSTER_ENTITY_TYPE,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';

export const LOCATION = 'kmp-registry:kmp';

export interface EntityOptions {
  /** External base URL of the KMP backend, e.g. http://localhost:7007/api/kmp */
  kmpBaseUrl: string;
  /** Base64 PEM of the CA of the broker's URL, when it is served over https. */
  brokerCertificateAuthority?: string;
  /** The auth provider the stock Kubernetes plugin uses towards the broker. */
  authProvider: string;
}

const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function labelSafe(value: string | undefined): string | undefined {
  return value && value.length <= 63 && LABEL_VALUE.test(value)
    ? value
    : undefined;
}

function compact(
  record: Record<string, string | undefined>,
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(record).filter(
      (e): e is [string, string] => e[1] !== undefined,
    ),
  );
}

/**
 * A registered cluster as a catalog entity: `Resource` of type
 * `kubernetes-cluster`, part of its environment group's `System`, carrying
 * the kmp metadata and the three annotations the stock Kubernetes plugin's
 * catalog cluster locator needs — pointing at the KMP access broker, never
 * at the cluster itself. No credential is ever part of an entity.
 */
export function clusterToEntity(
  cluster: RegisteredCluster,
  options: EntityOptions,
): Entity {
  const kmp = {
    [KMP_ANNOTATIONS.cluster]: cluster.name,
    [KMP_ANNOTATIONS.environment]: cluster.environment,
    [KMP_ANNOTATIONS.environmentGroup]: cluster.environmentGroup,
    [KMP_ANNOTATIONS.region]: cluster.region,
    [KMP_ANNOTATIONS.profile]: cluster.profile,
    [KMP_ANNOTATIONS.connectivity]: cluster.connectivity,
    [KMP_ANNOTATIONS.lifecycleState]: cluster.lifecycleState,
    [KMP_ANNOTATIONS.distribution]: cluster.distribution,
    [KMP_ANNOTATIONS.kubernetesVersion]: cluster.kubernetesVersion,
  };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: cluster.name,
      ...(cluster.title ? { title: cluster.title } : {}),
      ...(cluster.description ? { description: cluster.description } : {}),
      labels: compact(
        Object.fromEntries(
          Object.entries(kmp).map(([k, v]) => [k, labelSafe(v)]),
        ),
      ),
      annotations: compact({
        ...kmp,
        [ANNOTATION_LOCATION]: LOCATION,
        [ANNOTATION_ORIGIN_LOCATION]: LOCATION,
        [KUBERNETES_CLUSTER_ANNOTATIONS.apiServer]: `${options.kmpBaseUrl}/proxy/clusters/${cluster.name}`,
        [KUBERNETES_CLUSTER_ANNOTATIONS.apiServerCertificateAuthority]:
          options.brokerCertificateAuthority ?? '',
        [KUBERNETES_CLUSTER_ANNOTATIONS.authProvider]: options.authProvider,
      }),
      tags: [cluster.environment, cluster.connectivity].filter(t =>
        /^[a-z0-9:+#-]+$/.test(t),
      ),
    },
    spec: {
      type: KUBERNETES_CLUSTER_ENTITY_TYPE,
      owner: cluster.owner,
      lifecycle:
        cluster.environment === 'production' ? 'production' : 'experimental',
      system: cluster.environmentGroup,
    },
  };
}

/** An environment group as a `System`: the catalog graph shows fleet segments. */
export function environmentGroupToEntity(group: EnvironmentGroup): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'System',
    metadata: {
      name: group.name,
      ...(group.title ? { title: group.title } : {}),
      description:
        group.description ?? `KMP environment group (${group.environment})`,
      labels: { [KMP_ANNOTATIONS.environment]: group.environment },
      annotations: {
        [KMP_ANNOTATIONS.environmentGroup]: group.name,
        [KMP_ANNOTATIONS.environment]: group.environment,
        [ANNOTATION_LOCATION]: LOCATION,
        [ANNOTATION_ORIGIN_LOCATION]: LOCATION,
      },
      tags: [group.environment, ENVIRONMENT_GROUP_ENTITY_TYPE],
    },
    spec: { owner: group.owner, type: ENVIRONMENT_GROUP_ENTITY_TYPE },
  };
}
