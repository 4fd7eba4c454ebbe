import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureBinary } from './build';
import { FakeKubelet } from './FakeKubelet';
import { useTestbed } from './jest';

jest.setTimeout(120_000);

const testbed = useTestbed({ clusters: ['kubelet'] });

describe('FakeKubelet', () => {
  let kubelet: FakeKubelet;
  let binary: string;
  let kubeconfig: string;
  let dir: string;

  beforeAll(async () => {
    const cluster = testbed().cluster('kubelet');
    binary = (await ensureBinary({ log: () => {} })).binary;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmp-fake-kubelet-test-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    await cluster.writeKubeconfig(kubeconfig);
    kubelet = await FakeKubelet.start(cluster, { binary });
    await kubelet.createPod({
      namespace: 'default',
      name: 'web-0',
      containers: ['app', 'sidecar'],
    });
  });

  afterAll(async () => {
    await kubelet?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const kubectl = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        binary,
        ['kubectl', '--kubeconfig', kubeconfig, ...args],
        { timeout: 30_000 },
      );
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof e.code === 'number' ? e.code : -1,
        stdout: e.stdout ?? '',
        stderr: e.stderr ?? '',
      };
    }
  };

  it('registers a Ready node pointing at itself', async () => {
    const node = await kubectl('get', 'node', kubelet.nodeName, '-o', 'json');
    expect(node.code).toBe(0);
    const status = JSON.parse(node.stdout).status;
    expect(status.addresses).toEqual([
      { type: 'InternalIP', address: '127.0.0.1' },
    ]);
    expect(status.daemonEndpoints.kubeletEndpoint.Port).toBe(kubelet.port);
  });

  it('serves logs, previous logs and tails through the API server', async () => {
    const logs = await kubectl('logs', 'web-0', '-c', 'app');
    expect(logs.stdout).toBe(
      [1, 2, 3, 4, 5].map(i => `default/web-0/app line ${i}\n`).join(''),
    );
    const previous = await kubectl('logs', 'web-0', '-c', 'sidecar', '-p');
    expect(previous.stdout).toContain('default/web-0/sidecar previous line 1');
    const tail = await kubectl('logs', 'web-0', '-c', 'app', '--tail=2');
    expect(tail.stdout).toBe(
      'default/web-0/app line 4\ndefault/web-0/app line 5\n',
    );
  });

  it('streams followed logs as lines are appended', async () => {
    const child = spawn(binary, [
      'kubectl',
      '--kubeconfig',
      kubeconfig,
      'logs',
      '-f',
      'web-0',
      '-c',
      'app',
    ]);
    let out = '';
    child.stdout.on('data', d => {
      out += d;
    });
    const until = async (f: () => boolean) => {
      const deadline = Date.now() + 15_000;
      while (!f()) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${out}`);
        await new Promise(r => setTimeout(r, 50));
      }
    };
    await until(() => out.includes('line 5\n'));
    await until(() => kubelet.followerCount('default', 'web-0', 'app') === 1);
    kubelet.appendLog('default', 'web-0', 'app', 'appended while following');
    await until(() => out.includes('appended while following\n'));
    kubelet.endLog('default', 'web-0', 'app');
    const code = await new Promise(r => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('runs exec commands with exit codes and stdin', async () => {
    const echo = await kubectl(
      'exec',
      'web-0',
      '-c',
      'app',
      '--',
      'echo',
      'hi',
      'there',
    );
    expect(echo).toMatchObject({ code: 0, stdout: 'hi there\n' });
    const failed = await kubectl(
      'exec',
      'web-0',
      '-c',
      'app',
      '--',
      'exit',
      '3',
    );
    expect(failed.code).toBe(3);
    const missing = await kubectl('exec', 'web-0', '-c', 'app', '--', 'nope');
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain('nope: command not found');
    const cat = await new Promise<string>((resolve, reject) => {
      const child = execFile(
        binary,
        [
          'kubectl',
          '--kubeconfig',
          kubeconfig,
          'exec',
          '-i',
          'web-0',
          '-c',
          'app',
          '--',
          'cat',
        ],
        { timeout: 30_000 },
        (error, stdout) => (error ? reject(error) : resolve(stdout)),
      );
      child.stdin!.end('from stdin\n');
    });
    expect(cat).toBe('from stdin\n');
    expect(kubelet.execs.map(e => e.exitCode)).toEqual([0, 3, 127, 0]);
  });

  it('forwards ports to an echo', async () => {
    const child = spawn(binary, [
      'kubectl',
      '--kubeconfig',
      kubeconfig,
      'port-forward',
      'pod/web-0',
      ':8080',
    ]);
    let out = '';
    child.stdout.on('data', d => {
      out += d;
    });
    try {
      const deadline = Date.now() + 15_000;
      let port: number | undefined;
      while (!port) {
        port = Number(/127\.0\.0\.1:(\d+) ->/.exec(out)?.[1]) || undefined;
        if (Date.now() > deadline) throw new Error(`no port: ${out}`);
        await new Promise(r => setTimeout(r, 50));
      }
      const payload = Buffer.alloc(200_000, 'x');
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const socket = net.connect(port!, '127.0.0.1');
        const chunks: Buffer[] = [];
        let length = 0;
        socket.on('data', (c: Buffer) => {
          chunks.push(c);
          length += c.length;
          if (length >= payload.length) {
            socket.end();
            resolve(Buffer.concat(chunks));
          }
        });
        socket.on('error', reject);
        socket.write(payload);
      });
      expect(echoed.equals(payload)).toBe(true);
    } finally {
      child.kill();
    }
  });
});
