import {
  ConflictError,
  isError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import {
  AuditSeverity,
  PolicyEvaluateResponse,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import {
  DeclaredObject,
  declareObjects,
  gitopsLayoutFolder,
  GitopsPublisher,
  gitopsRepositoryFor,
  KmpAuditService,
  PublishResult,
  readGitopsConfig,
} from '@kmp/plugin-kmp-node';
import { Request } from 'express';
import { randomUUID } from 'node:crypto';
import { ClusterConnections } from '../broker/ClusterConnections';
import { readBrokerConfig } from '../broker/config';
import {
  auditActor,
  CallerIdentity,
  identify,
  PersonaResolver,
} from '../broker/identity';
import { NamespaceDirectory } from '../personas/NamespaceDirectory';
import type { PolicyService } from '../policy/PolicyService';
import { ClusterRegistry } from '../registry/ClusterRegistry';
import { ClusterStore } from '../registry/ClusterStore';
import { parseInput, RouteGuard } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { authorOf } from './authorOf';
import { GitopsPublishAuthorizer } from './GitopsPublishAuthorizer';
import {
  describeObject,
  publishBodySchema,
  publishObjectsOf,
  publishParamsSchema,
} from './publishRequest';

/** A push the branch moved past is retried this many times, from a fresh clone. */
const PUSH_ATTEMPTS = 3;
/** The audit event schema's bound on a decision's reason. */
const MAX_AUDIT_REASON = 1000;
/** Violations named in a refusal; the rest are counted. */
const MAX_NAMED_VIOLATIONS = 20;

/** The Deny violations of a pre-flight, one line each. */
function denials(result: PolicyEvaluateResponse): string[] {
  return result.results.flatMap(r =>
    r.error
      ? [
          `${r.object.kind ?? 'object'} ${r.object.name ?? `#${r.index}`}: ${
            r.error
          }`,
        ]
      : r.violations
          .filter(v => v.enforcement === 'Deny')
          .map(
            v =>
              `[${v.ruleId}] ${v.object.kind} ${
                v.object.namespace ? `${v.object.namespace}/` : ''
              }${v.object.name}${v.path ? ` at ${v.path}` : ''}: ${v.message}`,
          ),
  );
}

/**
 * GitOps publishing: `POST /clusters/{name}/gitops/publish` commits
 * objects of one namespace to the cluster's GitOps repository
 * (`kmp.goldenPaths.gitops`, the same configuration and the same
 * {@link GitopsPublisher} as the scaffolder's `kmp:gitops:publish`),
 * authored by the caller, after the persona rules and the cluster's policy
 * bundle allow it, and records the publication in KMP's audit trail. It is
 * how the portal's ClickOps changes reach production, and the record of
 * them everywhere.
 */
export async function setupGitops(
  ctx: KmpDomainContext,
  deps: {
    audit: KmpAuditService;
    registry: {
      clusters: Pick<ClusterStore, 'get'>;
      registry: Pick<ClusterRegistry, 'credentialsOf'>;
    };
    connections: ClusterConnections;
    policy: Pick<PolicyService, 'evaluate'>;
  },
): Promise<void> {
  const { router, httpAuth, permissions, auditor, userInfo } = ctx;
  // A malformed kmp.goldenPaths.gitops stops start-up with one line.
  const gitopsConfig = readGitopsConfig(ctx.config);
  const gitopsIdentities = new Set(
    readBrokerConfig(ctx.config).gitopsIdentities,
  );
  const personas = PersonaResolver.fromConfig(ctx.config);
  const logger = ctx.logger.child({ domain: 'gitops' });
  const guard = RouteGuard.create({ httpAuth, permissions, auditor });
  const authorizer = GitopsPublishAuthorizer.create({
    permissions,
    permissionsRegistry: ctx.permissionsRegistry,
    personas,
    namespaces: NamespaceDirectory.create({
      connections: deps.connections,
      registry: deps.registry.registry,
    }),
  });

  const commitMessage = (options: {
    message?: string;
    identity: CallerIdentity;
    cluster: RegisteredCluster;
    namespace: string;
    objects: DeclaredObject[];
    bundle: PolicyEvaluateResponse['bundle'];
    auditId: string;
  }) => {
    const { cluster, namespace, objects } = options;
    const listed = objects.map(o => `${o.kind}/${o.metadata.name}`);
    const title =
      options.message ??
      `kmp: publish ${
        listed.length <= 3 ? listed.join(', ') : `${listed.length} objects`
      } to ${cluster.name}/${namespace}`;
    return [
      title,
      '',
      `Requested by ${options.identity.ref} through KMP.`,
      `Cluster: ${cluster.name} (${cluster.environment}, environment group ${cluster.environmentGroup})`,
      `Objects: ${objects.map(describeObject).join(', ')}`,
      `Policy bundle: ${options.bundle.name}@${options.bundle.version}`,
      '',
      `KMP-Audit-Id: ${options.auditId}`,
      '',
    ].join('\n');
  };

  router.post('/clusters/:name/gitops/publish', async (req: Request, res) => {
    const { name } = parseInput(publishParamsSchema, req.params, 'params');
    const credentials = await guard.caller(req);
    const body = parseInput(publishBodySchema, req.body ?? {}, 'body');
    const { namespace, objects } = publishObjectsOf(body);
    const cluster = await deps.registry.clusters.get(name);
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new NotFoundError(`cluster '${name}' is not registered`);
    }
    const identity = await identify(credentials, userInfo, gitopsIdentities);

    const result = await guard.audited(
      req,
      credentials,
      'gitops-publish',
      { cluster: cluster.name, namespace },
      async () => {
        const auditId = randomUUID();
        const production = cluster.environment === 'production';
        const severity: AuditSeverity = production ? 'high' : 'medium';
        const record = (
          decision: { result: 'allow' | 'deny'; reason?: string },
          outcome: 'success' | 'failure',
          details: Record<string, unknown>,
        ) =>
          deps.audit.record({
            id: auditId,
            action: 'gitops.publish',
            source: 'kmp',
            actor: auditActor(
              identity,
              personas.personasOf(identity, cluster.environmentGroup),
              { ip: req.ip, userAgent: req.headers['user-agent'] },
              false,
            ),
            target: {
              cluster: cluster.name,
              environmentGroup: cluster.environmentGroup,
              namespace,
            },
            request: { method: req.method, path: req.originalUrl },
            decision,
            outcome,
            severity,
            details: { objects: objects.map(describeObject), ...details },
          });
        const refuse = async (
          reason: string,
          details: Record<string, unknown> = {},
        ): Promise<never> => {
          await record(
            {
              result: 'deny',
              // The audit schema bounds a reason; details carry the rest.
              reason:
                reason.length > MAX_AUDIT_REASON
                  ? `${reason.slice(0, MAX_AUDIT_REASON - 1)}…`
                  : reason,
            },
            'failure',
            details,
          );
          throw new NotAllowedError(reason);
        };

        if (identity.kind !== 'user' && !identity.gitops) {
          await refuse(
            'publishing to Git is authored by a person: service callers act on behalf of a user',
          );
        }
        try {
          await authorizer.authorize(identity, cluster, namespace);
        } catch (error) {
          if (error instanceof NotAllowedError) await refuse(error.message);
          throw error;
        }

        const repository = gitopsRepositoryFor(
          gitopsConfig,
          cluster.environmentGroup,
        );
        if (!repository) {
          throw new NotFoundError(
            `no GitOps repository is configured for environment group ${cluster.environmentGroup} (kmp.goldenPaths.gitops.repositories)`,
          );
        }

        // The same policy bundle the cluster enforces, before anything is
        // committed: Git must not declare what admission would refuse.
        const preflight = await deps.policy.evaluate({
          target: { cluster: cluster.name },
          manifests: objects,
          defaultNamespace: namespace,
        });
        const bundle = `${preflight.bundle.name}@${preflight.bundle.version}`;
        if (!preflight.allowed) {
          const lines = denials(preflight);
          const named = lines.slice(0, MAX_NAMED_VIOLATIONS).join('; ');
          const more = lines.length - MAX_NAMED_VIOLATIONS;
          await refuse(
            `the policy pre-flight (bundle ${bundle}) denies it: ${named}${
              more > 0 ? `; and ${more} more` : ''
            }`,
            {
              policyBundle: bundle,
              violations: preflight.results.flatMap(r =>
                r.violations
                  .filter(v => v.enforcement === 'Deny')
                  .map(v => v.ruleId),
              ),
            },
          );
        }

        const author =
          identity.kind === 'user'
            ? await authorOf(ctx, credentials, identity.ref)
            : gitopsConfig.committer;
        const publisher = GitopsPublisher.create({
          repository,
          committer: gitopsConfig.committer,
        });
        let published: PublishResult;
        try {
          published = await publisher.publishFromFreshClone(
            {
              entries: [
                {
                  folder: gitopsLayoutFolder(repository, {
                    cluster: cluster.name,
                    environmentGroup: cluster.environmentGroup,
                    namespace,
                  }),
                  // The namespace's folder is shared with golden paths and
                  // earlier publications: declared objects are edited in
                  // place, nothing else is touched.
                  owned: false,
                  files: async current => declareObjects(current, objects),
                },
              ],
              message: commitMessage({
                message: body.message,
                identity,
                cluster,
                namespace,
                objects,
                bundle: preflight.bundle,
                auditId,
              }),
              author,
              dryRun: false,
            },
            {
              attempts: PUSH_ATTEMPTS,
              onRetry: attempt =>
                logger.info(
                  `${repository.url} moved on during a publication; publishing again (attempt ${attempt})`,
                ),
            },
          );
        } catch (error) {
          const message = isError(error) ? error.message : String(error);
          await record({ result: 'allow' }, 'failure', {
            repoUrl: repository.url,
            error: message,
          });
          if (error instanceof ConflictError) throw error;
          logger.warn(
            `Publishing to ${repository.url} for ${cluster.name}/${namespace} failed: ${message}`,
          );
          throw new ServiceUnavailableError(
            `the GitOps repository ${repository.url} could not be updated: ${message}`,
          );
        }

        await record({ result: 'allow' }, 'success', {
          repoUrl: published.repoUrl,
          branch: published.branch,
          commit: published.commit,
          changed: published.changed,
          paths: published.files,
          policyBundle: bundle,
        });
        logger.info(
          published.changed
            ? `${identity.ref} published ${objects.length} objects to ${published.repoUrl} (${published.branch}) for ${cluster.name}/${namespace}: commit ${published.commit}`
            : `${published.repoUrl} (${published.branch}) already declares what ${identity.ref} published for ${cluster.name}/${namespace}`,
        );
        return {
          commit: published.commit,
          branch: published.branch,
          repoUrl: published.repoUrl,
          paths: published.files,
          changed: published.changed,
          auditId,
        };
      },
    );
    res.status(result.changed ? 201 : 200).json(result);
  });
}
