import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import http, {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
} from 'node:http';
import https from 'node:https';
import { LookupFunction } from 'node:net';
import { Duplex } from 'node:stream';
import { CircuitBreaker } from './CircuitBreaker';
import { ClusterTarget } from './ClusterConnections';
import { BrokerConfig } from './config';
import { BrokerError } from './status';

/**
 * The `Sec-WebSocket-Protocol` entry that carries a bearer token, because
 * browsers cannot set headers on a WebSocket (client-go, kubectl and the
 * Kubernetes dashboard send it; the API server accepts it the same way).
 */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/** Subresources whose streams are HTTP upgrades (WebSocket or SPDY). */
export const UPGRADE_SUBRESOURCES: ReadonlySet<string> = new Set([
  'exec',
  'attach',
  'portforward',
]);

/** An HTTP/1.1 upgrade request (`Connection: Upgrade` + `Upgrade`). */
export function isUpgradeRequest(headers: IncomingHttpHeaders): boolean {
  const connection = String(headers.connection ?? '').toLowerCase();
  return (
    !!headers.upgrade &&
    connection.split(',').some(token => token.trim() === 'upgrade')
  );
}

/**
 * Splits `Sec-WebSocket-Protocol` into the bearer token it carries (if any)
 * and the protocols to forward without it.
 */
export function webSocketBearer(headers: IncomingHttpHeaders): {
  token?: string;
  protocols?: string;
  hadBearer: boolean;
} {
  const raw = headers['sec-websocket-protocol'];
  if (raw === undefined) return { hadBearer: false };
  const entries = String(raw)
    .split(',')
    .map(p => p.trim())
    .filter(Boolean);
  let token: string | undefined;
  const rest: string[] = [];
  for (const entry of entries) {
    if (entry.startsWith(BEARER_PROTOCOL_PREFIX)) {
      const encoded = entry.slice(BEARER_PROTOCOL_PREFIX.length);
      if (/^[A-Za-z0-9_-]+$/.test(encoded)) {
        token ??= Buffer.from(encoded, 'base64url').toString('utf8');
      }
    } else {
      rest.push(entry);
    }
  }
  return {
    token: token && /^[\x21-\x7e]+$/.test(token) ? token : undefined,
    protocols: rest.length > 0 ? rest.join(', ') : undefined,
    hadBearer: rest.length !== entries.length,
  };
}

/** What the cluster answered to an upgrade request. */
export type UpgradeAnswer =
  | { upgraded: true; response: IncomingMessage; socket: Duplex; head: Buffer }
  | { upgraded: false; response: IncomingMessage };

/**
 * Sends an upgrade request to a cluster with its credential, on a
 * connection of its own (an upgraded socket never returns to a pool), with
 * the cluster's circuit breaker, the registry's URL policy and the broker's
 * connect and response deadlines. Resolves with the upgraded socket, or
 * with the cluster's ordinary answer (a refusal) to pass on.
 */
