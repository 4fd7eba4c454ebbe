import {
  dnsLabelSchema,
  environmentSchema,
  labelSelectorSchema,
  policyEnforcementSchema,
  policyNamedExpressionSchema,
  policyParamValueSchema,
  policySeveritySchema,
  policyValidationSchema,
} from '@kmp/plugin-kmp-common';
import { z } from 'zod';

/** apiVersion of the bundle files. */
export const BUNDLE_API_VERSION = 'kmp.backstage.io/v1alpha1';

const kindsSchema = z
  .array(
    z
      .object({
        apiGroups: z.array(z.string()).min(1),
        kinds: z.array(z.string().min(1)).min(1),
      })
      .strict(),
  )
  .min(1);

const matchSchema = z
  .object({
    kinds: kindsSchema,
    operations: z
      .array(z.enum(['CREATE', 'UPDATE']))
      .min(1)
      .optional(),
    namespaceSelector: labelSelectorSchema.strict().optional(),
    excludedNamespaces: z.array(dnsLabelSchema).optional(),
    conditions: z.array(policyNamedExpressionSchema.strict()).optional(),
  })
  .strict();

/** A rule as written in the baseline or an overlay's `addRules`. */
export const ruleFileSchema = z
  .object({
    id: dnsLabelSchema.refine(id => id.length <= 58, {
      message: 'must be at most 58 characters (rendered as kmp-<id>)',
    }),
    description: z.string().min(1),
    severity: policySeveritySchema,
    enabled: z.boolean().optional(),
    enforcement: policyEnforcementSchema.optional(),
    match: matchSchema,
    params: z.record(z.string(), policyParamValueSchema).optional(),
    variables: z.array(policyNamedExpressionSchema.strict()).optional(),
    validations: z.array(policyValidationSchema.strict()).min(1),
  })
  .strict();

export type RuleFile = z.infer<typeof ruleFileSchema>;

const metadataSchema = z
  .object({
    name: dnsLabelSchema,
    description: z.string().optional(),
    /** Group overlays (and profile overlays) name the environment they are for. */
    environment: environmentSchema.optional(),
  })
  .strict();

export const baselineFileSchema = z
  .object({
    apiVersion: z.literal(BUNDLE_API_VERSION),
    kind: z.literal('PolicyBaseline'),
    metadata: metadataSchema,
    spec: z
      .object({
        defaults: z
          .object({
            enforcement: policyEnforcementSchema.optional(),
            excludedNamespaces: z.array(dnsLabelSchema).optional(),
          })
          .strict()
          .optional(),
        variables: z.array(policyNamedExpressionSchema.strict()).optional(),
        rules: z.array(ruleFileSchema).min(1),
      })
      .strict(),
  })
  .strict();

export type BaselineFile = z.infer<typeof baselineFileSchema>;

/** What an overlay may change about an existing rule. */
export const rulePatchSchema = z
  .object({
    description: z.string().min(1).optional(),
    severity: policySeveritySchema.optional(),
    enabled: z.boolean().optional(),
    enforcement: policyEnforcementSchema.optional(),
    /** Replaces parameter values. */
    params: z.record(z.string(), policyParamValueSchema).optional(),
    /** Appends to list parameters and merges into map parameters. */
    paramsAppend: z.record(z.string(), policyParamValueSchema).optional(),
    excludedNamespaces: z.array(dnsLabelSchema).optional(),
    namespaceSelector: labelSelectorSchema.strict().optional(),
  })
  .strict();

export type RulePatch = z.infer<typeof rulePatchSchema>;

export const overlayFileSchema = z
  .object({
    apiVersion: z.literal(BUNDLE_API_VERSION),
    kind: z.literal('PolicyOverlay'),
    metadata: metadataSchema,
    spec: z
      .object({
        /** Enforcement of every rule that does not set its own. */
        enforcement: policyEnforcementSchema.optional(),
        variables: z.array(policyNamedExpressionSchema.strict()).optional(),
        rules: z.record(dnsLabelSchema, rulePatchSchema).optional(),
        addRules: z.array(ruleFileSchema).optional(),
      })
      .strict(),
  })
  .strict();

export type OverlayFile = z.infer<typeof overlayFileSchema>;
