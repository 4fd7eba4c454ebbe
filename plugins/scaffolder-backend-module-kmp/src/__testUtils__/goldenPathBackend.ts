import {
  BackendFeature,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { InMemoryCatalogClient } from '@backstage/catalog-client/testUtils';
import { Entity } from '@backstage/catalog-model';
import {
  CatalogService,
  catalogServiceRef,
} from '@backstage/plugin-catalog-node';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import {
  TemplateAction,
  createTemplateAction,
  scaffolderActionsExtensionPoint,
} from '@backstage/plugin-scaffolder-node';
import { JsonObject } from '@backstage/types';
import { TestbedCluster } from '@kmp/kube-testbed';
// The catalog module's own provider publishes the registry's clusters into
// the test catalog; it is test code reuse, not part of the package API.
// eslint-disable-next-line @backstage/no-forbidden-package-imports, @backstage/no-mixed-plugin-imports
import { KmpClusterEntityProvider } from '@kmp/plugin-catalog-backend-module-kmp/src/provider/KmpClusterEntityProvider';
// eslint-disable-next-line @backstage/no-forbidden-package-imports, @backstage/no-mixed-plugin-imports
import { KmpRegistryClient } from '@kmp/plugin-catalog-backend-module-kmp/src/provider/KmpRegistryClient';
// The tests run the real KMP backend next to the scaffolder, as a deployment does.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import kmpPlugin from '@kmp/plugin-kmp-backend';
// The KMP backend's test services (deny-list permissions, catalog-like user
// info), shared with its own tests rather than copied.
// eslint-disable-next-line @backstage/no-forbidden-package-imports, @backstage/no-mixed-plugin-imports
import {
  denyListPermissionsFactory,
  groupsUserInfoFactory,
  testKmpConfig,
} from '@kmp/plugin-kmp-backend/src/__testUtils__/testServices';
import { RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { scaffolderModuleKmp } from '../module';

/** Users of the test organisation, after the demo organisation. */
export const TEST_USERS: Record<
  string,
  { groups: string[]; displayName: string; email: string }
> = {
  'user:default/alice': {
    groups: ['group:default/team-payments'],
    displayName: 'Alice Developer',
    email: 'alice@example.com',
  },
  'user:default/petra': {
    groups: ['group:default/platform-team'],
    displayName: 'Petra Platform',
    email: 'petra@example.com',
  },
  'user:default/outsider': {
    groups: [],
    displayName: 'Otto Outsider',
    email: 'otto@example.com',
  },
};

/** Permissions the test backend denies, per user; everything else is allowed. */
const DENIED: Record<string, string[]> = {
  'user:default/alice': ['kmp.cluster.register'],
  'user:default/outsider': [
    'kmp.cluster.read',
    'kmp.cluster.register',
    'kmp.cluster.access.read',
    'kmp.cluster.access.write',
  ],
};

const permissionsFactory = denyListPermissionsFactory(DENIED);
const userInfoFactory = groupsUserInfoFactory(
  Object.fromEntries(Object.entries(TEST_USERS).map(([r, u]) => [r, u.groups])),
);

function userEntities(): Entity[] {
  return Object.entries(TEST_USERS).map(([ref, u]) => ({
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: ref.split('/')[1], namespace: 'default' },
    spec: {
      profile: { displayName: u.displayName, email: u.email },
      memberOf: u.groups,
    },
  }));
}

/**
 * A test-only action that hands a workspace file back as a step output: the
 * scaffolder removes a task's workspace when the task ends, so a test that
 * needs a rendered file (e.g. `catalog-info.yaml`) appends this step.
 */
export const READ_WORKSPACE_FILE_ACTION = 'kmp-test:workspace:read';

const testActionsModule = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'kmp-test-actions',
  register(reg) {
    reg.registerInit({
      deps: { scaffolder: scaffolderActionsExtensionPoint },
      async init({ scaffolder }) {
        scaffolder.addActions(
          createTemplateAction({
            id: READ_WORKSPACE_FILE_ACTION,
            schema: {
              input: { path: z => z.string() },
              output: { content: z => z.string() },
            },
            async handler(ctx) {
              ctx.output(
                'content',
                await fs.readFile(
                  path.join(ctx.workspacePath, ctx.input.path),
                  'utf8',
                ),
              );
            },
          }),
        );
      },
    });
  },
});

/**
 * The test backend's catalog: in memory, with entities added later as the
 * catalog's processing would add them.
 */
