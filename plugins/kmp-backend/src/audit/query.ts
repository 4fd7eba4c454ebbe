import { InputError } from '@backstage/errors';
import { z } from 'zod';
import { AuditEventFilter } from './AuditStore';

/** Opaque page cursor: the last seq of a page and the order it was read in. */
export function encodeCursor(order: 'asc' | 'desc', seq: number): string {
  return Buffer.from(`${order}:${seq}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, order: 'asc' | 'desc'): number {
  const match = /^(asc|desc):(\d{1,15})$/.exec(
    Buffer.from(cursor, 'base64url').toString('utf8'),
  );
  if (!match) {
    throw new InputError('Invalid query parameter cursor: not a page cursor');
  }
  if (match[1] !== order) {
    throw new InputError(
      `Invalid query parameter cursor: it continues a listing in ${match[1]} order, not ${order}`,
    );
  }
  return Number(match[2]);
}

const isoTime = z.iso.datetime({ offset: true });

/**
 * The filters of the audit query and export APIs. The OpenAPI document
 * checks their types first; this checks what it cannot say (time order,
 * action syntax) and converts.
 */
export const auditQuerySchema = z
  .object({
    actor: z.string().min(1).max(512).optional(),
    actorType: z.enum(['human', 'service', 'gitops', 'break-glass']).optional(),
    cluster: z.string().min(1).max(63).optional(),
    namespace: z.string().min(1).max(253).optional(),
    action: z
      .string()
      .regex(
        /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*(\.\*)?$/,
        'must be a dotted action name, optionally ending in .* for a prefix',
      )
      .max(128)
      .optional(),
    decision: z.enum(['allow', 'deny']).optional(),
    outcome: z.enum(['success', 'failure', 'pending']).optional(),
    correlationId: z.string().min(1).max(128).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .refine(q => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), {
    path: ['to'],
    message: 'must not be before from',
  });

export function parseAuditFilter(query: unknown): AuditEventFilter {
  const parsed = auditQuerySchema.safeParse(query);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      `Invalid query parameter ${issue.path.map(String).join('.')}: ${
        issue.message
      }`,
    );
  }
  const { from, to, ...rest } = parsed.data;
  return {
    ...rest,
    ...(from ? { fromMs: Date.parse(from) } : {}),
    ...(to ? { toMs: Date.parse(to) } : {}),
  };
}
