import https from 'node:https';
import net from 'node:net';

/** A loopback TCP port that was free a moment ago. */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address() as net.AddressInfo;
      srv.close(() => resolve(addr.port));
    });
  });
}

/** True if something accepts connections on 127.0.0.1:port. */
export function isPortInUse(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(true));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(false)));
  });
}

export interface HttpsRequestOptions {
  ca: string;
  method?: string;
  headers?: Record<string, string>;
  token?: string;
  cert?: string;
  key?: string;
  body?: unknown;
  timeoutMs?: number;
  /** reuse this agent (its ca/cert/key win); default: a one-shot agent */
  agent?: https.Agent;
}

export interface HttpsResponse {
  status: number;
  body: string;
  json<T = any>(): T;
}

/**
 * Minimal HTTPS client with its own agent (no global agent, no global
 * fetch: test environments sometimes replace those).
 */
export function httpsRequest(
  url: string,
  opts: HttpsRequestOptions,
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...opts.headers,
    };
    if (opts.token) {
      headers.Authorization = `Bearer ${opts.token}`;
    }
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload =
        typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
      headers['Content-Type'] ??= 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const ownAgent = !opts.agent;
    const agent =
      opts.agent ??
      new https.Agent({
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        keepAlive: false,
      });
    const release = () => {
      if (ownAgent) agent.destroy();
    };
    const req = https.request(
      url,
      { method: opts.method ?? 'GET', headers, agent },
      res => {
        const chunks: Buffer[] = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          release();
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            body,
            json: () => JSON.parse(body),
          });
        });
        res.on('error', e => {
          release();
          reject(e);
        });
      },
    );
    req.setTimeout(opts.timeoutMs ?? 10_000, () => {
      req.destroy(
        new Error(`timeout after ${opts.timeoutMs ?? 10_000} ms: ${url}`),
      );
    });
    req.on('error', e => {
      release();
      reject(e);
    });
    if (payload !== undefined) {
      req.write(payload);
    }
    req.end();
  });
}
