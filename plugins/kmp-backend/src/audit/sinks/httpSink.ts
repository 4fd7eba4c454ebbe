import { Config } from '@backstage/config';
import {
  KmpAuditDeliveryError,
  KmpAuditSink,
  KmpAuditSinkFactory,
  StoredAuditEvent,
} from '@kmp/plugin-kmp-node';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';

/** A URL fit for logs and errors: no user info, no query string. */
export function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Classifies an HTTP status: 2xx ok, 408/429/5xx transient, 4xx rejected. */
export function classifyStatus(
  status: number,
): 'ok' | 'transient' | 'rejected' {
  if (status >= 200 && status < 300) return 'ok';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'rejected';
}

interface HttpRequest {
  url: URL;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  signal: AbortSignal;
  agent: http.Agent;
}

/**
 * POSTs a body and resolves with the status and (at most 64 KiB of) the
 * response body. Rejects on connection errors, closed connections and the
 * timeout, which covers connecting, sending and the whole response.
 */
export function postBody(
  request: HttpRequest,
): Promise<{ status: number; body: string }> {
  const client = request.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      request.url,
      {
        method: 'POST',
        headers: {
          ...request.headers,
          'content-length': Buffer.byteLength(request.body),
        },
        agent: request.agent,
        signal: request.signal,
        timeout: request.timeoutMs,
      },
      res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          if (size < 65536) chunks.push(chunk);
          size += chunk.length;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8').slice(0, 65536),
          }),
        );
        res.on('error', reject);
        res.on('aborted', () =>
          reject(new Error('the connection closed during the response')),
        );
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)),
      request.timeoutMs,
    );
    req.on('close', () => clearTimeout(timer));
    req.on('timeout', () =>
      req.destroy(new Error(`socket idle for ${request.timeoutMs} ms`)),
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

type Format = 'json' | 'cloudevents' | 'splunk-hec';

/** Attributes of one CloudEvents 1.0 event carrying an audit event. */
export function toCloudEvent(
  event: StoredAuditEvent,
  options: { source: string; type: string },
) {
  const { seq, hash, ...data } = event;
  const subject = [
    event.target.cluster && `clusters/${event.target.cluster}`,
    event.target.namespace && `namespaces/${event.target.namespace}`,
  ]
    .filter(Boolean)
    .join('/');
  return {
    specversion: '1.0',
    id: event.id,
    source: options.source,
    type: options.type,
    time: event.time,
    ...(subject ? { subject } : {}),
    datacontenttype: 'application/json',
    // Extension attributes: lower-case alphanumerics, at most 20 characters.
    kmpseq: seq,
    kmphash: hash,
    kmpaction: event.action,
    data,
  };
}

/** One Splunk HTTP Event Collector event. */
export function toSplunkHecEvent(
  event: StoredAuditEvent,
  options: { host: string; source: string; sourcetype: string; index?: string },
) {
  return {
    time: Date.parse(event.time) / 1000,
    host: options.host,
    source: options.source,
    sourcetype: options.sourcetype,
    ...(options.index ? { index: options.index } : {}),
    event,
  };
}

function readHeaders(config: Config): Record<string, string> {
  const headers: Record<string, string> = {};
  const headersConfig = config.getOptionalConfig('headers');
  for (const key of headersConfig?.keys() ?? []) {
    headers[key.toLowerCase()] = headersConfig!.getString(key);
  }
  return headers;
}

/**
 * HTTP sink: POSTs each batch as a generic JSON array, a CloudEvents 1.0
 * structured-mode batch, or Splunk HEC events. Secrets (the HEC token,
 * header values) are read from config, which resolves `$env`/`$file`
 * references, and never appear in logs or errors.
 */
export function createHttpSink(config: Config): KmpAuditSink {
  const format = (config.getOptionalString('format') ?? 'json') as Format;
  if (!['json', 'cloudevents', 'splunk-hec'].includes(format)) {
    throw new Error(
      `format must be one of json, cloudevents, splunk-hec, not '${format}'`,
    );
  }
  let url: URL;
  try {
    url = new URL(config.getString('url'));
  } catch (error) {
    throw new Error(`url: ${error instanceof Error ? error.message : error}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`url must be http or https, not ${url.protocol}`);
  }
  const headers = readHeaders(config);
  const timeoutMs = config.getOptionalNumber('timeoutMs') ?? 10_000;
  const ca = config.getOptionalString('tls.ca');
  const rejectUnauthorized =
    config.getOptionalBoolean('tls.rejectUnauthorized') ?? true;
  const agent =
    url.protocol === 'https:'
      ? new https.Agent({ keepAlive: true, ca, rejectUnauthorized })
      : new http.Agent({ keepAlive: true });

  let contentType = 'application/json';
  let serialize: (events: StoredAuditEvent[]) => string = events =>
    JSON.stringify(events);
  if (format === 'cloudevents') {
    const source = config.getOptionalString('source') ?? '/kmp/audit';
    const type = config.getOptionalString('type') ?? 'io.kmp.audit.event.v1';
    contentType = 'application/cloudevents-batch+json; charset=utf-8';
    serialize = events =>
      JSON.stringify(events.map(e => toCloudEvent(e, { source, type })));
  } else if (format === 'splunk-hec') {
    const token = config.getString('token');
    headers.authorization = `Splunk ${token}`;
    if (!url.pathname.endsWith('/services/collector/event')) {
      url = new URL(
        `${url.pathname.replace(/\/+$/, '')}/services/collector/event`,
        url,
      );
    }
    const options = {
      host: config.getOptionalString('host') ?? os.hostname(),
      source: config.getOptionalString('source') ?? 'kmp',
      sourcetype: config.getOptionalString('sourcetype') ?? 'kmp:audit',
      index: config.getOptionalString('index'),
    };
    serialize = events =>
      events.map(e => JSON.stringify(toSplunkHecEvent(e, options))).join('\n');
  }
  headers['content-type'] = contentType;
  const where = safeUrl(url);

  return {
    async deliver(events, deliveryOptions) {
      let response;
      try {
        response = await postBody({
          url,
          headers,
          body: serialize(events),
          timeoutMs,
          signal: deliveryOptions?.signal ?? new AbortController().signal,
          agent,
        });
      } catch (error) {
        throw new KmpAuditDeliveryError(
          `POST ${where} failed: ${
            error instanceof Error ? error.message : error
          }`,
          { kind: 'transient', cause: error },
        );
      }
      const verdict = classifyStatus(response.status);
      if (verdict === 'ok' && format === 'splunk-hec') {
        // HEC answers {"text":"Success","code":0}; anything else is a refusal.
        try {
          const { code } = JSON.parse(response.body);
          if (code !== undefined && code !== 0) {
            throw new KmpAuditDeliveryError(
              `POST ${where}: Splunk HEC answered code ${code}`,
              { kind: 'rejected' },
            );
          }
        } catch (error) {
          if (error instanceof KmpAuditDeliveryError) throw error;
        }
      }
      if (verdict !== 'ok') {
        throw new KmpAuditDeliveryError(
          `POST ${where} answered HTTP ${response.status}`,
          { kind: verdict },
        );
      }
    },
    async close() {
      agent.destroy();
    },
  };
}

/** @internal */
export const httpSinkFactory: KmpAuditSinkFactory = {
  kind: 'http',
  create: ({ config }) => createHttpSink(config),
};
