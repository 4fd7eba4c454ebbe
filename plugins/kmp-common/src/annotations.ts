/**
 * The one prefix of every KMP label and annotation key.
 *
 * @public
 */
export const KMP_PREFIX = 'kmp.backstage.io';

/**
 * Label and annotation keys that KMP puts on catalog entities and on the
 * Kubernetes objects it creates.
 *
 * @public
 */
export const KMP_ANNOTATIONS = {
  cluster: `${KMP_PREFIX}/cluster`,
  environment: `${KMP_PREFIX}/environment`,
  environmentGroup: `${KMP_PREFIX}/environment-group`,
  region: `${KMP_PREFIX}/region`,
  profile: `${KMP_PREFIX}/profile`,
  distribution: `${KMP_PREFIX}/distribution`,
  kubernetesVersion: `${KMP_PREFIX}/kubernetes-version`,
  connectivity: `${KMP_PREFIX}/connectivity`,
  lifecycleState: `${KMP_PREFIX}/lifecycle-state`,
  team: `${KMP_PREFIX}/team`,
  owner: `${KMP_PREFIX}/owner`,
  costCentre: `${KMP_PREFIX}/cost-centre`,
  policyBundleVersion: `${KMP_PREFIX}/policy-bundle-version`,
} as const;

/** @public */
export type KmpAnnotationKey =
  (typeof KMP_ANNOTATIONS)[keyof typeof KMP_ANNOTATIONS];

/**
 * The annotations the stock `@backstage/plugin-kubernetes` catalog cluster
 * locator requires on `Resource` entities of type `kubernetes-cluster`.
 *
 * @public
 */
export const KUBERNETES_CLUSTER_ANNOTATIONS = {
  apiServer: 'kubernetes.io/api-server',
  apiServerCertificateAuthority:
    'kubernetes.io/api-server-certificate-authority',
  authProvider: 'kubernetes.io/auth-provider',
  skipTlsVerify: 'kubernetes.io/skip-tls-verify',
} as const;

/**
 * `spec.type` of cluster entities.
 *
 * @public
 */
export const KUBERNETES_CLUSTER_ENTITY_TYPE = 'kubernetes-cluster';

/**
 * `spec.type` of environment group entities.
 *
 * @public
 */
export const ENVIRONMENT_GROUP_ENTITY_TYPE = 'kmp-environment-group';