function testCatalog(initial: Entity[]) {
  const entities = [...initial];
  let client = new InMemoryCatalogClient({ entities });
  const service = new Proxy({} as CatalogService, {
    get: (_target, prop) => {
      const value = (client as any)[prop];
      return typeof value === 'function' ? value.bind(client) : value;
    },
  });
  return {
    service,
    add(added: Entity[]) {
      entities.push(
        ...added.map(e => ({
          ...e,
          metadata: { namespace: 'default', ...e.metadata },
        })),
      );
      client = new InMemoryCatalogClient({ entities });
    },
  };
}

/** A template of `templates/` as the catalog would hold it. */
export async function loadTemplate(name: string): Promise<Entity> {
  const file = path.resolve(__dirname, '../../../../templates', name);
  const entity = parse(await fs.readFile(file, 'utf8')) as Entity;
  entity.metadata.namespace = 'default';
  return entity;
}

export interface TaskRun {
  id: string;
  status: string;
  output?: Record<string, any>;
  /** Every log line of the task's events. */
  log: string[];
  /** The error message of a failed task. */
  error?: string;
}

export interface GoldenPathBackend {
  baseUrl: string;
  stop(): Promise<void>;
  /** Runs one action's handler against this backend, as a user. */
  runAction(
    action: TemplateAction<any, any, any>,
    input: Record<string, unknown>,
    options?: { user?: string; dryRun?: boolean; workspacePath?: string },
  ): Promise<{
    outputs: Record<string, any>;
    workspacePath: string;
    log: string[];
  }>;
  /** Runs a template through the scaffolder's task API, as a user. */
  runTask(
    templateRef: string,
    values: Record<string, unknown>,
    user: string,
    secrets?: Record<string, string>,
  ): Promise<TaskRun>;
  /** An authenticated JSON request to the backend. */
  fetchJson(
    user: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }>;
  /** The backend's catalog, and a way to add entities to it. */
  catalog: {
    service: CatalogService;
    add(entities: Entity[]): void;
    /** Publishes the registry's clusters with KMP's catalog module's provider. */
    publishClusters(): Promise<void>;
  };
  /** What the actions get from the backend. */
  deps: {
    auth: ReturnType<typeof mockServices.auth>;
    discovery: {
      getBaseUrl(id: string): Promise<string>;
      getExternalBaseUrl(id: string): Promise<string>;
    };
  };
}

/**
 * A real backend with the KMP plugin (registry, broker, policy), the
 * scaffolder with this module, a catalog holding the test users and the
 * given templates, and testbed clusters registered in KMP. Cluster RBAC is
 * the cluster's own: platform-team is bound to cluster-admin, nothing else.
 */
