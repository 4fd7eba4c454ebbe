import { z } from 'zod';
import { dnsLabelSchema } from './common';

/**
 * Where a break-glass request stands. `expired` is derived: an approved
 * grant past its end, or a pending request nobody decided in time.
 *
 * @public
 */
export const breakGlassStateSchema = z.enum([
  'pending',
  'approved',
  'denied',
  'revoked',
  'expired',
]);

/** @public */
export type BreakGlassState = z.infer<typeof breakGlassStateSchema>;

const timestamp = z.iso.datetime({ offset: true });

/**
 * A break-glass request and, once approved, the grant it became (same id),
 * as the API returns it.
 *
 * @public
 */
export const breakGlassRequestSchema = z.object({
  id: z.uuid(),
  cluster: dnsLabelSchema,
  environmentGroup: dnsLabelSchema,
  /** The grant covers only this namespace; absent = the whole cluster. */
  namespace: dnsLabelSchema.optional(),
  /** Entity ref of the person who asked. */
  requester: z.string().min(1),
  reason: z.string(),
  durationSeconds: z.number().int().positive(),
  state: breakGlassStateSchema,
  createdAt: timestamp,
  /** An undecided request lapses at this time. */
  pendingUntil: timestamp,
  decidedBy: z.string().optional(),
  decidedAt: timestamp.optional(),
  comment: z.string().optional(),
  /** End of the grant (approved requests only). */
  expiresAt: timestamp.optional(),
  revokedBy: z.string().optional(),
  revokedAt: timestamp.optional(),
  revokeReason: z.string().optional(),
});

/** @public */
export type BreakGlassRequest = z.infer<typeof breakGlassRequestSchema>;

/**
 * A break-glass request after a step (request, approve, deny, revoke or
 * withdraw), with the id of the KMP audit event that recorded the step.
 *
 * @public
 */
export const breakGlassStepResultSchema = breakGlassRequestSchema.extend({
  /** Id of the KMP audit event that recorded the step. */
  auditId: z.uuid(),
});

/** @public */
export type BreakGlassStepResult = z.infer<typeof breakGlassStepResultSchema>;

/**
 * The shortest grant one may ask for, in seconds. The longest is the
 * backend's `kmp.breakGlass.maxDurationSeconds`.
 *
 * @public
 */
export const BREAK_GLASS_MIN_DURATION_SECONDS = 60;

/**
 * What a person sends to ask for a break-glass grant. The backend further
 * caps `durationSeconds` at its configured maximum.
 *
 * @public
 */
export const breakGlassRequestInputSchema = z
  .object({
    cluster: dnsLabelSchema,
    /** Why, in at least 10 characters. */
    reason: z
      .string()
      .trim()
      .min(10, 'must say why, in at least 10 characters')
      .max(2000),
    /** From approval; default and maximum are the backend's config (1 h, 4 h). */
    durationSeconds: z
      .number()
      .int()
      .min(
        BREAK_GLASS_MIN_DURATION_SECONDS,
        `must be at least ${BREAK_GLASS_MIN_DURATION_SECONDS} seconds`,
      )
      .optional(),
    /** Limits the grant to one namespace. */
    namespace: dnsLabelSchema.optional(),
  })
  .strict();

/** @public */
export type BreakGlassRequestInput = z.infer<
  typeof breakGlassRequestInputSchema
>;

/**
 * Filters of the break-glass request list (`GET /break-glass/requests`).
 *
 * @public
 */
export const breakGlassListQuerySchema = z
  .object({
    state: breakGlassStateSchema.optional(),
    cluster: dnsLabelSchema.optional(),
    /** 1 to 500; the backend's default is 100. */
    limit: z.number().int().min(1).max(500).optional(),
  })
  .strict();

/** @public */
export type BreakGlassListQuery = z.infer<typeof breakGlassListQuerySchema>;
