import {
  AuditorService,
  AuditorServiceCreateEventOptions,
  coreServices,
  createServiceFactory,
  createServiceRef,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { DefaultAuditorService } from '@backstage/backend-defaults/auditor';
import { Config } from '@backstage/config';
import { JsonObject } from '@backstage/types';
import { randomUUID } from 'node:crypto';

/**
 * One event of another plugin's Backstage auditor, as the KMP backend gets it
 * to append to its audit stream.
 *
 * @public
 */
export interface KmpForwardedAuditorEvent {
  /** The plugin that emitted it, e.g. `catalog`. */
  plugin: string;
  eventId: string;
  severityLevel: 'low' | 'medium' | 'high' | 'critical';
  status: 'initiated' | 'succeeded' | 'failed';
  /** Shared by the `initiated` event and its `succeeded` or `failed` one. */
  correlationId: string;
  /** ISO 8601 time the auditor logged it. */
  time: string;
  actor: {
    actorId?: string;
    ip?: string;
    hostname?: string;
    userAgent?: string;
  };
  request?: { url?: string; method?: string };
  meta?: JsonObject;
  error?: { name: string; message: string };
}

/**
 * Carries auditor events from every plugin of a backend to the KMP audit
 * store. Events published before the KMP backend subscribes wait in a
 * bounded buffer.
 *
 * @public
 */
export class KmpAuditForwarder {
  static readonly maxBuffered = 10_000;

  #handler?: (event: KmpForwardedAuditorEvent) => Promise<void>;
  #buffer: KmpForwardedAuditorEvent[] = [];
  #dropped = 0;

  private constructor(private readonly logger: LoggerService) {}

  static create(options: { logger: LoggerService }): KmpAuditForwarder {
    return new KmpAuditForwarder(options.logger);
  }

  /**
   * Hands an event to the subscriber and waits until it has taken it (for
   * the KMP backend: until it is durable). Never throws: a failure to
   * forward is logged, and must not fail the plugin that audits.
   */
  async publish(event: KmpForwardedAuditorEvent): Promise<void> {
    const handler = this.#handler;
    if (!handler) {
      if (this.#buffer.length >= KmpAuditForwarder.maxBuffered) {
        this.#buffer.shift();
        this.#dropped += 1;
      }
      this.#buffer.push(event);
      return;
    }
    try {
      await handler(event);
    } catch (error) {
      this.logger.warn(
        `Could not forward auditor event ${event.plugin}.${event.eventId} to the KMP audit store: ${error}`,
      );
    }
  }

  /**
   * Sets the one subscriber and replays what was buffered before it.
   * Returns a function that unsubscribes.
   */
  subscribe(handler: (event: KmpForwardedAuditorEvent) => Promise<void>) {
    if (this.#handler) {
      throw new Error('The KMP audit forwarder already has a subscriber');
    }
    this.#handler = handler;
    const buffered = this.#buffer;
    this.#buffer = [];
    if (this.#dropped > 0) {
      this.logger.warn(
        `${
          this.#dropped
        } auditor events were emitted before the KMP backend started and did not fit the forwarding buffer`,
      );
      this.#dropped = 0;
    }
    const replay = (async () => {
      for (const event of buffered) {
        await this.publish(event);
      }
    })();
    return async () => {
      await replay;
      if (this.#handler === handler) {
        this.#handler = undefined;
      }
    };
  }
}

/**
 * The backend-wide {@link KmpAuditForwarder}.
 *
 * @public
 */
export const kmpAuditForwarderServiceRef = createServiceRef<KmpAuditForwarder>({
  id: 'kmp.audit-forwarder',
  scope: 'root',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { logger: coreServices.rootLogger },
      factory: ({ logger }) => KmpAuditForwarder.create({ logger }),
    }),
});

const FORWARDER = Symbol.for('kmp.audit-forwarder');

/**
 * The auditor meta key the KMP audit service sets on the auditor events it
 * emits for events it has already stored; such events are not forwarded.
 *
 * @public
 */
export const KMP_AUDIT_ID_META = 'kmpAuditId';

/**
 * The forwarder behind an auditor made by
 * {@link kmpAuditorServiceFactory}, or undefined for any other auditor.
 *
 * @public
 */
export function getKmpAuditForwarder(
  auditor: AuditorService,
): KmpAuditForwarder | undefined {
  return (auditor as { [FORWARDER]?: KmpAuditForwarder })[FORWARDER];
}

type LogLevel = 'debug' | 'info' | 'warn' | 'error';

function severityLogLevels(config: Config): Record<string, LogLevel> {
  const read = (key: string, fallback: LogLevel): LogLevel => {
    const value = config.getOptionalString(
      `backend.auditor.severityLogLevelMappings.${key}`,
    );
    if (value === undefined) return fallback;
    if (!['debug', 'info', 'warn', 'error'].includes(value)) {
      throw new Error(
        `Invalid configuration at backend.auditor.severityLogLevelMappings.${key}: must be one of debug, info, warn, error`,
      );
    }
    return value as LogLevel;
  };
  return {
    low: read('low', 'debug'),
    medium: read('medium', 'info'),
    high: read('high', 'info'),
    critical: read('critical', 'info'),
  };
}

/**
 * Replaces Backstage's default auditor service: every plugin's auditor
 * events are logged exactly as the default one logs them, and are also
 * forwarded into the KMP audit stream (hash-chained store and SIEM sinks).
 * Install it in the backend with `backend.add(kmpAuditorServiceFactory)`.
 *
 * @public
 */
export const kmpAuditorServiceFactory = createServiceFactory({
  service: coreServices.auditor,
  deps: {
    config: coreServices.rootConfig,
    logger: coreServices.logger,
    auth: coreServices.auth,
    httpAuth: coreServices.httpAuth,
    plugin: coreServices.pluginMetadata,
    forwarder: kmpAuditForwarderServiceRef,
  },
  factory({ config, logger, auth, httpAuth, plugin, forwarder }) {
    const auditLogger = logger.child({ isAuditEvent: true });
    const levels = severityLogLevels(config);

    const service: AuditorService & { [FORWARDER]: KmpAuditForwarder } = {
      [FORWARDER]: forwarder,
      async createEvent(options: AuditorServiceCreateEventOptions) {
        const correlationId = randomUUID();
        const inner = DefaultAuditorService.create(
          async event => {
            const level = levels[event.severityLevel] ?? 'info';
            const message = `${event.plugin}.${event.eventId}`;
            if ('error' in event && event.error) {
              const { error, ...rest } = event;
              auditLogger.child(rest)[level](message, error);
            } else {
              auditLogger[level](message, event as unknown as JsonObject);
            }
            // Events the KMP audit service emitted are stored already.
            if (event.meta && KMP_AUDIT_ID_META in event.meta) return;
            const error =
              'error' in event && event.error
                ? {
                    name: String(event.error.name ?? 'Error'),
                    message: String(event.error.message ?? ''),
                  }
                : undefined;
            await forwarder.publish({
              plugin: event.plugin,
              eventId: event.eventId,
              severityLevel: event.severityLevel,
              status: event.status,
              correlationId,
              time: new Date().toISOString(),
              actor: {
                actorId: event.actor.actorId,
                ip: event.actor.ip,
                hostname: event.actor.hostname,
                userAgent: event.actor.userAgent,
              },
              request: event.request,
              meta: event.meta,
              error,
            });
          },
          { plugin, auth, httpAuth },
        );
        return inner.createEvent(options);
      },
    };
    return service;
  },
});
