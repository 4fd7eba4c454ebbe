import { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { describeConfigIssue } from '../registry/config';

/** The alert rules KMP evaluates; each can be disabled or slowed down. */
export const ALERT_RULES = [
  'clusterUnreachable',
  'controlPlaneUnhealthy',
  'nodesNotReady',
  'policyDrift',
  'certificateExpiry',
  'gitopsReconciliation',
  'gitopsDrift',
  'nodePressure',
  'nodesUnschedulable',
  'nodeNetworkUnavailable',
] as const;
export type AlertRuleName = (typeof ALERT_RULES)[number];

export const RECEIVER_TYPES = [
  'alertmanager-webhook',
  'pagerduty-events-v2',
  'cloudevents',
] as const;
export type AlertReceiverType = (typeof RECEIVER_TYPES)[number];

/** How long each condition must hold before its alert fires, by default. */
const DEFAULT_FOR_SECONDS: Record<AlertRuleName, number> = {
  // The registry already waits for `unreachableAfter` failed probes.
  clusterUnreachable: 0,
  controlPlaneUnhealthy: 120,
  nodesNotReady: 900,
  // "Prolonged" drift: a drift the next distribution would repair is not.
  policyDrift: 1800,
  // The warning window is days long; no need to wait.
  certificateExpiry: 0,
  // Longer than a GitOps controller's retry interval, so that a failure
  // the next reconciliation repairs does not page anyone.
  gitopsReconciliation: 600,
  // "Prolonged" drift: an application mid-sync or awaiting a manual sync
  // for a while is not.
  gitopsDrift: 1800,
  // The kubelet evicts pods to relieve pressure; a node that stays under
  // pressure is short of capacity.
  nodePressure: 600,
  // Cordons for maintenance are normal for a while; long ones are
  // structural (a node forgotten cordoned, capacity lost).
  nodesUnschedulable: 3600,
  // A node without network runs no new pods: the CNI is failing.
  nodeNetworkUnavailable: 300,
};

const ruleSchema = z
  .object({
    enabled: z.boolean().default(true),
    forSeconds: z
      .number()
      .int()
      .min(0)
      .max(7 * 86400)
      .optional(),
  })
  .strict();

const receiverSchema = z
  .object({
    name: z
      .string()
      .regex(
        /^[a-z0-9]([-a-z0-9_.]{0,61}[a-z0-9])?$/,
        "must be lower-case letters, digits, '-', '_' or '.', at most 63 characters",
      ),
    type: z.enum(RECEIVER_TYPES),
    url: z.string().min(1).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    routingKey: z.string().min(1).optional(),
    batchSize: z.number().int().min(1).max(1000).default(50),
    timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
    minBackoffMs: z.number().int().min(1).default(500),
    maxBackoffMs: z.number().int().min(1).default(60_000),
  })
  .strict()
  .superRefine((receiver, ctx) => {
    if (receiver.type !== 'pagerduty-events-v2' && !receiver.url) {
      ctx.addIssue({
        code: 'custom',
        path: ['url'],
        message: `is required for type ${receiver.type}`,
      });
    }
    if (receiver.type === 'pagerduty-events-v2' && !receiver.routingKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['routingKey'],
        message: 'is required for type pagerduty-events-v2',
      });
    }
  });

const alertsSchema = z
  .object({
    enabled: z.boolean().default(true),
    intervalSeconds: z.number().int().min(1).max(3600).default(60),
    rules: z
      .object(
        Object.fromEntries(
          ALERT_RULES.map(rule => [rule, ruleSchema.optional()]),
        ) as Record<AlertRuleName, z.ZodOptional<typeof ruleSchema>>,
      )
      .strict()
      .default({} as any),
    receivers: z.array(receiverSchema).default([]),
    allowedReceiverHosts: z.array(z.string()).default([]),
    allowInsecureHttp: z.boolean().default(false),
    outboxRetentionDays: z.number().int().min(1).max(365).default(7),
    certificates: z
      .object({
        warnDays: z.number().int().min(1).max(365).default(30),
        criticalDays: z.number().int().min(0).max(365).default(7),
      })
      .strict()
      .default({ warnDays: 30, criticalDays: 7 }),
  })
  .strict();

export type AlertReceiverConfig = z.infer<typeof receiverSchema>;

export interface AlertRuleSettings {
  enabled: boolean;
  forSeconds: number;
}

/** When a certificate KMP holds for a cluster raises an alert. */
export interface CertificateExpirySettings {
  /** Days before expiry from which the alert fires (severity high). */
  warnDays: number;
  /** Days before expiry from which it is critical. */
  criticalDays: number;
}

export interface AlertsConfig {
  enabled: boolean;
  intervalSeconds: number;
  rules: Record<AlertRuleName, AlertRuleSettings>;
  receivers: AlertReceiverConfig[];
  allowedReceiverHosts: string[];
  allowInsecureHttp: boolean;
  outboxRetentionDays: number;
  certificates: CertificateExpirySettings;
}

/** Reads `kmp.alerts`, throwing an InputError naming the key at the first problem. */
export function readAlertsConfig(config: Config): AlertsConfig {
  const key = 'kmp.alerts';
  const result = alertsSchema.safeParse(config.getOptional(key) ?? {});
  if (!result.success) {
    throw new InputError(describeConfigIssue(key, result.error));
  }
  const parsed = result.data;
  const names = new Set<string>();
  parsed.receivers.forEach((receiver, index) => {
    if (names.has(receiver.name)) {
      throw new InputError(
        `Invalid configuration at ${key}.receivers[${index}].name: '${receiver.name}' is used twice`,
      );
    }
    names.add(receiver.name);
  });
  const rules = Object.fromEntries(
    ALERT_RULES.map(rule => {
      const settings = parsed.rules[rule];
      return [
        rule,
        {
          enabled: settings?.enabled ?? true,
          forSeconds: settings?.forSeconds ?? DEFAULT_FOR_SECONDS[rule],
        },
      ];
    }),
  ) as Record<AlertRuleName, AlertRuleSettings>;
  return { ...parsed, rules };
}
