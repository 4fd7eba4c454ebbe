import {
  AuditorService,
  AuditorServiceEventSeverityLevel,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { InputError } from '@backstage/errors';
import { AuditEvent, auditEventSchema } from '@kmp/plugin-kmp-common';
import {
  KMP_AUDIT_ID_META,
  KmpAuditEventInput,
  KmpAuditService,
  StoredAuditEvent,
} from '@kmp/plugin-kmp-node';
import { randomUUID } from 'node:crypto';
import { prepareAuditEvent } from './AuditStore';
import { AuditWriter } from './AuditWriter';
import { redactSecrets } from './redact';

function describeIssue(error: {
  issues: Array<{ path: PropertyKey[]; message: string }>;
}) {
  const issue = error.issues[0];
  const path = issue.path.map(String).join('.');
  return `Invalid audit event${path ? ` at ${path}` : ''}: ${issue.message}`;
}

function severityOf(event: AuditEvent): AuditorServiceEventSeverityLevel {
  if (event.severity) return event.severity;
  if (event.actor.type === 'break-glass') return 'critical';
  if (event.decision.result === 'deny') return 'medium';
  return 'low';
}

/**
 * Records audit events: fills defaults, redacts secrets, validates, appends
 * durably to the hash chain (group commit through the {@link AuditWriter}),
 * and emits the event through Backstage's auditor service as well.
 */
export class AuditService implements KmpAuditService {
  private constructor(
    private readonly writer: AuditWriter,
    private readonly auditor: AuditorService | undefined,
    private readonly logger: LoggerService,
  ) {}

  static create(options: {
    writer: AuditWriter;
    /** Omit to not emit through Backstage's auditor (forwarded events). */
    auditor?: AuditorService;
    logger: LoggerService;
  }): AuditService {
    return new AuditService(options.writer, options.auditor, options.logger);
  }

  /** Fills id, time and correlation id, redacts secrets and validates. */
  static normalize(input: KmpAuditEventInput): AuditEvent {
    const id = input.id ?? randomUUID();
    const candidate = {
      ...input,
      id,
      time: input.time ?? new Date().toISOString(),
      correlationId: input.correlationId ?? id,
      request: input.request ? redactSecrets(input.request) : undefined,
      response: input.response ? redactSecrets(input.response) : undefined,
      details: input.details ? redactSecrets(input.details) : undefined,
    };
    const parsed = auditEventSchema.safeParse(candidate);
    if (!parsed.success) {
      throw new InputError(describeIssue(parsed.error));
    }
    return parsed.data;
  }

  async record(input: KmpAuditEventInput): Promise<StoredAuditEvent> {
    const event = AuditService.normalize(input);
    const { seq, hash } = await this.writer.append(prepareAuditEvent(event));
    const stored = { ...event, seq, hash };
    if (this.auditor) {
      await this.emit(stored).catch(error =>
        this.logger.warn(
          `Could not emit audit event ${event.id} through the auditor service: ${error}`,
        ),
      );
    }
    return stored;
  }

  private async emit(event: StoredAuditEvent) {
    const meta = {
      [KMP_AUDIT_ID_META]: event.id,
      seq: event.seq,
      action: event.action,
      actor: event.actor.ref,
      actorType: event.actor.type,
      ...(event.target.cluster ? { cluster: event.target.cluster } : {}),
      ...(event.target.namespace ? { namespace: event.target.namespace } : {}),
      decision: event.decision.result,
      outcome: event.outcome,
      correlationId: event.correlationId,
    };
    const auditorEvent = await this.auditor!.createEvent({
      eventId: event.action.replace(/\./g, '-'),
      severityLevel: severityOf(event),
      meta,
    });
    if (event.outcome === 'success') {
      await auditorEvent.success();
    } else if (event.outcome === 'failure') {
      await auditorEvent.fail({
        error: new Error(
          event.decision.result === 'deny'
            ? `denied${
                event.decision.reason ? `: ${event.decision.reason}` : ''
              }`
            : 'failed',
        ),
      });
    }
  }
}