export function openUpgrade(options: {
  target: ClusterTarget;
  credentials: ClusterCredentials;
  lookup: LookupFunction;
  breaker: CircuitBreaker;
  timeouts: Pick<BrokerConfig['timeouts'], 'connectMs' | 'responseMs'>;
  method: string;
  pathAndQuery: string;
  headers: OutgoingHttpHeaders;
  signal: AbortSignal;
}): Promise<UpgradeAnswer> {
  const { target, credentials: c, breaker } = options;
  const admission = breaker.admit();
  if (!admission.allowed) {
    const seconds = Math.ceil(admission.retryAfterMs / 1000);
    return Promise.reject(
      new BrokerError(
        503,
        `cluster '${target.name}' is unreachable (${
          breaker.reason ?? 'connection failures'
        }); the broker retries it in ${seconds} s`,
        { name: target.name, retryAfterSeconds: seconds },
        'cluster unreachable',
      ),
    );
  }
  const base = new URL(target.apiServerUrl);
  const isHttps = base.protocol === 'https:';
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (c.token) headers.authorization = `Bearer ${c.token}`;

  return new Promise<UpgradeAnswer>((resolve, reject) => {
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const request = (isHttps ? https : http).request({
      hostname: base.hostname.replace(/^\[|\]$/g, ''),
      port: Number(base.port) || (isHttps ? 443 : 80),
      method: options.method,
      path: base.pathname.replace(/\/$/, '') + options.pathAndQuery,
      headers,
      agent: false,
      lookup: options.lookup,
      ...(isHttps
        ? {
            ca: c.certificateAuthority,
            cert: c.clientCertificate,
            key: c.clientKey,
            rejectUnauthorized: !c.skipTlsVerify,
          }
        : {}),
    });
    // (The abort listener checks `settled`; the signal is per request.)
    const settle = () => {
      settled = true;
      timers.forEach(clearTimeout);
    };
    const fail = (message: string, status = 503, counts = true) => {
      if (settled) return;
      settle();
      request.destroy();
      if (counts) breaker.failure(message);
      else breaker.release(admission.trial);
      reject(
        new BrokerError(
          status,
          `cluster '${target.name}' is unreachable: ${message}`,
          { name: target.name },
          status === 504 ? 'cluster timeout' : 'cluster unreachable',
        ),
      );
    };
    const onAbort = () => {
      if (settled) return;
      settle();
      request.destroy();
      breaker.release(admission.trial);
      reject(new BrokerError(499, 'the client went away'));
    };
    if (options.signal.aborted) {
      onAbort();
      return;
    }
    options.signal.addEventListener('abort', onAbort, { once: true });

    const { connectMs, responseMs } = options.timeouts;
    request.on('socket', socket => {
      const timer = setTimeout(
        () =>
          fail(
            `no ${
              isHttps ? 'TLS handshake' : 'connection'
            } within ${connectMs} ms`,
          ),
        connectMs,
      );
      timers.push(timer);
      socket.once(isHttps ? 'secureConnect' : 'connect', () =>
        clearTimeout(timer),
      );
    });
    timers.push(
      setTimeout(
        () => fail(`no response within ${responseMs} ms`, 504),
        responseMs,
      ),
    );
    request.on('upgrade', (response, socket, head) => {
      if (settled) {
        socket.destroy();
        return;
      }
      settle();
      breaker.success();
      resolve({ upgraded: true, response, socket, head });
    });
    request.on('response', response => {
      if (settled) {
        response.destroy();
        return;
      }
      settle();
      breaker.success();
      resolve({ upgraded: false, response });
    });
    request.on('error', (error: Error & { code?: string }) =>
      fail(
        error.code === 'EKMPURLPOLICY'
          ? error.message
          : error.code ?? error.message,
        503,
        error.code !== 'EKMPURLPOLICY',
      ),
    );
    request.end();
  });
}

/** The `101 Switching Protocols` head the client gets, from the cluster's. */
export function switchingProtocolsHead(
  response: IncomingMessage,
  extra: Record<string, string>,
): string {
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  const raw = response.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (name === 'set-cookie' || name.startsWith('proxy-')) continue;
    if (/[\r\n]/.test(raw[i] + raw[i + 1])) continue;
    lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  for (const [name, value] of Object.entries(extra)) {
    lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** How an upgraded stream ended, and what crossed it. */
export interface SplicedStream {
  /** Who closed first. */
  ended: 'client-closed' | 'cluster-closed';
  /** Bytes from the client to the cluster. */
  bytesIn: number;
  /** Bytes from the cluster to the client. */
  bytesOut: number;
}

/**
 * Pipes an upgraded client socket and the cluster's upgraded socket into
 * each other, with back-pressure in both directions, until either side
 * closes (the other is then closed too).
 */
export function splice(
  client: Duplex,
  cluster: Duplex,
): Promise<SplicedStream> {
  return new Promise(resolve => {
    let bytesIn = 0;
    let bytesOut = 0;
    let ended: SplicedStream['ended'] | undefined;
    let open = 2;
    client.on('data', (chunk: Buffer) => {
      bytesIn += chunk.length;
    });
    cluster.on('data', (chunk: Buffer) => {
      bytesOut += chunk.length;
    });
    const closed = (who: SplicedStream['ended'], other: Duplex) => () => {
      ended ??= who;
      // Let what is buffered go out, then make sure the other side goes.
      other.end();
      setTimeout(() => other.destroy(), 1000).unref();
      open -= 1;
      if (open === 0) resolve({ ended: ended!, bytesIn, bytesOut });
    };
    client.once('close', closed('client-closed', cluster));
    cluster.once('close', closed('cluster-closed', client));
    client.on('error', () => client.destroy());
    cluster.on('error', () => cluster.destroy());
    cluster.pipe(client);
    client.pipe(cluster);
  });
}
