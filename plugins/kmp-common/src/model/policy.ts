import { z } from 'zod';
import { dnsLabelSchema, environmentSchema } from './common';

/**
 * How bad a policy violation is.
 *
 * @public
 */
export const policySeveritySchema = z.enum([
  'low',
  'medium',
  'high',
  'critical',
]);

/** @public */
export type PolicySeverity = z.infer<typeof policySeveritySchema>;

/**
 * What a cluster does with a violation, named after the
 * ValidatingAdmissionPolicyBinding `validationActions`: `Deny` rejects the
 * request, `Warn` admits it with a warning to the client, `Audit` admits it
 * and records the violation in the audit log only.
 *
 * @public
 */
export const policyEnforcementSchema = z.enum(['Deny', 'Warn', 'Audit']);

/** @public */
export type PolicyEnforcement = z.infer<typeof policyEnforcementSchema>;

/**
 * A rule parameter. Parameters are homogeneous (a list holds strings only, a
 * map holds one kind of value) because Kubernetes CEL requires homogeneous
 * aggregate literals and the rendered policies carry parameters as literals.
 *
 * @public
 */
export const policyParamValueSchema = z.union([
  z.string(),
  z.boolean(),
  z.number().int(),
  z.array(z.string()),
  z.record(z.string(), z.string()),
  z.record(z.string(), z.array(z.string())),
]);

/** @public */
export type PolicyParamValue = z.infer<typeof policyParamValueSchema>;

/**
 * A Kubernetes label selector.
 *
 * @public
 */
export const labelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.object({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});

/** @public */
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/** @public */
export const policyNamedExpressionSchema = z.object({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  expression: z.string().min(1),
});

/** @public */
export type PolicyNamedExpression = z.infer<typeof policyNamedExpressionSchema>;

/**
 * Which objects a rule applies to.
 *
 * @public
 */
export const policyMatchSchema = z.object({
  kinds: z.array(
    z.object({
      apiGroups: z.array(z.string()),
      kinds: z.array(z.string().min(1)),
    }),
  ),
  operations: z.array(z.enum(['CREATE', 'UPDATE'])),
  namespaceSelector: labelSelectorSchema.optional(),
  excludedNamespaces: z.array(z.string()),
  /** CEL conditions that must all be true (VAP `matchConditions`). */
  conditions: z.array(policyNamedExpressionSchema),
});

/** @public */
export type PolicyMatch = z.infer<typeof policyMatchSchema>;

/** @public */
export const policyValidationSchema = z.object({
  expression: z.string().min(1),
  message: z.string().min(1),
  messageExpression: z.string().min(1).optional(),
  /**
   * Field the violation points at; `{podSpec}` stands for the pod spec of
   * the object's kind (`spec`, `spec.template.spec`, …).
   */
  path: z.string().optional(),
});

/** @public */
export type PolicyValidation = z.infer<typeof policyValidationSchema>;

/**
 * A rule of an effective bundle: baseline plus overlays, parameters
 * resolved.
 *
 * @public
 */
export const effectivePolicyRuleSchema = z.object({
  id: dnsLabelSchema,
  description: z.string(),
  severity: policySeveritySchema,
  enforcement: policyEnforcementSchema,
  match: policyMatchSchema,
  params: z.record(z.string(), policyParamValueSchema),
  variables: z.array(policyNamedExpressionSchema),
  validations: z.array(policyValidationSchema).min(1),
  /** Bundle files that defined or changed the rule, in order. */
  sources: z.array(z.string()),
});

/** @public */
export type EffectivePolicyRule = z.infer<typeof effectivePolicyRuleSchema>;

/**
 * The policy bundle in force for one environment (and optionally one
 * environment group): the unit that is rendered, distributed and versioned.
 *
 * @public
 */
