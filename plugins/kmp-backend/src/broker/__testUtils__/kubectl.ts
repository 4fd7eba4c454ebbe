import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net, { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * TLS in front of the test backend, as a load balancer would terminate it
 * (kubectl sends a bearer token only over https), with a CA of its own
 * made by the testbed binary. `caBase64` is what
 * `kmp.catalog.brokerCertificateAuthority` takes.
 */
export async function startTlsFront(
  testbedBinary: string,
  dir: string,
  backendPort: () => number,
): Promise<{ server: tls.Server; port: number; caBase64: string }> {
  const { stdout } = await promisify(execFile)(testbedBinary, [
    'certs',
    '--dir',
    path.join(dir, 'pki'),
    '--name',
    'kmp-broker',
  ]);
  const pki = JSON.parse(stdout);
  const server = tls.createServer(
    {
      cert: fs.readFileSync(pki.servingCert),
      key: fs.readFileSync(pki.servingKey),
    },
    socket => {
      const upstream = net.connect(backendPort(), '127.0.0.1');
      socket.pipe(upstream).pipe(socket);
      socket.on('error', () => upstream.destroy());
      upstream.on('error', () => socket.destroy());
    },
  );
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    caBase64: fs.readFileSync(pki.caCert).toString('base64'),
  };
}

/** Runs the testbed's kubectl with a kubeconfig file. */
export function kubectlRunner(testbedBinary: string) {
  return async (
    kubeconfig: string,
    args: string[],
    stdin?: string,
  ): Promise<KubectlResult> =>
    new Promise(resolve => {
      const child = execFile(
        testbedBinary,
        ['kubectl', '--kubeconfig', kubeconfig, ...args],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = (error as { code?: unknown } | null)?.code;
          let exitCode = 0;
          if (error) exitCode = typeof code === 'number' ? code : -1;
          resolve({ code: exitCode, stdout, stderr });
        },
      );
      if (stdin !== undefined) child.stdin?.end(stdin);
      else child.stdin?.end();
    });
}

/** A long-running kubectl (logs -f, port-forward) and its output so far. */
export function spawnKubectl(
  testbedBinary: string,
  kubeconfig: string,
  args: string[],
) {
  const child = spawn(testbedBinary, [
    'kubectl',
    '--kubeconfig',
    kubeconfig,
    ...args,
  ]);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', d => {
    out.stdout += d;
  });
  child.stderr.on('data', d => {
    out.stderr += d;
  });
  const exited = new Promise<number | null>(resolve =>
    child.once('exit', code => resolve(code)),
  );
  return { child, out, exited };
}

/** Polls until the condition holds (or fails after timeoutMs). */
export async function until(
  condition: () => boolean,
  describe: () => string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise(r => setTimeout(r, 50));
  }
}
