import { Config } from '@backstage/config';
import {
  KmpAuditDeliveryError,
  KmpAuditSink,
  KmpAuditSinkFactory,
  StoredAuditEvent,
} from '@kmp/plugin-kmp-node';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { CefOptions, formatCef } from './cef';

/** RFC 5424 severity: 2 critical, 3 error, 4 warning, 6 informational. */
export function syslogSeverity(event: StoredAuditEvent): number {
  if (event.actor.type === 'break-glass') return 2;
  if (event.outcome === 'failure' && event.decision.result === 'allow') {
    return 3;
  }
  if (event.decision.result === 'deny') return 4;
  return 6;
}

/** An RFC 5424 header field: printable US-ASCII, no spaces, or '-'. */
function headerField(value: string | undefined, max: number): string {
  const clean = (value ?? '').replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean || '-';
}

export interface SyslogFormatOptions extends CefOptions {
  facility: number;
  hostname: string;
  appName: string;
  payload: 'cef' | 'json';
}

/** One RFC 5424 message (without framing), its MSG a CEF record. */
export function formatSyslogMessage(
  event: StoredAuditEvent,
  options: SyslogFormatOptions,
): string {
  const pri = options.facility * 8 + syslogSeverity(event);
  const msg =
    options.payload === 'cef'
      ? formatCef(event, options)
      : JSON.stringify(event);
  return `<${pri}>1 ${event.time} ${headerField(
    options.hostname,
    255,
  )} ${headerField(options.appName, 48)} - audit - ${msg}`;
}

/** RFC 6587 octet-counting framing: `MSG-LEN SP SYSLOG-MSG`. */
export function frameOctetCounting(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

/**
 * Writes a batch on a fresh connection and waits for the receiver to close
 * its side after ours: syslog over TCP has no acknowledgements, and a
 * receiver closes only once it has read everything up to our FIN, so a
 * clean close is the evidence that the batch arrived. A reset, an early
 * close or the timeout fails the batch, which is then sent again whole.
 */
function sendBatch(
  connect: () => net.Socket,
  payload: Buffer,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect();
    let finished = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined = undefined;
    const listeners = new AbortController();
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      listeners.abort();
      if (error) {
        socket.destroy();
        reject(error);
      } else {
        resolve();
      }
    };
    signal.addEventListener(
      'abort',
      () => settle(new Error('delivery aborted')),
      { once: true, signal: listeners.signal },
    );
    timer = setTimeout(
      () =>
        settle(new Error(`no close from the receiver within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.on('error', error => settle(error));
    socket.on('close', hadError => {
      if (hadError) settle(new Error('the connection was reset'));
      else if (finished) settle();
      else settle(new Error('the connection closed before the batch was sent'));
    });
    socket.once(
      socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect',
      () => {
        socket.end(payload, () => {
          finished = true;
        });
      },
    );
    socket.resume();
  });
}

/**
 * Syslog sink: RFC 5424 messages with CEF payloads (what Microsoft
 * Sentinel's agent ingests) over TCP or TLS, with octet-counting framing.
 */
export function createSyslogSink(config: Config): KmpAuditSink {
  const host = config.getString('host');
  const port = config.getNumber('port');
  const transport = config.getOptionalString('transport') ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'tls') {
    throw new Error(`transport must be tcp or tls, not '${transport}'`);
  }
  const payload = (config.getOptionalString('payload') ?? 'cef') as
    | 'cef'
    | 'json';
  if (payload !== 'cef' && payload !== 'json') {
    throw new Error(`payload must be cef or json, not '${payload}'`);
  }
  const facility = config.getOptionalNumber('facility') ?? 13;
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) {
    throw new Error('facility must be an integer from 0 to 23');
  }
  const timeoutMs = config.getOptionalNumber('timeoutMs') ?? 10_000;
  const options: SyslogFormatOptions = {
    facility,
    hostname: config.getOptionalString('hostname') ?? os.hostname(),
    appName: config.getOptionalString('appName') ?? 'kmp',
    payload,
    vendor: 'KMP',
    product: 'Kubernetes Management Platform',
    version: '1',
  };
  const tlsOptions: tls.ConnectionOptions = {
    host,
    port,
    ca: config.getOptionalString('tls.ca'),
    cert: config.getOptionalString('tls.cert'),
    key: config.getOptionalString('tls.key'),
    servername:
      config.getOptionalString('tls.servername') ??
      (net.isIP(host) ? undefined : host),
    rejectUnauthorized:
      config.getOptionalBoolean('tls.rejectUnauthorized') ?? true,
  };
  const connect =
    transport === 'tls'
      ? () => tls.connect(tlsOptions)
      : () => net.connect({ host, port });

  return {
    async deliver(events, deliveryOptions) {
      const payloadBuffer = Buffer.concat(
        events.map(e => frameOctetCounting(formatSyslogMessage(e, options))),
      );
      try {
        await sendBatch(
          connect,
          payloadBuffer,
          timeoutMs,
          deliveryOptions?.signal ?? new AbortController().signal,
        );
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const untrusted =
          /certificate|self[- ]signed|unable to verify|altnames/i.test(message);
        throw new KmpAuditDeliveryError(
          `syslog ${transport}://${host}:${port}: ${message}`,
          { kind: untrusted ? 'rejected' : 'transient', cause: error },
        );
      }
    },
  };
}

/** @internal */
export const syslogSinkFactory: KmpAuditSinkFactory = {
  kind: 'syslog',
  create: ({ config }) => createSyslogSink(config),
};
