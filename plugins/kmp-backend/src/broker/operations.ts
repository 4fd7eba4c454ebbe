import { dnsLabelSchema } from '@kmp/plugin-kmp-common';
import { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { parseInput } from '../service/RouteGuard';
import { KmpDomainContext } from '../types';
import { BrokerOperation, BrokerProxy } from './BrokerProxy';

/** The pod template annotation `kubectl rollout restart` sets. */
export const RESTARTED_AT_ANNOTATION = 'kubectl.kubernetes.io/restartedAt';

/** A DNS-1123 subdomain: the name of a workload or pod. */
const objectName = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a DNS-1123 subdomain',
  );

const workloadParams = z.object({
  name: dnsLabelSchema,
  namespace: dnsLabelSchema,
  kind: z.enum(['deployments', 'statefulsets', 'daemonsets']),
  workload: objectName,
});

const scaleParams = workloadParams.extend({
  kind: z.enum(['deployments', 'statefulsets']),
});

const scaleBody = z
  .object({ replicas: z.number().int().min(0).max(10_000) })
  .strict();

const podParams = z.object({
  name: dnsLabelSchema,
  namespace: dnsLabelSchema,
  pod: objectName,
});

const flag = z.enum(['true', 'false']).transform(v => v === 'true');
const count = (min: number) =>
  z
    .string()
    .regex(/^\d{1,9}$/, 'must be a non-negative integer')
    .transform(Number)
    .refine(n => n >= min, `must be at least ${min}`);

const logsQuery = z
  .object({
    container: dnsLabelSchema.optional(),
    previous: flag.optional(),
    follow: flag.optional(),
    timestamps: flag.optional(),
    tailLines: count(0).optional(),
    sinceSeconds: count(1).optional(),
    limitBytes: count(1).optional(),
  })
  .strict();

const workloadPath = (p: z.infer<typeof workloadParams>) =>
  `/apis/apps/v1/namespaces/${p.namespace}/${p.kind}/${p.workload}`;

/**
 * Typed operational actions for the UI and automation — restart a
 * workload, scale it, delete a pod, read or follow a container's logs.
 * Each is the one Kubernetes request it stands for (the same `kubectl`
 * would send), carried out by {@link BrokerProxy.operate} through the
 * broker's request path: authentication, authorisation by the persona
 * policy and the environment policy, admission pre-flight, impersonation
 * and audit (`details.operation` names the action). The answer carries the
 * audit id (`auditId`, and the `kmp-audit-id` header).
 */
export function mountOperationRoutes(
  ctx: Pick<KmpDomainContext, 'router'>,
  proxy: Pick<BrokerProxy, 'operate'>,
) {
  const { router } = ctx;
  const run =
    (build: (req: Request) => BrokerOperation) =>
    (req: Request, res: Response, next: NextFunction) => {
      let operation: BrokerOperation;
      try {
        operation = build(req);
      } catch (error) {
        // Invalid input: the plugin's error handler answers 400.
        next(error);
        return;
      }
      proxy.operate(req, res, operation).catch(next);
    };

  router.post(
    '/clusters/:name/namespaces/:namespace/workloads/:kind/:workload/restart',
    run(req => {
      const p = parseInput(workloadParams, req.params, 'params');
      const restartedAt = new Date().toISOString();
      return {
        name: 'restart',
        cluster: p.name,
        method: 'PATCH',
        kubePath: workloadPath(p),
        contentType: 'application/strategic-merge-patch+json',
        body: {
          spec: {
            template: {
              metadata: {
                annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt },
              },
            },
          },
        },
        result: () => ({ restartedAt }),
      };
    }),
  );

  router.post(
    '/clusters/:name/namespaces/:namespace/workloads/:kind/:workload/scale',
    run(req => {
      const p = parseInput(scaleParams, req.params, 'params');
      const { replicas } = parseInput(scaleBody, req.body, 'body');
      return {
        name: 'scale',
        cluster: p.name,
        method: 'PATCH',
        kubePath: `${workloadPath(p)}/scale`,
        contentType: 'application/merge-patch+json',
        body: { spec: { replicas } },
        result: object => ({
          replicas:
            (object as { spec?: { replicas?: number } })?.spec?.replicas ??
            replicas,
        }),
      };
    }),
  );

  router.delete(
    '/clusters/:name/namespaces/:namespace/pods/:pod',
    run(req => {
      const p = parseInput(podParams, req.params, 'params');
      return {
        name: 'delete-pod',
        cluster: p.name,
        method: 'DELETE',
        kubePath: `/api/v1/namespaces/${p.namespace}/pods/${p.pod}`,
        result: () => ({ deleted: p.pod }),
      };
    }),
  );

  router.get(
    '/clusters/:name/namespaces/:namespace/pods/:pod/logs',
    run(req => {
      const p = parseInput(podParams, req.params, 'params');
      const q = parseInput(logsQuery, req.query, 'query');
      const query = new URLSearchParams();
      for (const [key, value] of Object.entries(q)) {
        if (value !== undefined) query.set(key, String(value));
      }
      return {
        name: 'logs',
        cluster: p.name,
        method: 'GET',
        kubePath: `/api/v1/namespaces/${p.namespace}/pods/${p.pod}/log`,
        query,
      };
    }),
  );
}
