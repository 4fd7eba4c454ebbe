import {
  PolicyEvaluateRequest,
  PolicyEvaluateResponse,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';

/** One rule a manifest breaks. */
export interface AdmissionViolation {
  /** The rule (or policy) that refused it. */
  rule: string;
  message: string;
  /** JSON path of the offending field, when known. */
  field?: string;
  /**
   * `Deny` (the default) refuses the request; `Warn` lets it through with a
   * `Warning` header the client shows; `Audit` only records it.
   */
  enforcement?: 'Deny' | 'Warn' | 'Audit';
}

/**
 * The admission pre-flight: called for create, update and patch requests
 * through the broker with the object as it would be stored (for a patch,
 * the API server's dry-run result), before the request is forwarded. Any
 * violation refuses the request with a 422 `Invalid` Status; the cluster's
 * own admission (the same policy bundle, rendered to ValidatingAdmission-
 * Policy) enforces it again.
 */
export interface AdmissionPreflight {
  check(
    cluster: RegisteredCluster,
    manifest: unknown,
    verb: 'create' | 'update' | 'patch',
  ): Promise<AdmissionViolation[]>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Where each workload kind keeps its pod spec. */
function podSpecOf(manifest: Obj): { spec: Obj; path: string } | undefined {
  const get = (o: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((acc, k) => (isObj(acc) ? acc[k] : undefined), o);
  const candidates: Array<[string[], string]> = [
    [['spec'], 'spec'],
    [['spec', 'template', 'spec'], 'spec.template.spec'],
    [
      ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
      'spec.jobTemplate.spec.template.spec',
    ],
  ];
  const byKind: Record<string, number> = {
    Pod: 0,
    Deployment: 1,
    StatefulSet: 1,
    DaemonSet: 1,
    ReplicaSet: 1,
    ReplicationController: 1,
    Job: 1,
    CronJob: 2,
  };
  const kind = String(manifest.kind ?? '');
  if (kind === 'PodTemplate') {
    const spec = get(manifest, 'template', 'spec');
    return isObj(spec) ? { spec, path: 'template.spec' } : undefined;
  }
  const index = byKind[kind];
  if (index === undefined) return undefined;
  const [keys, path] = candidates[index];
  const spec = get(manifest, ...keys);
  return isObj(spec) ? { spec, path } : undefined;
}

/**
 * The pre-flight's built-in rule, in force until the policy bundle's
 * evaluator is plugged in: no privileged containers (including init and
 * ephemeral containers) in Pods and the workloads that template them.
 */
export class PrivilegedContainerPreflight implements AdmissionPreflight {
  static readonly RULE = 'no-privileged-containers';

  async check(
    _cluster: RegisteredCluster,
    manifest: unknown,
    _verb?: 'create' | 'update' | 'patch',
  ): Promise<AdmissionViolation[]> {
    if (!isObj(manifest)) return [];
    const pod = podSpecOf(manifest);
    if (!pod) return [];
    const violations: AdmissionViolation[] = [];
    for (const list of [
      'initContainers',
      'containers',
      'ephemeralContainers',
    ]) {
      const containers = pod.spec[list];
      if (!Array.isArray(containers)) continue;
      containers.forEach((container, i) => {
        if (
          isObj(container) &&
          isObj(container.securityContext) &&
          container.securityContext.privileged === true
        ) {
          violations.push({
            rule: PrivilegedContainerPreflight.RULE,
            field: `${pod.path}.${list}[${i}].securityContext.privileged`,
            message: `container '${String(
              container.name ?? i,
            )}' must not run privileged`,
          });
        }
      });
    }
    return violations;
  }
}

/** Runs several pre-flights and reports every violation. */
export function combinePreflights(
  ...preflights: AdmissionPreflight[]
): AdmissionPreflight {
  return {
    async check(cluster, manifest, verb) {
      const results = await Promise.all(
        preflights.map(p => p.check(cluster, manifest, verb)),
      );
      return results.flat();
    },
  };
}

/** The policy domain's evaluator, as the broker uses it. */
export interface PolicyEvaluator {
  evaluate(request: PolicyEvaluateRequest): Promise<PolicyEvaluateResponse>;
}

/**
 * The pre-flight against the cluster's effective policy bundle (baseline,
 * environment and profile overlays, environment-group overlay): the same
 * CEL rules the cluster enforces as ValidatingAdmissionPolicy. The old
 * object of an update is not fetched, so rules that compare with
 * `oldObject` see none.
 */
export class PolicyBundlePreflight implements AdmissionPreflight {
  constructor(private readonly policy: PolicyEvaluator) {}

  async check(
    cluster: RegisteredCluster,
    manifest: unknown,
    verb: 'create' | 'update' | 'patch',
  ): Promise<AdmissionViolation[]> {
    const response = await this.policy.evaluate({
      target: { cluster: cluster.name },
      manifests: [
        {
          operation: verb === 'create' ? 'CREATE' : 'UPDATE',
          object: manifest,
        },
      ],
    });
    return response.results.flatMap(result => [
      ...(result.error
        ? [
            {
              rule: 'policy-evaluation',
              message: result.error,
              enforcement: 'Deny' as const,
            },
          ]
        : []),
      ...result.violations.map(v => ({
        rule: v.ruleId,
        message: v.message,
        ...(v.path ? { field: v.path } : {}),
        // A rule that could not be evaluated fails closed.
        enforcement: v.error ? ('Deny' as const) : v.enforcement,
      })),
    ]);
  }
}
