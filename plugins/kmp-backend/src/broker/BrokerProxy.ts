import {
  HttpAuthService,
  LoggerService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import {
  AuditTarget,
  dnsLabelSchema,
  Persona,
  RegisteredCluster,
} from '@kmp/plugin-kmp-common';
import { KmpAuditService } from '@kmp/plugin-kmp-node';
import { Request, Response } from 'express';
import {
  ClientRequest,
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
} from 'node:http';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { ClusterRegistry } from '../registry/ClusterRegistry';
import { ClusterStore } from '../registry/ClusterStore';
import { ClusterUrlPolicy } from '../registry/ClusterUrlPolicy';
import { AdmissionPreflight, AdmissionViolation } from './AdmissionPreflight';
import { BrokerAuthorizer, BreakGlassGrant } from './BrokerAuthorizer';
import { decodeManifest, readBody } from './body';
import { ClusterConnection, ClusterConnections } from './ClusterConnections';
import { BrokerConfig } from './config';
import {
  forwardableRequestHeaders,
  forwardableResponseHeaders,
} from './headers';
import {
  auditActor,
  CallerIdentity,
  identify,
  identifyToken,
  impersonationHeaders,
  PersonaResolver,
} from './identity';
import {
  accessOf,
  authorizationVerb,
  checkProxyPath,
  isLongRunning,
  KubeRequestInfo,
  parseRequestInfo,
} from './requestInfo';
import { BrokerError, kubeStatus, sendStatus } from './status';
import { BrokerTokenStore, isBrokerToken } from './TokenStore';
import {
  isUpgradeRequest,
  openUpgrade,
  splice,
  switchingProtocolsHead,
  UPGRADE_SUBRESOURCES,
  webSocketBearer,
} from './upgrade';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);
const PROXY_PATH = /^\/proxy\/clusters\/([^/?]*)(.*)$/;

/** The audit action of every request through the broker. */
export const PROXY_AUDIT_ACTION = 'proxy.request';

/** Response header naming the audit correlation id of a request. */
export const AUDIT_ID_HEADER = 'kmp-audit-id';

/** What one request has established so far, for its audit events. */
interface Exchange {
  correlationId: string;
  started: number;
  req: Request;
  /** The request line and headers the broker acts on (see operate). */
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** A typed operational action this request carries out. */
  operation?: BrokerOperation;
  identity?: CallerIdentity;
  personas: Persona[];
  clusterName?: string;
  cluster?: RegisteredCluster;
  info?: KubeRequestInfo;
  access?: 'read' | 'write';
  longRunning: boolean;
  strippedHeaders: string[];
  breakGlass?: BreakGlassGrant;
  violations?: AdmissionViolation[];
  /** `Warning` headers (RFC 7234 §5.5, as the API server sends them). */
  warnings: string[];
}

type RelayEnd = 'ended' | 'client-closed' | 'upstream-failed';

/**
 * A typed operational action (restart, scale, delete a pod, logs): the one
 * Kubernetes request it stands for, sent through the broker's request path.
 */
export interface BrokerOperation {
  /** Audit name, e.g. `restart`; recorded as `details.operation`. */
  name: string;
  cluster: string;
  method: 'GET' | 'PATCH' | 'DELETE';
  /** Kubernetes API path (already encoded) and query. */
  kubePath: string;
  query?: URLSearchParams;
  contentType?: string;
  body?: unknown;
  /**
   * The JSON answer of a successful non-streaming operation, from the
   * object the cluster returned; default `{ object }`. `auditId` is added.
   */
  result?: (object: unknown) => Record<string, unknown>;
}

/** An answer of the cluster the broker passes on as it is. */
interface ClusterAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Streams an upstream response body to the client with back-pressure and
 * resolves, without ending the client response, when the body is complete,
 * when the client went away (the upstream request is then destroyed), or
 * when the cluster broke off.
 */