export const effectivePolicyBundleSchema = z.object({
  name: z.string(),
  /** Content hash of everything below; changes whenever a decision may. */
  version: z.string(),
  environment: environmentSchema,
  environmentGroup: dnsLabelSchema.optional(),
  /** Bundle files applied on top of the baseline, in order. */
  overlays: z.array(z.string()),
  /** Shared CEL variables (VAP `variables`) the rules may use. */
  variables: z.array(policyNamedExpressionSchema),
  rules: z.array(effectivePolicyRuleSchema),
});

/** @public */
export type EffectivePolicyBundle = z.infer<typeof effectivePolicyBundleSchema>;

/** @public */
export const policyObjectRefSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
});

/** @public */
export type PolicyObjectRef = z.infer<typeof policyObjectRefSchema>;

/**
 * One failed validation of one object.
 *
 * @public
 */
export const policyViolationSchema = z.object({
  ruleId: z.string(),
  severity: policySeveritySchema,
  enforcement: policyEnforcementSchema,
  object: policyObjectRefSchema,
  /** Dotted path of the offending field, when the rule names one. */
  path: z.string().optional(),
  message: z.string(),
  /** True when the validation could not be evaluated (fails closed). */
  error: z.boolean().optional(),
});

/** @public */
export type PolicyViolation = z.infer<typeof policyViolationSchema>;

/**
 * Which bundle an evaluation runs against: a registered cluster (its
 * environment, environment group and profile overlays), or an explicit
 * environment and optional environment group.
 *
 * @public
 */
export const policyTargetSchema = z.union([
  z.object({ cluster: dnsLabelSchema }).strict(),
  z
    .object({
      environment: environmentSchema,
      environmentGroup: dnsLabelSchema.optional(),
    })
    .strict(),
]);

/** @public */
export type PolicyTarget = z.infer<typeof policyTargetSchema>;

/**
 * One admission request to evaluate: the object, and for updates the object
 * before the change.
 *
 * @public
 */
export const policyAdmissionItemSchema = z
  .object({
    operation: z.enum(['CREATE', 'UPDATE']).default('CREATE'),
    object: z.unknown(),
    oldObject: z.unknown().optional(),
  })
  .strict();

/**
 * `POST /policies/evaluate`. `manifests` holds Kubernetes objects (a `List`
 * is expanded) or admission items; items are validated one by one, so one
 * malformed manifest is reported on its own and does not fail the request.
 *
 * @public
 */
export const policyEvaluateRequestSchema = z
  .object({
    target: policyTargetSchema,
    manifests: z.array(z.unknown()).min(1).max(500),
    /**
     * Labels of namespaces the manifests go to, when they are not among the
     * manifests themselves; used for namespace selectors and
     * `namespaceObject`.
     */
    namespaces: z
      .record(z.string().max(63), z.record(z.string(), z.string()))
      .optional(),
    /** Namespace for namespaced objects that name none. Default `default`. */
    defaultNamespace: z.string().max(63).optional(),
  })
  .strict();

/** @public */
export type PolicyEvaluateRequest = z.infer<typeof policyEvaluateRequestSchema>;

/** @public */
export const policyEvaluationResultSchema = z.object({
  index: z.number().int().nonnegative(),
  object: policyObjectRefSchema,
  /** False when a `Deny` rule is violated or the manifest is malformed. */
  allowed: z.boolean(),
  violations: z.array(policyViolationSchema),
  /** Why the manifest could not be evaluated. */
  error: z.string().optional(),
});

/** @public */
export type PolicyEvaluationResult = z.infer<
  typeof policyEvaluationResultSchema
>;

/** @public */
export const policyEvaluateResponseSchema = z.object({
  allowed: z.boolean(),
  bundle: z.object({
    name: z.string(),
    version: z.string(),
    environment: environmentSchema,
    environmentGroup: z.string().optional(),
  }),
  results: z.array(policyEvaluationResultSchema),
  summary: z.object({
    objects: z.number().int(),
    denied: z.number().int(),
    violations: z.number().int(),
    errors: z.number().int(),
  }),
});

