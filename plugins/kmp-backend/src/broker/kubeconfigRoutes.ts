import { BackstageCredentials } from '@backstage/backend-plugin-api';
import { NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import {
  dnsLabelSchema,
  kmpClusterAccessReadPermission,
  kmpClusterAccessWritePermission,
  kmpKubeconfigIssuePermission,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { KmpAuditService } from '@kmp/plugin-kmp-node';
import { Request } from 'express';
import YAML from 'yaml';
import { z } from 'zod';
import { ClusterStore } from '../registry/ClusterStore';
import { parseInput, RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { BrokerConfig } from './config';
import {
  auditActor,
  CallerIdentity,
  identify,
  PersonaResolver,
} from './identity';
import { BrokerToken, BrokerTokenStore, TokenAccess } from './TokenStore';

/** A kubeconfig whose only credential is a KMP-issued bearer token. */
export function renderKubeconfig(options: {
  cluster: string;
  server: string;
  token: string;
  namespace?: string;
  certificateAuthorityData?: string;
}): string {
  const user = `kmp-${options.cluster}`;
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: options.cluster,
        cluster: {
          server: options.server,
          ...(options.certificateAuthorityData
            ? { 'certificate-authority-data': options.certificateAuthorityData }
            : {}),
        },
      },
    ],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [
      {
        name: options.cluster,
        context: {
          cluster: options.cluster,
          user,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    'current-context': options.cluster,
  });
}

const issueSchema = z
  .object({
    expiresInSeconds: z.number().int().min(1).optional(),
    access: z.enum(['read', 'write']).optional(),
    namespace: dnsLabelSchema.optional(),
  })
  .strict();

const publicToken = (token: BrokerToken) => {
  const { groups: _groups, ...rest } = token;
  return rest;
};

/**
 * Just-in-time kubeconfigs: `POST /clusters/{name}/kubeconfig` issues a
 * kubeconfig for the broker with a short-lived token bound to the caller,
 * the cluster and an access level; `GET /kubeconfig-tokens` lists the
 * caller's tokens; `DELETE /kubeconfig-tokens/{id}` revokes one.
 *
 * The access level is decided when the token is issued: `write` only when
 * the permission framework grants broker writes on the cluster and the
 * cluster is not production (where people get read-only kubeconfigs and
 * changes go through GitOps), unless the caller is the GitOps identity.
 */
export function mountKubeconfigRoutes(
  ctx: KmpDomainContext,
  deps: {
    audit: KmpAuditService;
    clusters: ClusterStore;
    tokens: BrokerTokenStore;
    personas: PersonaResolver;
    config: BrokerConfig;
  },
) {
  const { router, httpAuth, permissions, auditor, userInfo, discovery } = ctx;
  const { audit, clusters, tokens, personas, config } = deps;
  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const gitops = new Set(config.gitopsIdentities);

  const allowed = async (
    credentials: BackstageCredentials,
    identity: CallerIdentity,
    cluster: RegisteredCluster,
  ): Promise<TokenAccess | undefined> => {
    const [read, write] = await permissions.authorize(
      [
        {
          permission: kmpClusterAccessReadPermission,
          resourceRef: cluster.name,
        },
        {
          permission: kmpClusterAccessWritePermission,
          resourceRef: cluster.name,
        },
      ],
      { credentials },
    );
    if (read.result !== AuthorizeResult.ALLOW) return undefined;
    if (
      write.result === AuthorizeResult.ALLOW &&
      (cluster.environment !== 'production' || identity.gitops)
    ) {
      return 'write';
    }
    return 'read';
  };

  const record = (
    req: Request,
    identity: CallerIdentity,
    action: string,
    cluster: RegisteredCluster | string,
    details: Record<string, unknown>,
  ) =>
    audit.record({
      action,
      source: 'kmp',
      actor: auditActor(
        identity,
        typeof cluster === 'string'
          ? []
          : personas.personasOf(identity, cluster.environmentGroup),
        { ip: req.ip, userAgent: req.headers['user-agent'] },
        false,
      ),
      target:
        typeof cluster === 'string'
          ? { cluster }
          : {
              cluster: cluster.name,
              environmentGroup: cluster.environmentGroup,
            },
      decision: { result: 'allow' },
      outcome: 'success',
      details,
    });

  router.post('/clusters/:name/kubeconfig', async (req, res) => {
    const { name } = req.params;
    const credentials = await guard.caller(req);
    await guard.authorizeCluster(
      credentials,
      kmpKubeconfigIssuePermission,
      name,
    );
    const input = parseInput(issueSchema, req.body ?? {}, 'body');
    const cluster = await clusters.get(name);
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    const identity = await identify(credentials, userInfo, gitops);
    const mayHave = await allowed(credentials, identity, cluster);
    if (!mayHave) {
      throw new NotAllowedError(
        `not allowed to ${kmpClusterAccessReadPermission.name} on cluster '${name}'`,
      );
    }
    if (input.access === 'write' && mayHave !== 'write') {
      throw new NotAllowedError(
        cluster.environment === 'production'
          ? `kubeconfigs for production cluster '${name}' are read-only: production changes go through GitOps`
          : `not allowed to ${kmpClusterAccessWritePermission.name} on cluster '${name}'`,
      );
    }
    const access = input.access ?? mayHave;
    const ttlSeconds = Math.min(
      input.expiresInSeconds ?? config.tokens.defaultTtlSeconds,
      config.tokens.maxTtlSeconds,
    );
    const { token, record: issued } = await tokens.issue({
      actorRef: identity.ref,
      actorKind: identity.kind,
      groups: identity.groups,
      cluster: name,
      access,
      ttlSeconds,
    });
    const base =
      config.externalUrl ?? (await discovery.getExternalBaseUrl('kmp'));
    const kubeconfig = renderKubeconfig({
      cluster: name,
      server: `${base.replace(/\/$/, '')}/proxy/clusters/${name}`,
      token,
      namespace: input.namespace,
      certificateAuthorityData: ctx.config.getOptionalString(
        'kmp.catalog.brokerCertificateAuthority',
      ),
    });
    await record(req, identity, 'kubeconfig.issue', cluster, {
      tokenId: issued.id,
      access,
      expiresAt: issued.expiresAt,
    });
    res.status(201).json({ ...publicToken(issued), token, kubeconfig });
  });

  router.get('/kubeconfig-tokens', async (req, res) => {
    const credentials = await guard.caller(req);
    const identity = await identify(credentials, userInfo, gitops);
    res.json({ items: (await tokens.listFor(identity.ref)).map(publicToken) });
  });

  router.delete('/kubeconfig-tokens/:id', async (req, res) => {
    const credentials = await guard.caller(req);
    const identity = await identify(credentials, userInfo, gitops);
    const existing = await tokens.get(req.params.id);
    // Somebody else's token is as good as absent.
    if (!existing || existing.actorRef !== identity.ref) {
      throw new NotFoundError(
        `kubeconfig token '${req.params.id}' does not exist`,
      );
    }
    const revoked =
      (await tokens.revoke(existing.id, identity.ref)) ?? existing;
    await record(req, identity, 'kubeconfig.revoke', existing.cluster, {
      tokenId: existing.id,
    });
    res.json(publicToken(revoked));
  });
}