function relay(
  upstream: IncomingMessage,
  upstreamRequest: ClientRequest,
  res: Response,
): Promise<RelayEnd> {
  return new Promise(resolve => {
    let done = false;
    const finish = (how: RelayEnd) => {
      if (done) return;
      done = true;
      resolve(how);
    };
    upstream.on('data', (chunk: Buffer) => {
      if (!res.write(chunk)) {
        upstream.pause();
        res.once('drain', () => upstream.resume());
      }
    });
    upstream.once('end', () => finish('ended'));
    upstream.once('error', () => finish('upstream-failed'));
    upstream.once('close', () => {
      if (!upstream.complete) finish('upstream-failed');
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        upstreamRequest.destroy();
        finish('client-closed');
      }
    });
  });
}

/**
 * The Kubernetes-API-compatible reverse proxy at
 * `/api/kmp/proxy/clusters/<cluster>/<kubernetes path>`: authenticates the
 * caller, checks the path, parses what the request does, authorises it
 * (permission framework + environment policy), runs the admission
 * pre-flight on writes, forwards it with the cluster's credential and
 * impersonation of the caller, streams the answer back, and audits it.
 *
 * Audit timing: a refusal is recorded before its Status is sent. Writes and
 * long-running reads (watch, logs) are recorded as `pending` before they are
 * forwarded (no change reaches a cluster without a durable record; a stream
 * is on record while it runs) and again with the outcome when they end.
 * Ordinary reads are recorded once, after the body was relayed and before
 * the response is ended, so the response completes only when its audit
 * event is durable.
 */
export class BrokerProxy {
  private readonly gitopsIdentities: ReadonlySet<string>;
  private readonly clusterCache = new Map<
    string,
    { at: number; cluster: Promise<RegisteredCluster | undefined> }
  >();

  private constructor(
    private readonly httpAuth: HttpAuthService,
    private readonly userInfo: UserInfoService,
    private readonly audit: KmpAuditService,
    private readonly clusters: ClusterStore,
    private readonly registry: ClusterRegistry,
    private readonly connections: ClusterConnections,
    private readonly authorizer: BrokerAuthorizer,
    private readonly personas: PersonaResolver,
    private readonly preflight: AdmissionPreflight,
    private readonly tokens: BrokerTokenStore,
    private readonly config: BrokerConfig,
    private readonly logger: LoggerService,
    private readonly urlPolicy?: ClusterUrlPolicy,
  ) {
    this.gitopsIdentities = new Set(config.gitopsIdentities);
  }

  static create(options: {
    httpAuth: HttpAuthService;
    userInfo: UserInfoService;
    audit: KmpAuditService;
    clusters: ClusterStore;
    registry: ClusterRegistry;
    connections: ClusterConnections;
    authorizer: BrokerAuthorizer;
    personas: PersonaResolver;
    preflight: AdmissionPreflight;
    tokens: BrokerTokenStore;
    config: BrokerConfig;
    logger: LoggerService;
    /** The registry's URL policy, for the connections of upgrades. */
    urlPolicy?: ClusterUrlPolicy;
  }) {
    return new BrokerProxy(
      options.httpAuth,
      options.userInfo,
      options.audit,
      options.clusters,
      options.registry,
      options.connections,
      options.authorizer,
      options.personas,
      options.preflight,
      options.tokens,
      options.config,
      options.logger,
      options.urlPolicy,
    );
  }

  /** Express handler; never rejects. */
  handle = async (req: Request, res: Response): Promise<void> => {
    await this.run(
      {
        req,
        method: req.method,
        url: req.url,
        headers: req.headers,
      },
      res,
    );
  };