/** @public */
export type PolicyEvaluateResponse = z.infer<
  typeof policyEvaluateResponseSchema
>;

/**
 * How a bundle reaches a cluster: applied to its API server with
 * server-side apply, or written to a GitOps working tree.
 *
 * @public
 */
export const policyDistributionModeSchema = z.enum(['apply', 'gitops']);

/** @public */
export type PolicyDistributionMode = z.infer<
  typeof policyDistributionModeSchema
>;

/** @public */
export const policyDriftStatusSchema = z.enum([
  'in-sync',
  'drifted',
  'unknown',
]);

/** @public */
export type PolicyDriftStatus = z.infer<typeof policyDriftStatusSchema>;

/**
 * What KMP installed on a cluster, and whether the cluster still runs it.
 *
 * @public
 */
export const policyInstallationSchema = z.object({
  cluster: dnsLabelSchema,
  bundleVersion: z.string(),
  mode: policyDistributionModeSchema,
  /** Enforcement per rule id as installed. */
  enforcement: z.record(z.string(), policyEnforcementSchema),
  /** Content hash of the governed fields of the installed objects. */
  contentHash: z.string(),
  /** Directory written, for GitOps. */
  location: z.string().optional(),
  installedAt: z.iso.datetime({ offset: true }),
  installedBy: z.string(),
  drift: z.object({
    status: policyDriftStatusSchema,
    checkedAt: z.iso.datetime({ offset: true }).optional(),
    /** What differs, e.g. `ValidatingAdmissionPolicy kmp-x: missing`. */
    details: z.array(z.string()),
    /** Bundle version the cluster's objects carry. */
    liveVersion: z.string().optional(),
  }),
});

/** @public */
export type PolicyInstallation = z.infer<typeof policyInstallationSchema>;

/**
 * Where a compliance finding came from.
 *
 * @public
 */
export const policyFindingSourceSchema = z.enum([
  'kmp-scan',
  'gatekeeper',
  'kyverno',
]);

/** @public */
export type PolicyFindingSource = z.infer<typeof policyFindingSourceSchema>;

/** @public */
export const policyFindingSchema = z.object({
  source: policyFindingSourceSchema,
  /** KMP rule id, or `<engine policy>/<rule>` for policies KMP does not govern. */
  ruleId: z.string(),
  governed: z.boolean(),
  severity: policySeveritySchema.optional(),
  object: policyObjectRefSchema,
  message: z.string(),
});

/** @public */
export type PolicyFinding = z.infer<typeof policyFindingSchema>;

/**
 * Compliance of one cluster: the governed bundle, what is installed, drift,
 * and violations per rule from the cluster's engines and KMP's own scan.
 *
 * @public
 */
export const policyComplianceReportSchema = z.object({
  cluster: dnsLabelSchema,
  environment: environmentSchema,
  environmentGroup: dnsLabelSchema,
  governedVersion: z.string(),
  installation: policyInstallationSchema.optional(),
  scan: z
    .object({
      status: z.enum(['ok', 'failed']),
      scannedAt: z.iso.datetime({ offset: true }),
      bundleVersion: z.string(),
      objectsScanned: z.number().int(),
      error: z.string().optional(),
      /** Engines whose reports were read (`gatekeeper`, `kyverno`). */
      engines: z.array(z.string()),
    })
    .optional(),
  rules: z.array(
    z.object({
      ruleId: z.string(),
      governed: z.boolean(),
      severity: policySeveritySchema.optional(),
      enforcement: policyEnforcementSchema.optional(),
      violations: z.number().int(),
      bySource: z.record(z.string(), z.number().int()),
    }),
  ),
  /** Findings, capped; `truncated` tells when there were more. */
  findings: z.array(policyFindingSchema),
  truncated: z.boolean(),
});

/** @public */
export type PolicyComplianceReport = z.infer<
  typeof policyComplianceReportSchema
>;
