import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import http, { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { ClusterUrlPolicy } from '../registry/ClusterUrlPolicy';
import { CircuitBreaker } from './CircuitBreaker';
import { BrokerConfig } from './config';
import { BrokerError } from './status';

/** What the broker needs to reach one cluster. */
export interface ClusterTarget {
  name: string;
  /** Registry revision; a new one (new URL or credentials) means a new pool. */
  revision: number;
  apiServerUrl: string;
}

export interface ForwardRequest {
  method: string;
  /** Path and query, already checked, relative to the API server's root. */
  pathAndQuery: string;
  headers: OutgoingHttpHeaders;
  body?: Buffer;
  /** Watches, logs and streams: no deadline once the answer has started. */
  longRunning: boolean;
  signal?: AbortSignal;
}

export interface ForwardResult {
  request: http.ClientRequest;
  response: IncomingMessage;
}

type Settings = BrokerConfig['timeouts'];

/** A connection failure, classified for the breaker and the Status. */
class ConnectFailure extends Error {
  constructor(message: string, readonly countsForBreaker = true) {
    super(message);
  }
}

function describe(error: Error & { code?: string }): ConnectFailure {
  switch (error.code) {
    case 'EKMPURLPOLICY':
      return new ConnectFailure(error.message, false);
    case 'ECONNREFUSED':
      return new ConnectFailure('connection refused');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConnectFailure('host name does not resolve');
    case 'ECONNRESET':
    case 'EPIPE':
      return new ConnectFailure('connection reset');
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new ConnectFailure('host unreachable');
    default:
      if (error instanceof ConnectFailure) return error;
      if (
        error.code?.startsWith('ERR_TLS') ||
        /certificate/i.test(error.message)
      ) {
        return new ConnectFailure(`TLS: ${error.message}`);
      }
      return new ConnectFailure(error.code ?? error.message);
  }
}

/**
 * A keep-alive connection pool to one cluster's API server with the
 * cluster's credential (client certificate in the TLS options, bearer
 * token as a header), its circuit breaker, and deadlines that never let a
 * request wait on a dead or frozen server:
 *
 * - a new connection must complete TCP and TLS within `connectMs`;
 * - when no response has started after `stallProbeMs`, a fresh TLS
 *   handshake is tried: an API server that cannot complete one is frozen or
 *   gone (a pooled socket to a stopped process accepts writes and never
 *   answers), so the request fails at once instead of at `responseMs`;
 * - ordinary requests must answer within `responseMs` (and stay idle no
 *   longer than that), long-running ones only have to start answering.
 */
export class ClusterConnection {
  private readonly agent: http.Agent;
  private readonly base: URL;
  private readonly isHttps: boolean;
  private readonly authorization: string | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    readonly target: ClusterTarget,
    private readonly credentials: ClusterCredentials,
    private readonly policy: ClusterUrlPolicy,
    readonly breaker: CircuitBreaker,
    private readonly settings: Settings,
  ) {
    this.base = new URL(target.apiServerUrl);
    this.isHttps = this.base.protocol === 'https:';
    this.authorization = credentials.token
      ? `Bearer ${credentials.token}`
      : undefined;
    const options = {
      keepAlive: true,
      maxFreeSockets: 64,
      scheduling: 'lifo' as const,
      lookup: policy.lookup,
    };
    this.agent = this.isHttps
      ? new https.Agent({ ...options, ...this.tlsOptions() })
      : new http.Agent(options);
  }

  private tlsOptions(): tls.ConnectionOptions {
    const c = this.credentials;
    return {
      ca: c.certificateAuthority,
      cert: c.clientCertificate,
      key: c.clientKey,
      rejectUnauthorized: !c.skipTlsVerify,
    };
  }

  private get port(): number {
    return Number(this.base.port) || (this.isHttps ? 443 : 80);
  }

  private get hostname(): string {
    return this.base.hostname.replace(/^\[|\]$/g, '');
  }

  /**
   * Opens and closes one fresh connection (with a TLS handshake for https);
   * concurrent callers share the attempt.
   */
  probe(): Promise<void> {
    this.probing ??= new Promise<void>((resolve, reject) => {
      const options = {
        host: this.hostname,
        port: this.port,
        lookup: this.policy.lookup,
      };
      const socket = this.isHttps
        ? tls.connect({
            ...options,
            ...this.tlsOptions(),
            servername: net.isIP(this.hostname) ? undefined : this.hostname,
          })
        : net.connect(options);
      const timer = setTimeout(
        () =>
          socket.destroy(
            new ConnectFailure(
              `no ${this.isHttps ? 'TLS handshake' : 'connection'} within ${
                this.settings.connectMs
              } ms`,
            ),
          ),
        this.settings.connectMs,
      );
      socket.once(this.isHttps ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      });
      socket.once('error', error => {
        clearTimeout(timer);
        reject(describe(error));
      });
    }).finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  /**
   * Sends a request; resolves when the response headers arrived. Refuses
   * with a 503 Status while the breaker is open, and with 503/504 when the
   * cluster cannot be reached in time.
   */
  forward(request: ForwardRequest): Promise<ForwardResult> {
    const admission = this.breaker.admit();
    if (!admission.allowed) {
      const seconds = Math.ceil(admission.retryAfterMs / 1000);
      return Promise.reject(
        new BrokerError(
          503,
          `cluster '${this.target.name}' is unreachable (${
            this.breaker.reason ?? 'connection failures'
          }); the broker retries it in ${seconds} s`,
          { name: this.target.name, retryAfterSeconds: seconds },
          'cluster unreachable',
        ),
      );
    }
    const { trial } = admission;
    const { connectMs, stallProbeMs, responseMs } = this.settings;
    const basePath = this.base.pathname.replace(/\/$/, '');
    const headers: OutgoingHttpHeaders = { ...request.headers };
    if (this.authorization) headers.authorization = this.authorization;
    if (request.body) headers['content-length'] = request.body.length;

    return new Promise<ForwardResult>((resolve, reject) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const clear = () => timers.forEach(clearTimeout);
      const req = (this.isHttps ? https : http).request({
        protocol: this.base.protocol,
        hostname: this.hostname,
        port: this.port,
        method: request.method,
        path: basePath + request.pathAndQuery,
        headers,
        agent: this.agent,
      });

      const fail = (failure: ConnectFailure, status = 503) => {
        if (settled) return;
        settled = true;
        clear();
        req.destroy();
        if (failure.countsForBreaker) {
          this.breaker.failure(failure.message);
        } else {
          this.breaker.release(trial);
        }
        reject(
          new BrokerError(
            status,
            `cluster '${this.target.name}' is unreachable: ${failure.message}`,
            { name: this.target.name },
            status === 504 ? 'cluster timeout' : 'cluster unreachable',
          ),
        );
      };

      const onAbort = () => {
        if (settled) return;
        settled = true;
        clear();
        req.destroy();
        this.breaker.release(trial);
        reject(new BrokerError(499, 'the client went away', undefined));
      };
      if (request.signal?.aborted) {
        onAbort();
        return;
      }
      request.signal?.addEventListener('abort', onAbort, { once: true });

      req.on('socket', socket => {
        if (settled || req.reusedSocket) return;
        const timer = setTimeout(
          () =>
            fail(
              new ConnectFailure(
                `no ${
                  this.isHttps ? 'TLS handshake' : 'connection'
                } within ${connectMs} ms`,
              ),
            ),
          connectMs,
        );
        timers.push(timer);
        socket.once(this.isHttps ? 'secureConnect' : 'connect', () =>
          clearTimeout(timer),
        );
      });
      timers.push(
        setTimeout(() => {
          this.probe().catch(error =>
            fail(
              new ConnectFailure(
                `does not answer (${(error as Error).message})`,
              ),
            ),
          );
        }, stallProbeMs),
        setTimeout(
          () =>
            fail(
              new ConnectFailure(`no response within ${responseMs} ms`),
              504,
            ),
          responseMs,
        ),
      );
      req.on('response', response => {
        if (settled) {
          response.destroy();
          return;
        }
        settled = true;
        clear();
        request.signal?.removeEventListener('abort', onAbort);
        this.breaker.success();
        if (!request.longRunning) {
          // An answer that stops flowing must not hold the socket forever.
          req.setTimeout(responseMs, () =>
            req.destroy(new Error(`response idle for ${responseMs} ms`)),
          );
        }
        resolve({ request: req, response });
      });
      req.on('error', error => fail(describe(error)));
      req.end(request.body);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  /** Closes the idle sockets; those in use (watches) run to their end. */
  retire(): void {
    // Sockets freed from now on are closed instead of pooled.
    (this.agent as { keepAlive?: boolean }).keepAlive = false;
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) socket.destroy();
    }
  }
}

