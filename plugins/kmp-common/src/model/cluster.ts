import { z } from 'zod';
import { dnsLabelSchema, entityRefSchema, environmentSchema } from './common';
import { gitOpsEngineSchema, gitOpsStateSchema } from '../gitops/classify';

/**
 * How KMP reaches a cluster: `direct` to its API server, `edge` through an
 * outbound-only agent tunnel, `edge-async` through queued commands that an
 * intermittently connected agent collects.
 *
 * @public
 */
export const connectivitySchema = z.enum(['direct', 'edge', 'edge-async']);

/** @public */
export type Connectivity = z.infer<typeof connectivitySchema>;

/**
 * Lifecycle of a cluster in the registry.
 *
 * @public
 */
export const clusterLifecycleStateSchema = z.enum([
  'registering',
  'active',
  'degraded',
  'unreachable',
  'decommissioned',
]);

/** @public */
export type ClusterLifecycleState = z.infer<typeof clusterLifecycleStateSchema>;

/**
 * A region identifier such as `eu-west-1`, `dc-frankfurt` or `store-0042`.
 *
 * @public
 */
export const regionSchema = z
  .string()
  .min(1)
  .max(63)
  .regex(
    /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/,
    "must be lower-case letters, digits, '-', '_' or '.'",
  );

/**
 * A Kubernetes version as reported by `/version`, e.g. `v1.34.2` or
 * `v1.33.5+k3s1`.
 *
 * @public
 */
export const kubernetesVersionSchema = z
  .string()
  .regex(
    /^v?\d+\.\d+(\.\d+)?([-+][0-9A-Za-z.+-]*)?$/,
    'must be a Kubernetes version such as v1.34.2',
  );

/**
 * A cluster as the registry knows it. Credentials are deliberately absent:
 * they live encrypted in the backend and never leave it.
 *
 * @public
 */
export const clusterSchema = z.object({
  name: dnsLabelSchema,
  title: z.string().min(1).max(200).optional(),
  description: z.string().max(2000).optional(),
  environment: environmentSchema,
  environmentGroup: dnsLabelSchema,
  region: regionSchema,
  profile: dnsLabelSchema,
  distribution: z.string().min(1).max(63).optional(),
  kubernetesVersion: kubernetesVersionSchema.optional(),
  connectivity: connectivitySchema,
  lifecycleState: clusterLifecycleStateSchema,
  owner: entityRefSchema,
  apiServerUrl: z.url({ protocol: /^https?$/ }).optional(),
  labels: z.record(z.string(), z.string()).optional(),
});

/** @public */
export type Cluster = z.infer<typeof clusterSchema>;

/**
 * One GitOps object that needs attention, as the registry's refresh loop
 * last observed it.
 *
 * @public
 */