export async function startGoldenPathBackend(options: {
  clusters: Array<{
    name: string;
    cluster: TestbedCluster;
    environmentGroup: 'apps-prod' | 'apps-nonprod';
  }>;
  goldenPaths?: JsonObject;
  templates?: Entity[];
  /** More backend features (e.g. the Kubernetes plugin). */
  features?: BackendFeature[];
  /** More top-level configuration (e.g. `kubernetes`). */
  config?: JsonObject;
}): Promise<GoldenPathBackend> {
  const catalog = testCatalog([
    ...userEntities(),
    ...(options.templates ?? []),
  ]);
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      scaffolderPlugin,
      scaffolderModuleKmp,
      testActionsModule,
      ...(options.features ?? []),
      createServiceFactory({
        service: catalogServiceRef,
        deps: {},
        factory: () => catalog.service,
      }),
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      permissionsFactory,
      userInfoFactory,
      mockServices.rootConfig.factory({
        data: {
          ...options.config,
          kmp: {
            ...testKmpConfig(),
            ...(options.goldenPaths
              ? { goldenPaths: options.goldenPaths }
              : {}),
          },
        },
      }),
    ],
  });
  const server = backend.server as http.Server;
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fetchJson: GoldenPathBackend['fetchJson'] = async (
    user,
    method,
    urlPath,
    body,
  ) => {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: {
        authorization: mockCredentials.user.header(user),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed };
  };

  for (const c of options.clusters) {
    const registered = await fetchJson(
      'user:default/petra',
      'POST',
      '/api/kmp/clusters',
      {
        name: c.name,
        environmentGroup: c.environmentGroup,
        region: 'eu-west-1',
        profile: c.environmentGroup === 'apps-prod' ? 'hardened' : 'standard',
        owner: 'group:default/platform-team',
        apiServerUrl: c.cluster.server,
        credentials: {
          certificateAuthority: c.cluster.caPem,
          token: c.cluster.token,
        },
      },
    );
    if (registered.status !== 201) {
      throw new Error(
        `registering ${c.name} failed: ${registered.status} ${JSON.stringify(
          registered.body,
        )}`,
      );
    }
    // The cluster's own RBAC: platform engineers administer it.
    const rbac = c.cluster.kubeConfig().makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'kmp-platform-team-admin' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'cluster-admin',
        },
        subjects: [
          {
            apiGroup: 'rbac.authorization.k8s.io',
            kind: 'Group',
            name: 'group:default/platform-team',
          },
        ],
      },
    });
  }

  const deps = {
    auth: mockServices.auth({ pluginId: 'scaffolder' }),
    discovery: {
      getBaseUrl: async (id: string) => `${baseUrl}/api/${id}`,
      getExternalBaseUrl: async (id: string) => `${baseUrl}/api/${id}`,
    },
  };

  const runAction: GoldenPathBackend['runAction'] = async (
    action,
    input,
    runOptions = {},
  ) => {
    const user = runOptions.user ?? 'user:default/petra';
    const workspacePath =
      runOptions.workspacePath ??
      (await fs.mkdtemp(path.join(os.tmpdir(), 'kmp-ws-')));
    const outputs: Record<string, any> = {};
    const log: string[] = [];
    const logger = mockServices.logger.mock();
    for (const level of ['info', 'warn', 'error'] as const) {
      logger[level].mockImplementation((message: string) => {
        log.push(`${level}: ${message}`);
      });
    }
    const entity = userEntities().find(
      e => `user:default/${e.metadata.name}` === user,
    );
    await action.handler({
      input,
      workspacePath,
      logger,
      output: (name: string, value: unknown) => {
        outputs[name] = value;
      },
      createTemporaryDirectory: async () =>
        fs.mkdtemp(path.join(os.tmpdir(), 'kmp-tmp-')),
      checkpoint: async (opts: { fn: () => Promise<unknown> }) => opts.fn(),
      getInitiatorCredentials: async () => mockCredentials.user(user),
      task: { id: 'test-task' },
      user: { ref: user, entity },
      isDryRun: runOptions.dryRun ?? false,
    } as any);
    return { outputs, workspacePath, log };
  };

  const runTask: GoldenPathBackend['runTask'] = async (
    templateRef,
    values,
    user,
    secrets,
  ) => {
    const created = await fetchJson(user, 'POST', '/api/scaffolder/v2/tasks', {
      templateRef,
      values,
      ...(secrets ? { secrets } : {}),
    });
    if (created.status !== 201) {
      throw new Error(
        `creating the task failed: ${created.status} ${JSON.stringify(
          created.body,
        )}`,
      );
    }
    const id = created.body.id as string;
    const deadline = Date.now() + 120_000;
    let task: any;
    for (;;) {
      task = (await fetchJson(user, 'GET', `/api/scaffolder/v2/tasks/${id}`))
        .body;
      if (['completed', 'failed', 'cancelled'].includes(task.status)) break;
      if (Date.now() > deadline) {
        throw new Error(`task ${id} did not finish: ${task.status}`);
      }
      await new Promise(r => setTimeout(r, 250));
    }
    const events = (
      await fetchJson(user, 'GET', `/api/scaffolder/v2/tasks/${id}/events`)
    ).body as Array<{ type: string; body: any }>;
    const log = events
      .filter(e => e.type === 'log')
      .map(e => String(e.body.message));
    const completion = events.find(e => e.type === 'completion');
    return {
      id,
      status: task.status,
      output: completion?.body?.output,
      log,
      error: completion?.body?.error?.message,
    };
  };

  const publishClusters = async () => {
    const port = (server.address() as AddressInfo).port;
    const immediately = {
      run: async (task: { fn: () => Promise<void> }) => task.fn(),
    };
    const provider = new KmpClusterEntityProvider(
      new KmpRegistryClient(
        {
          getBaseUrl: async id => `${baseUrl}/api/${id}`,
          // What the backend's discovery gives as the external URL.
          getExternalBaseUrl: async id => `http://localhost:${port}/api/${id}`,
        },
        mockServices.auth({ pluginId: 'catalog' }),
      ),
      mockServices.logger.mock(),
      {
        fullSync: immediately as any,
        deltaSync: immediately as any,
        authProvider: 'kmp',
      },
    );
    await provider.connect({
      async applyMutation(mutation) {
        if (mutation.type === 'full') {
          catalog.add(mutation.entities.map(e => e.entity));
        }
      },
      async refresh() {},
    });
  };

  return {
    baseUrl,
    stop: () => backend.stop(),
    runAction,
    runTask,
    fetchJson,
    catalog: { ...catalog, publishClusters },
    deps,
  };
}

/**
 * Retries until a condition holds: RBAC changes take a moment to reach the
 * API server's authorizer cache.
 */
export async function eventually<T>(
  fn: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise(r => setTimeout(r, 200));
  }
}
