import { z } from 'zod';
import { dnsLabelSchema } from './common';
import { personaSchema } from './persona';

/**
 * Who acted: a person, a service, the GitOps engine, or a person acting
 * under an approved break-glass grant.
 *
 * @public
 */
export const auditActorTypeSchema = z.enum([
  'human',
  'service',
  'gitops',
  'break-glass',
]);

/** @public */
export const auditActorSchema = z.object({
  type: auditActorTypeSchema,
  /** Entity ref of the user, or the service principal's subject. */
  ref: z.string().min(1).max(512),
  persona: personaSchema.optional(),
  ip: z.string().max(64).optional(),
  userAgent: z.string().max(512).optional(),
});

/** @public */
export const auditTargetSchema = z.object({
  cluster: dnsLabelSchema.optional(),
  environmentGroup: dnsLabelSchema.optional(),
  namespace: z.string().max(253).optional(),
  resource: z
    .object({
      group: z.string().max(253).optional(),
      version: z.string().max(63).optional(),
      resource: z.string().min(1).max(253),
      subresource: z.string().max(63).optional(),
      name: z.string().max(253).optional(),
    })
    .optional(),
});

/** @public */
export const auditDecisionSchema = z.object({
  result: z.enum(['allow', 'deny']),
  /** The rule that decided, e.g. "production changes go through GitOps". */
  reason: z.string().max(1000).optional(),
});

/**
 * Severity of an audit event, on the scale of Backstage's auditor service.
 *
 * @public
 */
export const auditSeveritySchema = z.enum([
  'low',
  'medium',
  'high',
  'critical',
]);

/**
 * One audit event. Secrets are redacted from request and response metadata
 * before an event is built; the store adds sequence and hash-chain fields.
 *
 * @public
 */
export const auditEventSchema = z.object({
  id: z.uuid(),
  time: z.iso.datetime({ offset: true }),
  actor: auditActorSchema,
  /** Dotted action name, e.g. `cluster.register` or `proxy.request`. */
  action: z
    .string()
    .min(1)
    .max(128)
    .regex(
      /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/,
      'must be a dotted action name',
    ),
  target: auditTargetSchema,
  decision: auditDecisionSchema,
  outcome: z.enum(['success', 'failure', 'pending']),
  correlationId: z.string().min(1).max(128),
  request: z
    .object({
      method: z.string().max(16).optional(),
      path: z.string().max(2048).optional(),
      verb: z.string().max(32).optional(),
    })
    .catchall(z.unknown())
    .optional(),
  response: z
    .object({
      status: z.number().int().min(100).max(599).optional(),
      durationMs: z.number().nonnegative().optional(),
    })
    .catchall(z.unknown())
    .optional(),
  /**
   * Who emitted the event: `kmp` for KMP's own domains, `backstage:<pluginId>`
   * for events forwarded from another plugin's auditor.
   */
  source: z.string().min(1).max(128).optional(),
  /** Severity as Backstage's auditor grades it; SIEM sinks map it. */
  severity: auditSeveritySchema.optional(),
  /** Further metadata, secrets redacted like request and response. */
  details: z.record(z.string(), z.unknown()).optional(),
});

/** @public */
export type AuditActor = z.infer<typeof auditActorSchema>;
/** @public */
export type AuditTarget = z.infer<typeof auditTargetSchema>;
/** @public */
export type AuditDecision = z.infer<typeof auditDecisionSchema>;
/** @public */
export type AuditEvent = z.infer<typeof auditEventSchema>;

/**
 * An audit event as the store returns it: the event plus its position in the
 * hash chain (`seq`) and its chain hash, hex SHA-256 over the previous
 * event's hash followed by this event's canonical JSON.
 *
 * @public
 */
export const storedAuditEventSchema = auditEventSchema.extend({
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
});

/** @public */
export type AuditSeverity = z.infer<typeof auditSeveritySchema>;
/** @public */
export type StoredAuditEvent = z.infer<typeof storedAuditEventSchema>;