/**
 * The broker's connection pools, one per cluster, replaced when the
 * cluster's registry revision changes (new URL or credentials). Breakers
 * outlive pools as long as the URL stays the same.
 */
export class ClusterConnections {
  private readonly pools = new Map<string, ClusterConnection>();
  /** Pools being created, so concurrent first requests share one. */
  private readonly creating = new Map<string, Promise<ClusterConnection>>();
  private readonly breakers = new Map<string, CircuitBreaker>();

  constructor(
    private readonly policy: ClusterUrlPolicy,
    private readonly config: Pick<BrokerConfig, 'timeouts' | 'circuitBreaker'>,
  ) {}

  async get(
    target: ClusterTarget,
    loadCredentials: () => Promise<ClusterCredentials | undefined>,
  ): Promise<ClusterConnection> {
    const current = this.pools.get(target.name);
    if (
      current &&
      current.target.revision === target.revision &&
      current.target.apiServerUrl === target.apiServerUrl
    ) {
      return current;
    }
    const key = `${target.name} ${target.revision} ${target.apiServerUrl}`;
    let creating = this.creating.get(key);
    if (!creating) {
      creating = this.create(target, loadCredentials).finally(() =>
        this.creating.delete(key),
      );
      this.creating.set(key, creating);
    }
    return creating;
  }

  private async create(
    target: ClusterTarget,
    loadCredentials: () => Promise<ClusterCredentials | undefined>,
  ): Promise<ClusterConnection> {
    const credentials = await loadCredentials();
    if (!credentials) {
      throw new BrokerError(
        503,
        `cluster '${target.name}' has no credentials registered`,
        { name: target.name },
        'cluster has no credentials',
      );
    }
    const breakerKey = `${target.name} ${target.apiServerUrl}`;
    let breaker = this.breakers.get(breakerKey);
    if (!breaker) {
      for (const key of this.breakers.keys()) {
        if (key.startsWith(`${target.name} `)) this.breakers.delete(key);
      }
      breaker = new CircuitBreaker(
        this.config.circuitBreaker.failureThreshold,
        this.config.circuitBreaker.coolDownMs,
      );
      this.breakers.set(breakerKey, breaker);
    }
    const connection = new ClusterConnection(
      target,
      credentials,
      this.policy,
      breaker,
      this.config.timeouts,
    );
    // Sockets of the old pool that carry watches stay open until they end.
    this.pools.get(target.name)?.retire();
    this.pools.set(target.name, connection);
    return connection;
  }

  closeAll(): void {
    for (const pool of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
