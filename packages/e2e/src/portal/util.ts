import net from 'node:net';
import path from 'node:path';

/** The monorepo root. */
export function repoRoot(): string {
  // Runs from source only (a private test package, never built).
  // eslint-disable-next-line no-restricted-syntax
  return path.resolve(__dirname, '../../../..');
}

export const sleep = (ms: number) =>
  new Promise<void>(resolve => setTimeout(resolve, ms));

/** A TCP port free on loopback right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Polls `check` until it returns a value (not undefined) or the deadline
 * passes; the last error or the description ends up in the timeout message.
 */
export async function waitFor<T>(
  description: string,
  check: () => Promise<T | undefined>,
  options: {
    timeoutMs: number;
    intervalMs?: number;
    abort?: () => string | undefined;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let last: unknown;
  for (;;) {
    const aborted = options.abort?.();
    if (aborted) throw new Error(`${description}: ${aborted}`);
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${options.timeoutMs} ms waiting for ${description}${
          last ? `: ${last}` : ''
        }`,
      );
    }
    await sleep(options.intervalMs ?? 500);
  }
}
