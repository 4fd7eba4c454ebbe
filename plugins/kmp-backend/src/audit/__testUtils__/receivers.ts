import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';

/** What a receiver saw: seqs in arrival order, and the raw requests. */
export interface Receiver {
  port: number;
  seqs: number[];
  /** Stops listening and drops every open connection, like a crash. */
  kill(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: net.Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

function closeServer(server: net.Server) {
  return new Promise<void>(resolve => server.close(() => resolve()));
}

export interface HttpReceiverOptions {
  /** Decides the status of each request; 200 by default. */
  status?: (request: number) => number;
  /** Called with every request after its body arrived. */
  onRequest?: (request: {
    headers: http.IncomingHttpHeaders;
    url: string;
    body: string;
  }) => void;
  /** Extracts the seqs from a body; generic JSON array by default. */
  parse?: (body: string) => number[];
}

export async function startHttpReceiver(
  options: HttpReceiverOptions = {},
): Promise<Receiver & { requests: number }> {
  const seqs: number[] = [];
  const sockets = new Set<net.Socket>();
  let requests = 0;
  const parse =
    options.parse ??
    ((body: string) =>
      (JSON.parse(body) as Array<{ seq: number }>).map(e => e.seq));
  const create = () => {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', c => chunks.push(c));
      req.on('end', () => {
        requests += 1;
        const body = Buffer.concat(chunks).toString('utf8');
        options.onRequest?.({ headers: req.headers, url: req.url ?? '', body });
        const status = options.status?.(requests) ?? 200;
        if (status >= 200 && status < 300) seqs.push(...parse(body));
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ text: 'Success', code: 0 }));
      });
    });
    server.on('connection', socket => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    return server;
  };
  let server = create();
  const port = await listen(server);
  const receiver = {
    port,
    seqs,
    get requests() {
      return requests;
    },
    async kill() {
      const closing = closeServer(server);
      for (const socket of sockets) socket.destroy();
      await closing;
    },
    async restart() {
      server = create();
      await listen(server, port);
    },
    async close() {
      await receiver.kill();
    },
  };
  return receiver;
}

/**
 * A syslog receiver with RFC 6587 octet-counting framing, over TCP or TLS.
 * It closes a connection when the sender has closed its side, as rsyslog
 * does, and reads the seq from each CEF record's `cn1` extension.
 */
export async function startSyslogReceiver(options: {
  tls?: { key: string; cert: string };
  onMessage?: (message: string) => void;
}): Promise<Receiver & { messages: string[] }> {
  const seqs: number[] = [];
  const messages: string[] = [];
  const sockets = new Set<net.Socket>();
  const handle = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space < 0) break;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (!Number.isInteger(length)) {
          socket.destroy();
          return;
        }
        if (buffer.length < space + 1 + length) break;
        const message = buffer
          .subarray(space + 1, space + 1 + length)
          .toString('utf8');
        buffer = buffer.subarray(space + 1 + length);
        messages.push(message);
        options.onMessage?.(message);
        const seq = /(?:^|\s)cn1=(\d+)/.exec(message);
        if (seq) seqs.push(Number(seq[1]));
      }
    });
    socket.on('end', () => socket.end());
  };
  const create = () =>
    options.tls
      ? tls.createServer(
          { key: options.tls.key, cert: options.tls.cert },
          handle,
        )
      : net.createServer(handle);
  let server: net.Server = create();
  const port = await listen(server);
  const receiver = {
    port,
    seqs,
    messages,
    async kill() {
      const closing = closeServer(server);
      for (const socket of sockets) socket.destroy();
      await closing;
    },
    async restart() {
      server = create();
      await listen(server, port);
    },
    async close() {
      await receiver.kill();
    },
  };
  return receiver;
}

/** A throw-away self-signed certificate for 127.0.0.1, made with openssl. */
export function selfSignedCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kmp-audit-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(dir, 'key.pem'),
        '-out',
        path.join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=kmp-audit-test',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(path.join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(path.join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Checks what an at-least-once, in-order stream promises: the receiver
 * never saw a seq before all the ones below it, and with repeats removed it
 * saw exactly 1..total in order.
 */
export function expectInOrderAtLeastOnce(seqs: number[], total: number) {
  let highest = 0;
  const firstSeen: number[] = [];
  for (const seq of seqs) {
    if (seq > highest + 1) {
      throw new Error(`seq ${seq} arrived before ${highest + 1}`);
    }
    if (seq === highest + 1) {
      highest = seq;
      firstSeen.push(seq);
    }
  }
  expect(firstSeen.length).toBe(total);
  expect(firstSeen[firstSeen.length - 1]).toBe(total);
}