  /**
   * Carries out a typed operational action as the Kubernetes request it
   * stands for, through the same path as every proxied request: the
   * caller's credentials (the route's Authorization header), path checks,
   * authorisation, environment policy, pre-flight, impersonation and audit.
   * A successful answer is `{ auditId, ...result }`; refusals are
   * Kubernetes `Status` objects; streams (logs) are relayed as they come.
   * Never rejects.
   */
  operate = async (
    req: Request,
    res: Response,
    operation: BrokerOperation,
  ): Promise<void> => {
    const body =
      operation.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(operation.body));
    const query = operation.query?.toString();
    await this.run(
      {
        req,
        method: operation.method,
        url: `/proxy/clusters/${operation.cluster}${operation.kubePath}${
          query ? `?${query}` : ''
        }`,
        headers: {
          ...(req.headers.authorization
            ? { authorization: req.headers.authorization }
            : {}),
          ...(req.headers['user-agent']
            ? { 'user-agent': req.headers['user-agent'] }
            : {}),
          accept: operation.method === 'GET' ? '*/*' : 'application/json',
          ...(operation.contentType
            ? { 'content-type': operation.contentType }
            : {}),
        },
        operation,
        operationBody: body,
      },
      res,
    );
  };

  private async run(
    request: Pick<
      Exchange,
      'req' | 'method' | 'url' | 'headers' | 'operation'
    > & {
      operationBody?: Buffer;
    },
    res: Response,
  ): Promise<void> {
    const { operationBody, ...fields } = request;
    const x: Exchange = {
      ...fields,
      correlationId: randomUUID(),
      started: performance.now(),
      personas: [],
      longRunning: false,
      strippedHeaders: [],
      warnings: [],
    };
    res.setHeader(AUDIT_ID_HEADER, x.correlationId);
    try {
      await this.serve(x, res, operationBody);
    } catch (error) {
      await this.refuse(x, res, error);
    }
  }

  private async serve(
    x: Exchange,
    res: Response,
    operationBody?: Buffer,
  ): Promise<void> {
    const { req } = x;
    if (!x.url.startsWith('/')) {
      throw new BrokerError(
        400,
        'path refused: absolute URLs are not accepted',
        undefined,
        'path hygiene',
      );
    }
    const match = PROXY_PATH.exec(x.url);
    if (!match) {
      throw new BrokerError(
        404,
        'the broker serves /proxy/clusters/<cluster>/<Kubernetes API path>',
        undefined,
        'not a broker path',
      );
    }
    const name = match[1];
    if (dnsLabelSchema.safeParse(name).success) x.clusterName = name;

    x.identity = await this.authenticate(req, name);

    const { path, query } = checkProxyPath(match[2] || '/');
    if (!METHODS.has(x.method)) {
      throw new BrokerError(
        405,
        `method ${x.method} is not part of the Kubernetes API`,
        undefined,
        'method not allowed',
      );
    }
    const info = parseRequestInfo(x.method, path, new URLSearchParams(query));
    x.info = info;
    x.access = accessOf(info);
    x.longRunning = isLongRunning(info);

    const cluster = x.clusterName
      ? await this.lookupCluster(x.clusterName)
      : undefined;
    if (!cluster || cluster.lifecycleState === 'decommissioned') {
      throw new BrokerError(
        404,
        `cluster '${name.slice(0, 63)}' is not registered`,
        { name: name.slice(0, 63), kind: 'clusters' },
        'cluster not registered',
      );
    }
    x.cluster = cluster;
    x.personas = this.personas.personasOf(x.identity, cluster.environmentGroup);

    // Read at most once: the authoriser reads a workload patch's body to
    // tell a restart or a scale from other changes.
    let bodyRead: Promise<Buffer | undefined> | undefined;
    const bodyOf = () =>
      (bodyRead ??= x.operation
        ? Promise.resolve(operationBody)
        : readBody(req, this.config.maxRequestBodyBytes));
    const { breakGlass } = await this.authorizer.authorize(
      x.identity,
      cluster,
      info,
      x.access,
      { body: bodyOf },
    );
    x.breakGlass = breakGlass;

    const upgrade = !x.operation && isUpgradeRequest(req.headers);
    if (
      upgrade &&
      !(info.subresource && UPGRADE_SUBRESOURCES.has(info.subresource))
    ) {
      throw new BrokerError(
        400,
        'only exec, attach and port-forward streams are upgraded to WebSocket or SPDY',
        undefined,
        'upgrade refused',
      );
    }
    if (cluster.connectivity !== 'direct' || !cluster.apiServerUrl) {
      throw new BrokerError(
        503,
        `cluster '${cluster.name}' is reached through its ${cluster.connectivity} agent, which the broker does not support yet`,
        { name: cluster.name },
        'agent connectivity not supported',
      );
    }

    if (upgrade) {
      await this.serveUpgrade(x, res, cluster, path, query);
      return;
    }

    const body = await bodyOf();
    const { headers, stripped } = forwardableRequestHeaders(x.headers);
    x.strippedHeaders = x.operation ? [] : stripped;
    Object.assign(headers, impersonationHeaders(x.identity, x.personas), {
      'audit-id': x.correlationId,
    });

    const connection = await this.connections.get(
      {
        name: cluster.name,
        revision: cluster.revision,
        apiServerUrl: cluster.apiServerUrl,
      },
      () => this.registry.credentialsOf(cluster.name),
    );

    const abort = new AbortController();
    const onClose = () => {
      if (!res.writableFinished) abort.abort();
    };
    res.once('close', onClose);

    const refusedByCluster = await this.preflightWrite(
      x,
      connection,
      { method: x.method, path, query, headers, body },
      abort.signal,
    );
    if (refusedByCluster) {
      res.off('close', onClose);
      await this.record(
        x,
        { result: 'allow' },
        'failure',
        refusedByCluster.status,
        { dryRun: true },
      );
      res.writeHead(
        refusedByCluster.status,
        forwardableResponseHeaders(refusedByCluster.headers),
      );
      res.end(refusedByCluster.body);
      return;
    }

    if (x.access === 'write' || x.longRunning) {
      await this.record(x, { result: 'allow' }, 'pending');
    }

    const { request: upstreamRequest, response: upstream } =
      await connection.forward({
        method: x.method,
        pathAndQuery: query ? `${path}?${query}` : path,
        headers,
        body,
        longRunning: x.longRunning,
        signal: abort.signal,
      });
    res.off('close', onClose);

    if (upstream.statusCode === 401) {
      upstream.resume();
      throw new BrokerError(
        502,
        `cluster '${cluster.name}' rejected the broker's credential; its registration needs new credentials`,
        { name: cluster.name },
        'cluster credential rejected',
      );
    }

    const status = upstream.statusCode ?? 502;
    const responseHeaders = forwardableResponseHeaders(upstream.headers);
    if (x.warnings.length > 0) {
      const theirs = responseHeaders.warning;
      responseHeaders.warning = [
        ...x.warnings,
        ...(theirs === undefined
          ? []
          : ([] as string[]).concat(String(theirs))),
      ];
    }
    if (x.operation && !x.longRunning && status >= 200 && status < 300) {
      await this.answerOperation(x, x.operation, res, upstream, status, {
        ...(responseHeaders.warning
          ? { warning: responseHeaders.warning }
          : {}),
      });
      return;
    }
    res.writeHead(status, responseHeaders);
    if (x.longRunning) res.flushHeaders();
    const end = await relay(upstream, upstreamRequest, res);
    const ok = end === 'ended' || (end === 'client-closed' && x.longRunning);
    if (
      ok &&
      status < 300 &&
      x.access === 'write' &&
      x.info?.resource === 'namespaces'
    ) {
      this.registry.namespacesChanged(cluster.name);
    }
    await this.record(
      x,
      { result: 'allow' },
      ok && status < 400 ? 'success' : 'failure',
      status,
      end === 'ended' ? undefined : { ended: end },
    ).catch(error =>
      this.logger.error(
        `Broker: could not record the audit event of ${x.correlationId}: ${error}`,
      ),
    );
    if (end === 'ended') {
      res.end();
    } else {
      res.destroy();
    }
  }

  /** The JSON answer of a typed operational action the cluster accepted. */
  private async answerOperation(
    x: Exchange,
    operation: BrokerOperation,
    res: Response,
    upstream: IncomingMessage,
    status: number,
    headers: Record<string, string | string[]>,
  ): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of upstream) chunks.push(chunk as Buffer);
    let object: unknown;
    try {
      object = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      object = undefined;
    }
    await this.record(x, { result: 'allow' }, 'success', status);
    const body = JSON.stringify({
      auditId: x.correlationId,
      ...(operation.result ? operation.result(object) : { object }),
    });
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
    });
    res.end(body);
  }

  /**
   * Exec, attach and port-forward: the upgrade request goes to the cluster
   * (with the cluster credential and impersonation, the caller's identity
   * headers and bearer protocol entry stripped) on a connection of its own;
   * a `101` is passed back and both sockets are spliced until either side
   * closes. Recorded `pending` before forwarding and with the outcome (bytes
   * each way, how it ended) at the end. A refusal by the cluster is passed
   * on as an ordinary answer.
   */
  private async serveUpgrade(
    x: Exchange,
    res: Response,
    cluster: RegisteredCluster,
    path: string,
    query: string,
  ): Promise<void> {
    const { req } = x;
    if (!this.urlPolicy || !cluster.apiServerUrl) {
      throw new BrokerError(
        501,
        'exec, attach and port-forward streams are not enabled in this broker',
        undefined,
        'upgrade not supported',
      );
    }
    const { headers, stripped } = forwardableRequestHeaders(req.headers);
    // The upgrade itself is hop-by-hop, but it is what is being forwarded.
    headers.connection = 'Upgrade';
    headers.upgrade = req.headers.upgrade;
    const protocols = webSocketBearer(req.headers);
    delete headers['sec-websocket-protocol'];
    if (protocols.protocols) {
      headers['sec-websocket-protocol'] = protocols.protocols;
    }
    x.strippedHeaders = protocols.hadBearer
      ? [
          ...stripped,
          'sec-websocket-protocol (base64url.bearer.authorization.k8s.io entry)',
        ]
      : stripped;
    Object.assign(headers, impersonationHeaders(x.identity!, x.personas), {
      'audit-id': x.correlationId,
    });

    const target = {
      name: cluster.name,
      revision: cluster.revision,
      apiServerUrl: cluster.apiServerUrl,
    };
    const connection = await this.connections.get(target, () =>
      this.registry.credentialsOf(cluster.name),
    );
    const credentials = await this.registry.credentialsOf(cluster.name);
    if (!credentials) {
      throw new BrokerError(
        503,
        `cluster '${cluster.name}' has no credentials registered`,
        { name: cluster.name },
        'cluster has no credentials',
      );
    }

    await this.record(x, { result: 'allow' }, 'pending');

    const abort = new AbortController();
    const onClose = () => abort.abort();
    req.socket.once('close', onClose);
    const answer = await openUpgrade({
      target,
      credentials,
      lookup: this.urlPolicy.lookup,
      breaker: connection.breaker,
      timeouts: this.config.timeouts,
      method: req.method,
      pathAndQuery: query ? `${path}?${query}` : path,
      headers,
      signal: abort.signal,
    }).finally(() => req.socket.off('close', onClose));

    if (!answer.upgraded) {
      const { response } = answer;
      if (response.statusCode === 401) {
        response.resume();
        throw new BrokerError(
          502,
          `cluster '${cluster.name}' rejected the broker's credential; its registration needs new credentials`,
          { name: cluster.name },
          'cluster credential rejected',
        );
      }
      const status = response.statusCode ?? 502;
      res.writeHead(status, forwardableResponseHeaders(response.headers));
      const chunks: Buffer[] = [];
      for await (const chunk of response) chunks.push(chunk as Buffer);
      await this.record(
        x,
        { result: 'allow' },
        status < 400 ? 'success' : 'failure',
        status,
      ).catch(error =>
        this.logger.error(
          `Broker: could not record the audit event of ${x.correlationId}: ${error}`,
        ),
      );
      res.end(Buffer.concat(chunks));
      return;
    }

    // From here on the client's socket carries the stream, not HTTP.
    const client = req.socket;
    client.setTimeout(0);
    client.setNoDelay(true);
    (answer.socket as Partial<net.Socket>).setNoDelay?.(true);
    client.write(
      switchingProtocolsHead(answer.response, {
        [AUDIT_ID_HEADER]: x.correlationId,
      }),
    );
    if (answer.head.length > 0) client.write(answer.head);
    const stream = await splice(client, answer.socket);
    await this.record(x, { result: 'allow' }, 'success', 101, {
      ended: stream.ended,
      bytesIn: stream.bytesIn,
      bytesOut: stream.bytesOut,
    }).catch(error =>
      this.logger.error(
        `Broker: could not record the audit event of ${x.correlationId}: ${error}`,
      ),
    );
  }

  /** The registry record, reused for `clusterCacheMs`. */
  private lookupCluster(name: string): Promise<RegisteredCluster | undefined> {
    const ttl = this.config.clusterCacheMs;
    if (ttl === 0) return this.clusters.get(name);
    const now = Date.now();
    const cached = this.clusterCache.get(name);
    if (cached && now - cached.at < ttl) return cached.cluster;
    if (this.clusterCache.size > 10_000) this.clusterCache.clear();
    const cluster = this.clusters.get(name);
    this.clusterCache.set(name, { at: now, cluster });
    cluster.catch(() => this.clusterCache.delete(name));
    return cluster;
  }

  /**
   * A KMP-issued kubeconfig token (bound to one cluster), or Backstage user
   * or service credentials.
   */
  private async authenticate(
    req: Request,
    cluster: string,
  ): Promise<CallerIdentity> {
    const unauthorized = (why: string) =>
      new BrokerError(
        401,
        `Unauthorized: ${why}`,
        undefined,
        'not authenticated',
      );
    let bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    // A browser's WebSocket cannot carry an Authorization header: the
    // token may come as a Sec-WebSocket-Protocol entry instead.
    const fromProtocol =
      !req.headers.authorization && isUpgradeRequest(req.headers)
        ? webSocketBearer(req.headers).token
        : undefined;
    bearer ??= fromProtocol;
    if (bearer && isBrokerToken(bearer)) {
      const token = await this.tokens.lookup(bearer);
      if (!token) throw unauthorized('unknown token');
      if (token.state !== 'active') throw unauthorized(`token ${token.state}`);
      if (token.cluster !== cluster) {
        throw unauthorized(`token was issued for cluster ${token.cluster}`);
      }
      return identifyToken(token, this.gitopsIdentities);
    }
    let credentials;
    try {
      if (fromProtocol) req.headers.authorization = `Bearer ${fromProtocol}`;
      credentials = await this.httpAuth.credentials(req, {
        allow: ['user', 'service'],
      });
    } catch (error) {
      throw unauthorized((error as Error).message);
    } finally {
      if (fromProtocol) delete req.headers.authorization;
    }
    return identify(credentials, this.userInfo, this.gitopsIdentities);
  }

  /**
   * The admission pre-flight of creates, updates and patches (and of the
   * ephemeral containers of a pod). The object checked is the API server's
   * dry run of the same request: what the cluster would store, after
   * defaulting, mutating admission and the patch, with its kind and
   * namespace filled in (a body may omit them). When the dry run fails, its
   * answer is what the caller gets; the request is not forwarded.
   */
  private async preflightWrite(
    x: Exchange,
    connection: ClusterConnection,
    request: {
      method: string;
      path: string;
      query: string;
      headers: OutgoingHttpHeaders;
      body?: Buffer;
    },
    signal: AbortSignal,
  ): Promise<ClusterAnswer | undefined> {
    const { info, cluster } = x;
    if (
      !info?.isResourceRequest ||
      !cluster ||
      !request.body ||
      !['create', 'update', 'patch'].includes(info.verb) ||
      (info.subresource && info.subresource !== 'ephemeralcontainers') ||
      x.access !== 'write'
    ) {
      return undefined;
    }
    const contentEncoding = String(x.headers['content-encoding'] ?? 'identity');
    if (contentEncoding !== 'identity') {
      throw new BrokerError(
        415,
        `the broker checks writes before forwarding them and cannot read a ${contentEncoding}-encoded body`,
        undefined,
        'unsupported media type',
      );
    }
    // Refuses malformed JSON/YAML and bombs before the cluster sees them;
    // the object checked comes from the dry run, so any encoding the API
    // server reads (protobuf from kubectl) works.
    decodeManifest(request.body, x.headers['content-type']);

    const dryRun = await this.dryRun(connection, request, signal);
    if (!('object' in dryRun)) return dryRun;
    const manifest = dryRun.object;

    const found = await this.preflight.check(
      cluster,
      manifest,
      info.verb as 'create' | 'update' | 'patch',
    );
    if (found.length > 0) x.violations = found;
    for (const v of found) {
      if (v.enforcement === 'Warn') {
        x.warnings.push(
          `299 - ${JSON.stringify(`${v.rule}: ${v.message}`.slice(0, 500))}`,
        );
      }
    }
    const violations = found.filter(v => (v.enforcement ?? 'Deny') === 'Deny');
    if (violations.length > 0) {
      const kind =
        typeof (manifest as { kind?: unknown })?.kind === 'string'
          ? (manifest as { kind: string }).kind
          : info.resource;
      throw new BrokerError(
        422,
        `${kind}${
          info.name ? ` "${info.name}"` : ''
        } is refused by the KMP admission pre-flight: ${violations
          .map(v => `${v.rule}: ${v.message}`)
          .join('; ')}`,
        {
          name: info.name,
          group: info.apiGroup,
          kind,
          causes: violations.map(v => ({
            reason: 'FieldValueForbidden',
            message: `${v.rule}: ${v.message}`,
            ...(v.field ? { field: v.field } : {}),
          })),
        },
        `admission pre-flight: ${violations.map(v => v.rule).join(', ')}`,
      );
    }
    return undefined;
  }

  /** The same request as a server-side dry run. */
  private async dryRun(
    connection: ClusterConnection,
    request: {
      method: string;
      path: string;
      query: string;
      headers: OutgoingHttpHeaders;
      body?: Buffer;
    },
    signal: AbortSignal,
  ): Promise<{ object: unknown } | ClusterAnswer> {
    const params = new URLSearchParams(request.query);
    params.set('dryRun', 'All');
    const { response } = await connection.forward({
      method: request.method,
      pathAndQuery: `${request.path}?${params}`,
      headers: { ...request.headers, accept: 'application/json' },
      body: request.body,
      longRunning: false,
      signal,
    });
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const status = response.statusCode ?? 502;
    if (status >= 200 && status < 300) {
      try {
        return { object: JSON.parse(body.toString('utf8')) };
      } catch {
        // fall through: answered, but not with an object
      }
    }
    return {
      status: status < 300 ? 502 : status,
      headers: response.headers,
      body,
    };
  }

  /** Answers a refusal or failure with a Status, after auditing it. */
  private async refuse(x: Exchange, res: Response, error: unknown) {
    const brokerError =
      error instanceof BrokerError
        ? error
        : new BrokerError(500, 'internal error in the KMP broker');
    if (!(error instanceof BrokerError)) {
      this.logger.error(
        `Broker: request ${x.correlationId} failed: ${error}`,
        error as Error,
      );
    }
    const code = brokerError.code;
    // Refusals are KMP's decision; unavailability is not.
    const refused = (code < 500 && code !== 499) || code === 501;
    try {
      await this.record(
        x,
        refused
          ? {
              result: 'deny',
              reason: brokerError.rule ?? brokerError.message,
            }
          : { result: 'allow' },
        'failure',
        code === 499 ? undefined : code,
        refused ? undefined : { error: brokerError.message },
      );
    } catch (auditError) {
      this.logger.error(
        `Broker: could not record the audit event of ${x.correlationId}: ${auditError}`,
      );
      if (!res.headersSent) {
        sendStatus(
          res,
          kubeStatus(
            503,
            'the KMP audit trail is unavailable; request refused',
          ),
        );
        return;
      }
    }
    if (code === 499) {
      res.destroy();
      return;
    }
    if (code === 413 && !res.headersSent) {
      // The rest of the body is not read; the connection cannot be reused.
      res.setHeader('Connection', 'close');
    }
    sendStatus(res, brokerError.toStatus());
  }

  private async record(
    x: Exchange,
    decision: { result: 'allow' | 'deny'; reason?: string },
    outcome: 'success' | 'failure' | 'pending',
    status?: number,
    extra?: Record<string, unknown>,
  ) {
    const { req, info, cluster } = x;
    const target: AuditTarget = {};
    const clusterName = cluster?.name ?? x.clusterName;
    if (clusterName) target.cluster = clusterName;
    if (cluster) target.environmentGroup = cluster.environmentGroup;
    if (info?.namespace) target.namespace = info.namespace.slice(0, 253);
    if (info?.isResourceRequest && info.resource) {
      target.resource = {
        group: info.apiGroup.slice(0, 253),
        version: info.apiVersion?.slice(0, 63),
        resource: info.resource.slice(0, 253),
        ...(info.subresource
          ? { subresource: info.subresource.slice(0, 63) }
          : {}),
        ...(info.name ? { name: info.name.slice(0, 253) } : {}),
      };
    }
    const rawPath = x.url.replace(PROXY_PATH, '$2') || '/';
    const details: Record<string, unknown> = {
      ...(x.access ? { access: x.access } : {}),
      ...(x.longRunning ? { longRunning: true } : {}),
      ...(x.strippedHeaders.length > 0
        ? { strippedHeaders: x.strippedHeaders }
        : {}),
      ...(x.breakGlass ? { breakGlassGrant: x.breakGlass.id } : {}),
      ...(x.identity?.token ? { kubeconfigToken: x.identity.token.id } : {}),
      ...(x.violations ? { violations: x.violations } : {}),
      ...(x.personas.length > 1 ? { personas: x.personas } : {}),
      ...(x.operation ? { operation: x.operation.name } : {}),
      ...extra,
    };
    await this.audit.record({
      correlationId: x.correlationId,
      action: PROXY_AUDIT_ACTION,
      source: 'kmp',
      actor: auditActor(
        x.identity,
        x.personas,
        { ip: req.ip, userAgent: req.headers['user-agent'] },
        !!x.breakGlass,
      ),
      target,
      decision: {
        result: decision.result,
        ...(decision.reason ? { reason: decision.reason.slice(0, 1000) } : {}),
      },
      outcome,
      request: {
        method: x.method.slice(0, 16),
        path: rawPath.slice(0, 2048),
        ...(info ? { verb: authorizationVerb(info).slice(0, 32) } : {}),
      },
      ...(outcome === 'pending'
        ? {}
        : {
            response: {
              ...(status ? { status } : {}),
              durationMs:
                Math.round((performance.now() - x.started) * 100) / 100,
            },
          }),
      ...(Object.keys(details).length > 0 ? { details } : {}),
    });
  }
}
