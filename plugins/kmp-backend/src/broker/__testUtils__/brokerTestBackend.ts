import { BackendFeature } from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { TestbedCluster } from '@kmp/kube-testbed';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import request from 'supertest';
import { kmpPlugin } from '../../plugin';
import {
  denyListPermissionsFactory,
  groupsUserInfoFactory,
  testKmpConfig,
} from '../../__testUtils__/testServices';

/** Groups (ownership refs) of the test users, as the catalog would give them. */
export const TEST_USER_GROUPS: Record<string, string[]> = {
  'user:default/alice': ['group:default/team-payments'],
  'user:default/petra': ['group:default/platform-team'],
  'user:default/reader': ['group:default/team-payments'],
};

/**
 * Permission decisions of the test backend: `reader` may only read through
 * the broker, `outsider` may do neither; everybody else is allowed.
 */
const DENIED: Record<string, string[]> = {
  'user:default/reader': ['kmp.cluster.access.write'],
  'user:default/outsider': [
    'kmp.cluster.access.read',
    'kmp.cluster.access.write',
  ],
};

const permissionsFactory = denyListPermissionsFactory(DENIED);
const userInfoFactory = groupsUserInfoFactory(TEST_USER_GROUPS);

export const userHeader = (ref: string) => mockCredentials.user.header(ref);
export const serviceHeader = (subject: string) =>
  mockCredentials.service.header({
    onBehalfOf: mockCredentials.service(subject),
    targetPluginId: 'kmp',
  });

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

const encodeBody = (body: unknown): string | undefined => {
  if (body === undefined) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
};

export interface BrokerTestBackend {
  backend: { stop(): Promise<void> };
  server: http.Server;
  port: number;
  raw(
    method: string,
    path: string,
    opts?: {
      headers?: Record<string, string | string[]>;
      body?: string | Buffer;
      chunks?: Buffer[];
    },
  ): Promise<RawResponse>;
  kube(
    caller: string,
    cluster: string,
    method: string,
    kubePath: string,
    opts?: {
      body?: unknown;
      headers?: Record<string, string | string[]>;
      contentType?: string;
    },
  ): Promise<RawResponse>;
  auditOf(response: Pick<RawResponse, 'headers'>): Promise<any[]>;
}

/**
 * A test backend running the KMP plugin with the broker, and helpers that
 * send requests with the exact path given (no client-side normalisation).
 */
export async function startBrokerBackend(options: {
  clusters: Array<{
    name: string;
    cluster: TestbedCluster;
    environmentGroup: 'apps-prod' | 'apps-nonprod';
    auth: 'token' | 'cert';
  }>;
  broker?: Record<string, unknown>;
  /** More `kmp.*` configuration. */
  kmp?: Record<string, unknown>;
  /** More backend features (e.g. the catalog and Kubernetes plugins). */
  features?: BackendFeature[];
  /** More top-level configuration (e.g. `catalog`, `kubernetes`). */
  config?: Record<string, unknown>;
}): Promise<BrokerTestBackend> {
  const kmp = testKmpConfig();
  const backend = await startTestBackend({
    features: [
      kmpPlugin,
      ...(options.features ?? []),
      // A request without a token is anonymous (the mock default would be a user).
      mockServices.httpAuth.factory({
        defaultCredentials: mockCredentials.none(),
      }),
      permissionsFactory,
      userInfoFactory,
      mockServices.rootConfig.factory({
        data: {
          ...options.config,
          kmp: {
            personas: kmp.personas,
            ...options.kmp,
            environmentGroups: kmp.environmentGroups,
            profiles: kmp.profiles,
            registry: kmp.registry,
            broker: { ...kmp.broker, ...options.broker },
          },
        },
      }),
    ],
  });
  const { server } = backend;
  const port = (server.address() as AddressInfo).port;
  const admin = userHeader('user:default/petra');

  for (const c of options.clusters) {
    const response = await request(server)
      .post('/api/kmp/clusters')
      .set('Authorization', admin)
      .send({
        name: c.name,
        environmentGroup: c.environmentGroup,
        region: 'eu-west-1',
        profile: c.environmentGroup === 'apps-prod' ? 'hardened' : 'standard',
        owner: 'group:default/platform-team',
        apiServerUrl: c.cluster.server,
        credentials: {
          certificateAuthority: c.cluster.caPem,
          ...(c.auth === 'token'
            ? { token: c.cluster.token }
            : {
                clientCertificate: c.cluster.clientCertPem,
                clientKey: c.cluster.clientKeyPem,
              }),
        },
      });
    if (response.status !== 201) {
      throw new Error(
        `registering ${c.name} failed: ${response.status} ${response.text}`,
      );
    }
  }

  /** One request with the path exactly as given. */
  const raw = (
    method: string,
    path: string,
    opts: {
      headers?: Record<string, string | string[]>;
      body?: string | Buffer;
      chunks?: Buffer[];
    } = {},
  ) =>
    new Promise<RawResponse>((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          headers: {
            ...(opts.body !== undefined
              ? { 'content-length': Buffer.byteLength(opts.body) }
              : {}),
            ...opts.headers,
          },
        },
        res => {
          const chunks: Buffer[] = [];
          res.on('data', c => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: any;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              text,
              json,
            });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      if (opts.chunks) {
        for (const c of opts.chunks) req.write(c);
        req.end();
      } else {
        req.end(opts.body);
      }
    });

  /** A request through the broker to a cluster's Kubernetes API. */
  const kube = (
    caller: string,
    cluster: string,
    method: string,
    kubePath: string,
    opts: {
      body?: unknown;
      headers?: Record<string, string | string[]>;
      contentType?: string;
    } = {},
  ) =>
    raw(method, `/api/kmp/proxy/clusters/${cluster}${kubePath}`, {
      headers: {
        authorization: caller,
        accept: 'application/json',
        ...(opts.body !== undefined
          ? { 'content-type': opts.contentType ?? 'application/json' }
          : {}),
        ...opts.headers,
      },
      body: encodeBody(opts.body),
    });

  /** The audit events of one broker request. */
  const auditOf = async (response: Pick<RawResponse, 'headers'>) => {
    const id = response.headers['kmp-audit-id'];
    const page = await request(server)
      .get(`/api/kmp/audit/events?correlationId=${id}&order=asc`)
      .set('Authorization', admin);
    if (page.status !== 200) {
      throw new Error(`audit query failed: ${page.status} ${page.text}`);
    }
    return page.body.items as any[];
  };

  return { backend, server: server as http.Server, port, raw, kube, auditOf };
}
