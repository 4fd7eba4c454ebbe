import { Entity } from '@backstage/catalog-model';
import { TestApiProvider } from '@backstage/test-utils';
import { EntityProvider } from '@backstage/plugin-catalog-react';
import {
  KMP_ANNOTATIONS,
  Persona,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { ReactNode } from 'react';
import {
  KmpApi,
  kmpApiRef,
  KmpBrokerError,
  KmpMe,
  KubernetesObject,
} from '../../../api';
import { EntityKmpClusterProvider } from '../KmpClusterContext';

export function testCluster(
  overrides: Partial<RegisteredCluster> = {},
): RegisteredCluster {
  return {
    name: 'payments-dev-eu1',
    title: 'Payments dev (EU 1)',
    environment: 'non-production',
    environmentGroup: 'payments-nonprod',
    region: 'eu-west-1',
    profile: 'standard',
    kubernetesVersion: 'v1.35.4',
    connectivity: 'direct',
    lifecycleState: 'active',
    owner: 'group:default/platform-team',
    source: 'config',
    status: {
      nodeCount: 3,
      nodesReady: 3,
      controlPlaneHealthy: true,
      lastSeenAt: '2026-11-25T12:00:00Z',
      consecutiveFailures: 0,
    },
    createdAt: '2026-11-25T10:00:00Z',
    updatedAt: '2026-11-25T12:00:00Z',
    revision: 7,
    ...overrides,
  };
}

export const prodCluster = () =>
  testCluster({
    name: 'payments-prod-eu1',
    title: undefined,
    environment: 'production',
    environmentGroup: 'payments-prod',
  });

export function me(
  persona: Persona | undefined,
  environmentGroups = ['payments-nonprod', 'payments-prod'],
): KmpMe {
  return {
    user: 'user:default/alice',
    ownershipRefs: ['user:default/alice', 'group:default/team-payments'],
    gitops: false,
    personas: persona
      ? environmentGroups.map(g => ({
          environmentGroup: g,
          environment: g.endsWith('prod') ? 'production' : 'non-production',
          persona,
        }))
      : [],
  } as KmpMe;
}

export function clusterEntity(name = 'payments-dev-eu1'): Entity {
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: { name, annotations: { [KMP_ANNOTATIONS.cluster]: name } },
    spec: { type: 'kubernetes-cluster', owner: 'group:default/platform-team' },
  };
}

/** A broker answer: the list of a path, or an error to throw. */
export type BrokerFixture = Record<
  string,
  KubernetesObject[] | KmpBrokerError | Error
>;

export const refused = (message: string, statusCode = 403) =>
  new KmpBrokerError({ statusCode, message, auditId: 'audit-denied' });

export const unreachable = () =>
  new KmpBrokerError({
    statusCode: 503,
    message: "cluster 'payments-dev-eu1' is unreachable: connect ECONNREFUSED",
    auditId: 'audit-503',
  });

/**
 * The fixture of a path; a namespaced list without its own fixture is the
 * cluster-wide fixture filtered to the namespace, as the API server does.
 */
function brokerAnswer(
  broker: BrokerFixture,
  path: string,
): KubernetesObject[] | KubernetesObject | Error | undefined {
  if (path in broker) return broker[path];
  // One object of a listed collection: GET …/namespaces/team-payments.
  const parent = path.slice(0, path.lastIndexOf('/'));
  const list = broker[parent];
  if (Array.isArray(list)) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    return list.find(o => o.metadata.name === name);
  }
  const match =
    /^(\/apis?\/(?:[^/]+\/)?v1)\/namespaces\/([^/]+)\/([^/]+)$/.exec(path);
  const all = match && broker[`${match[1]}/${match[3]}`];
  if (!all) return undefined;
  if (all instanceof Error) return all;
  return all.filter(o => o.metadata.namespace === match[2]);
}

/**
 * A KmpApi fake for component tests: the registry answers `cluster`, the
 * broker answers lists from `broker` by path (without query), anything not
 * given fails loudly.
 */
export function fakeKmpApi(options: {
  cluster?: RegisteredCluster;
  me?: KmpMe | Error;
  broker?: BrokerFixture;
  overrides?: Partial<KmpApi>;
}): KmpApi {
  const cluster = options.cluster ?? testCluster();
  const base: Partial<KmpApi> = {
    getCluster: async () => cluster,
    getMe: async () => {
      if (options.me instanceof Error) throw options.me;
      return options.me ?? me('developer');
    },
    proxyJson: async <T,>(_c: string, path: string) => {
      const answer = brokerAnswer(options.broker ?? {}, path.split('?')[0]);
      if (answer === undefined) {
        throw new KmpBrokerError({
          statusCode: 404,
          message: `the server could not find the requested resource (${path})`,
        });
      }
      if (answer instanceof Error) throw answer;
      return {
        body: (Array.isArray(answer) ? { items: answer } : answer) as T,
        auditId: 'audit-read',
        warnings: [],
      };
    },
    // The backend's tenant-namespace lookup: the cluster's namespaces
    // (the broker fixture) labelled with one of the teams.
    listTenantNamespaces: async (clusterName: string, teams: string[]) => {
      const all = options.broker?.['/api/v1/namespaces'];
      if (all instanceof Error) throw all;
      return (all ?? [])
        .map(ns => ({
          cluster: clusterName,
          name: ns.metadata.name,
          team: ns.metadata.labels?.[KMP_ANNOTATIONS.team] ?? '',
        }))
        .filter(ns => teams.includes(ns.team));
    },
    // No break-glass requests unless a test gives some.
    listBreakGlassRequests: async () => ({ items: [] }),
    ...options.overrides,
  };
  return new Proxy(base as KmpApi, {
    get(target, prop) {
      if (prop in target) return (target as any)[prop];
      if (prop === 'then') return undefined;
      return () => {
        throw new Error(`fakeKmpApi: ${String(prop)} is not faked`);
      };
    },
  });
}

/** The page as an entity page renders it: entity, cluster and permissions. */
export function Wrapper(props: {
  api: KmpApi;
  entity?: Entity;
  children: ReactNode;
}) {
  return (
    <TestApiProvider apis={[[kmpApiRef, props.api]]}>
      <EntityProvider entity={props.entity ?? clusterEntity()}>
        <EntityKmpClusterProvider>{props.children}</EntityKmpClusterProvider>
      </EntityProvider>
    </TestApiProvider>
  );
}

export const deployment = (
  namespace: string,
  name: string,
  replicas: number,
  ready: number,
): KubernetesObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { replicas },
  status: { readyReplicas: ready },
});

export const pod = (
  namespace: string,
  name: string,
  restarts = 0,
): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace },
  spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] },
  status: {
    phase: 'Running',
    containerStatuses: [
      { name: 'app', ready: true, restartCount: restarts },
      { name: 'sidecar', ready: true, restartCount: 0 },
    ],
  },
});

export const namespace = (
  name: string,
  labels: Record<string, string> = {},
): KubernetesObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
  status: { phase: 'Active' },
});
