import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { ClusterUrlPolicy } from './ClusterUrlPolicy';

export interface ClusterEndpoint {
  name: string;
  apiServerUrl: string;
  credentials: ClusterCredentials;
}

export class ClusterRequestError extends Error {
  constructor(message: string, readonly statusCode?: number) {
    super(message);
    this.name = 'ClusterRequestError';
  }
}

/** The API server's serving certificate, as far as KMP keeps it. */
export interface ServingCertificate {
  notAfter: string;
  subject: string;
}

function servingCertificateOf(
  socket: tls.TLSSocket | undefined,
): ServingCertificate | undefined {
  const cert = socket?.getPeerCertificate?.();
  if (!cert || !cert.valid_to) return undefined;
  const notAfter = new Date(cert.valid_to);
  if (Number.isNaN(notAfter.getTime())) return undefined;
  const subject = Object.entries(cert.subject ?? {})
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
  return { notAfter: notAfter.toISOString(), subject: subject.slice(0, 500) };
}

/**
 * Minimal JSON client for a cluster's API server, used by the registry's
 * refresh loop. Every connection goes through the URL policy's lookup (so a
 * name that starts resolving to an internal address is refused), and every
 * request has a hard deadline, so an unresponsive cluster costs at most the
 * timeout and never a hung socket.
 */
export class ClusterClient {
  private constructor(
    private readonly endpoint: ClusterEndpoint,
    private readonly policy: ClusterUrlPolicy,
  ) {}

  static create(endpoint: ClusterEndpoint, policy: ClusterUrlPolicy) {
    return new ClusterClient(endpoint, policy);
  }

  async getJson<T>(path: string, deadline: number): Promise<T> {
    const { status, body } = await this.get(path, deadline);
    if (status < 200 || status >= 300) {
      throw new ClusterRequestError(
        `GET ${path} answered ${status}: ${body.slice(0, 200)}`,
        status,
      );
    }
    try {
      return JSON.parse(body) as T;
    } catch {
      throw new ClusterRequestError(`GET ${path} did not answer JSON`);
    }
  }

  /**
   * One GET; over TLS the answer also names the API server's serving
   * certificate (expiry and subject, never more) from the handshake.
   */
  get(
    path: string,
    deadline: number,
  ): Promise<{
    status: number;
    body: string;
    servingCertificate?: ServingCertificate;
  }> {
    const { apiServerUrl, credentials } = this.endpoint;
    const url = new URL(apiServerUrl.replace(/\/$/, '') + path);
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      return Promise.reject(
        new ClusterRequestError(`timed out before GET ${path}`),
      );
    }
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method: 'GET',
      headers: {
        accept: 'application/json',
        'user-agent': 'kmp-registry',
        ...(credentials.token
          ? { authorization: `Bearer ${credentials.token}` }
          : {}),
      },
      lookup: this.policy.lookup,
      timeout: remaining,
      agent: false,
      ...(isHttps
        ? {
            ca: credentials.certificateAuthority,
            cert: credentials.clientCertificate,
            key: credentials.clientKey,
            rejectUnauthorized: !credentials.skipTlsVerify,
          }
        : {}),
    };
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined = undefined;
      // eslint-disable-next-line prefer-const
      let req: http.ClientRequest;
      timer = setTimeout(() => {
        req.destroy(
          new ClusterRequestError(
            `GET ${path} timed out after ${remaining} ms`,
          ),
        );
      }, remaining);
      req = (isHttps ? https : http).request(url, options, res => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > 32 * 1024 * 1024) {
            req.destroy(
              new ClusterRequestError(`GET ${path} answered more than 32 MiB`),
            );
            return;
          }
          chunks.push(chunk);
        });
        const servingCertificate = isHttps
          ? servingCertificateOf(res.socket as tls.TLSSocket)
          : undefined;
        res.on('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ...(servingCertificate ? { servingCertificate } : {}),
          });
        });
        res.on('error', error => {
          clearTimeout(timer);
          reject(error);
        });
      });
      req.on('timeout', () =>
        req.destroy(
          new ClusterRequestError(
            `GET ${path} timed out after ${remaining} ms`,
          ),
        ),
      );
      req.on('error', error => {
        clearTimeout(timer);
        reject(
          error instanceof ClusterRequestError
            ? error
            : new ClusterRequestError(`GET ${path} failed: ${error.message}`),
        );
      });
      req.end();
    });
  }
}
