import { ConfigReader } from '@backstage/config';
import https from 'node:https';
import { ClusterUrlPolicy } from './ClusterUrlPolicy';

const fakeDns: Record<string, string[]> = {
  'api.public.example.com': ['93.184.216.34'],
  'metadata.evil.example.com': ['169.254.169.254'],
  'mixed.evil.example.com': ['93.184.216.34', '10.0.0.5'],
  'corp-cluster.corp.example.com': ['10.20.1.5'],
  'v6.evil.example.com': ['::ffff:127.0.0.1'],
};
const resolve = async (hostname: string) => {
  const addresses = fakeDns[hostname];
  if (!addresses) throw new Error('ENOTFOUND');
  return addresses.map(address => ({
    address,
    family: address.includes(':') ? 6 : 4,
  }));
};

function policy(registry: object = {}) {
  return ClusterUrlPolicy.fromConfig(
    new ConfigReader({ kmp: { registry } }),
    resolve,
  );
}

describe('ClusterUrlPolicy.check', () => {
  it('accepts https to a public address and normalises the URL', async () => {
    await expect(
      policy().check('https://api.public.example.com:6443/'),
    ).resolves.toBe('https://api.public.example.com:6443');
  });

  it.each([
    ['http://api.public.example.com', 'must use https'],
    ['ftp://api.public.example.com', 'must use https, not ftp'],
    ['https://user:pw@api.public.example.com', 'must not carry credentials'],
    ['https://api.public.example.com/?x=1', 'must not have a query'],
    ['not a url', 'is not a valid URL'],
    ['https://127.0.0.1:6443', '127.0.0.1 is a loopback address'],
    ['https://localhost:6443', 'does not resolve'],
    ['https://169.254.169.254', 'link-local address'],
    [
      'https://metadata.evil.example.com',
      '169.254.169.254 is a link-local address',
    ],
    ['https://mixed.evil.example.com', '10.0.0.5 is a private-network address'],
    ['https://[::1]:6443', '::1 is a loopback address'],
    ['https://v6.evil.example.com', '127.0.0.1 is a loopback address'],
    ['https://[fd00:ec2::254]', 'unique-local address'],
    ['https://100.100.100.200', 'carrier-grade NAT'],
    ['https://0.0.0.0', 'unspecified address'],
  ])('refuses %s (%s)', async (url, message) => {
    await expect(policy().check(url)).rejects.toThrow(message);
  });

  it('allows allow-listed hostnames and networks', async () => {
    const p = policy({
      allowedClusterHosts: ['127.0.0.1', '*.corp.example.com'],
    });
    await expect(p.check('https://127.0.0.1:6443')).resolves.toBe(
      'https://127.0.0.1:6443',
    );
    await expect(
      p.check('https://corp-cluster.corp.example.com'),
    ).resolves.toBeDefined();
    const cidr = policy({ allowedClusterHosts: ['10.20.0.0/16'] });
    await expect(
      cidr.check('https://corp-cluster.corp.example.com'),
    ).resolves.toBeDefined();
    await expect(cidr.check('https://mixed.evil.example.com')).rejects.toThrow(
      '10.0.0.5',
    );
  });

  it('allows plain http only with both the flag and an allow-listed host', async () => {
    await expect(
      policy({ allowedClusterHosts: ['127.0.0.1'] }).check(
        'http://127.0.0.1:8080',
      ),
    ).rejects.toThrow('must use https');
    await expect(
      policy({ allowInsecureHttp: true }).check(
        'http://api.public.example.com',
      ),
    ).rejects.toThrow('must use https');
    await expect(
      policy({
        allowInsecureHttp: true,
        allowedClusterHosts: ['127.0.0.1'],
      }).check('http://127.0.0.1:8080'),
    ).resolves.toBe('http://127.0.0.1:8080');
  });

  it('rejects malformed allow-list entries naming the key', () => {
    expect(() => policy({ allowedClusterHosts: ['10.0.0.0/99'] })).toThrow(
      'kmp.registry.allowedClusterHosts[0]',
    );
    expect(() => policy({ allowedClusterHosts: ['bad host!'] })).toThrow(
      'kmp.registry.allowedClusterHosts[0]',
    );
  });
});

describe('ClusterUrlPolicy.lookup', () => {
  it('refuses at connection time a name that now resolves to a forbidden address', async () => {
    const p = policy();
    const agent = new https.Agent({ lookup: p.lookup });
    const error = await new Promise<Error>(res => {
      https
        .get('https://metadata.evil.example.com/version', { agent }, () =>
          res(new Error('connected')),
        )
        .on('error', res);
    });
    expect(error.message).toContain('refused by the cluster URL policy');
    expect(error.message).toContain('169.254.169.254 is a link-local address');
  });
});