export const clusterGitOpsObjectSchema = z.object({
  engine: gitOpsEngineSchema,
  kind: z.string().min(1).max(63),
  namespace: z.string().max(253),
  name: z.string().min(1).max(253),
  state: gitOpsStateSchema,
  reason: z.string().max(300).optional(),
  message: z.string().max(300).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

/** @public */
export type ClusterGitOpsObject = z.infer<typeof clusterGitOpsObjectSchema>;

/**
 * The GitOps state of a cluster, summarised: how many Flux Kustomizations
 * and HelmReleases and Argo CD Applications it has, and those failing or
 * (Argo CD) out of sync, at most 50 of each with their total counts.
 *
 * @public
 */
export const clusterGitOpsStatusSchema = z.object({
  objects: z.number().int().nonnegative(),
  failingCount: z.number().int().nonnegative(),
  outOfSyncCount: z.number().int().nonnegative(),
  failing: z.array(clusterGitOpsObjectSchema).max(50),
  outOfSync: z.array(clusterGitOpsObjectSchema).max(50),
  /** When the refresh loop last listed them completely. */
  checkedAt: z.iso.datetime({ offset: true }).optional(),
});

/** @public */
export type ClusterGitOpsStatus = z.infer<typeof clusterGitOpsStatusSchema>;

/**
 * The node problems of a cluster, from the node list the registry's refresh
 * loop read last: nodes reporting MemoryPressure, DiskPressure or
 * PIDPressure, cordoned nodes (`spec.unschedulable`), and nodes whose
 * network (CNI) is not set up (`NetworkUnavailable`). Each list holds at
 * most 50 nodes, sorted by name; the counts are of all of them.
 *
 * @public
 */
export const clusterNodeProblemsSchema = z.object({
  pressure: z
    .array(
      z.object({
        node: z.string().min(1).max(253),
        conditions: z
          .array(z.enum(['MemoryPressure', 'DiskPressure', 'PIDPressure']))
          .min(1)
          .max(3),
      }),
    )
    .max(50),
  pressureCount: z.number().int().nonnegative(),
  unschedulable: z.array(z.string().min(1).max(253)).max(50),
  unschedulableCount: z.number().int().nonnegative(),
  networkUnavailable: z.array(z.string().min(1).max(253)).max(50),
  networkUnavailableCount: z.number().int().nonnegative(),
  /** When the refresh loop last read the node list. */
  checkedAt: z.iso.datetime({ offset: true }).optional(),
});

/** @public */
export type ClusterNodeProblems = z.infer<typeof clusterNodeProblemsSchema>;

/** @public */
export type NodePressureCondition =
  ClusterNodeProblems['pressure'][number]['conditions'][number];

/**
 * Live metadata the registry's refresh loop observes on a cluster.
 *
 * @public
 */
export const clusterStatusSchema = z.object({
  nodeCount: z.number().int().nonnegative().optional(),
  nodesReady: z.number().int().nonnegative().optional(),
  controlPlaneHealthy: z.boolean().optional(),
  lastSeenAt: z.iso.datetime({ offset: true }).optional(),
  lastCheckedAt: z.iso.datetime({ offset: true }).optional(),
  lastError: z.string().max(1000).optional(),
  consecutiveFailures: z.number().int().nonnegative().optional(),
  /** The API server's serving certificate, from the last TLS handshake. */
  servingCertificate: z
    .object({
      notAfter: z.iso.datetime({ offset: true }),
      subject: z.string().max(500),
    })
    .optional(),
  /**
   * GitOps objects failing or out of sync, from the last refresh that
   * could list them all; absent when never observed.
   */
  gitops: clusterGitOpsStatusSchema.optional(),
  /**
   * Nodes under pressure, cordoned or without network, from the last
   * refresh that read the node list; absent when never observed.
   */
  nodeProblems: clusterNodeProblemsSchema.optional(),
});

/** @public */
export type ClusterStatus = z.infer<typeof clusterStatusSchema>;

/**
 * A tenant namespace the registry's refresh loop observed on a cluster: a
 * namespace labelled `kmp.backstage.io/team`, with that team.
 *
 * @public
 */
export const clusterTenantSchema = z.object({
  namespace: dnsLabelSchema,
  team: z.string().min(1).max(63),
});

/** @public */
export type ClusterTenant = z.infer<typeof clusterTenantSchema>;

/**
 * A cluster with its registry bookkeeping, as the API returns it.
 *
 * @public
 */
export const registeredClusterSchema = clusterSchema.extend({
  source: z.enum(['config', 'api', 'kubeconfig']),
  status: clusterStatusSchema,
  createdAt: z.iso.datetime({ offset: true }),
  updatedAt: z.iso.datetime({ offset: true }),
  decommissionedAt: z.iso.datetime({ offset: true }).optional(),
  /** Registry-wide revision of the last change to this cluster. */
  revision: z.number().int().nonnegative(),
  /**
   * Tenant namespaces last observed on the cluster, by namespace name;
   * absent when the cluster was never observed (edge clusters, clusters not
   * reached yet).
   */
  tenants: z.array(clusterTenantSchema).optional(),
});

/** @public */
export type RegisteredCluster = z.infer<typeof registeredClusterSchema>;

/**
 * Credentials to reach a cluster's API server. Input only: the registry
 * encrypts them at rest and never returns them.
 *
 * @public
 */
export const clusterCredentialsSchema = z
  .object({
    token: z.string().min(1).max(16384).optional(),
    clientCertificate: z.string().min(1).max(65536).optional(),
    clientKey: z.string().min(1).max(65536).optional(),
    certificateAuthority: z.string().min(1).max(65536).optional(),
    skipTlsVerify: z.boolean().optional(),
  })
  .strict()
  .refine(c => !!c.clientCertificate === !!c.clientKey, {
    message: 'clientCertificate and clientKey must be given together',
    path: ['clientKey'],
  })
  .refine(c => !!c.token || !!c.clientCertificate, {
    message: 'a token or a client certificate is required',
  });

/** @public */
export type ClusterCredentials = z.infer<typeof clusterCredentialsSchema>;

/**
 * What a caller sends to register a cluster.
 *
 * @public
 */
export const clusterRegistrationSchema = clusterSchema
  .omit({ lifecycleState: true, kubernetesVersion: true, environment: true })
  .extend({
    connectivity: connectivitySchema.default('direct'),
    credentials: clusterCredentialsSchema.optional(),
  })
  .strict()
  .refine(c => c.connectivity !== 'direct' || !!c.apiServerUrl, {
    message: 'apiServerUrl is required for directly connected clusters',
    path: ['apiServerUrl'],
  })
  .refine(c => c.connectivity !== 'direct' || !!c.credentials, {
    message: 'credentials are required for directly connected clusters',
    path: ['credentials'],
  });

/** @public */
export type ClusterRegistration = z.infer<typeof clusterRegistrationSchema>;

/**
 * The metadata of a registered cluster that can be changed.
 *
 * @public
 */
export const clusterUpdateSchema = clusterSchema
  .pick({
    title: true,
    description: true,
    environmentGroup: true,
    region: true,
    profile: true,
    distribution: true,
    owner: true,
    labels: true,
    apiServerUrl: true,
  })
  .partial()
  .extend({ credentials: clusterCredentialsSchema.optional() })
  .strict()
  .refine(u => Object.keys(u).length > 0, {
    message: 'at least one field must be given',
  });

/** @public */
export type ClusterUpdate = z.infer<typeof clusterUpdateSchema>;
