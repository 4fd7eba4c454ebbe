import { stringify } from 'yaml';
import { readKubeconfigContext } from './kubeconfig';

const b64 = (s: string) => Buffer.from(s).toString('base64');

function kubeconfig(user: object, cluster: object = {}) {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    'current-context': 'prod',
    contexts: [
      { name: 'prod', context: { cluster: 'prod-cluster', user: 'admin' } },
      { name: 'dangling', context: { cluster: 'nope', user: 'admin' } },
    ],
    clusters: [
      {
        name: 'prod-cluster',
        cluster: {
          server: 'https://prod.example.com:6443',
          'certificate-authority-data': b64('CA PEM'),
          ...cluster,
        },
      },
    ],
    users: [{ name: 'admin', user }],
  });
}

describe('readKubeconfigContext', () => {
  it('reads server, CA and inline token of the current context', () => {
    expect(readKubeconfigContext(kubeconfig({ token: 'abc' }))).toEqual({
      server: 'https://prod.example.com:6443',
      credentials: { token: 'abc', certificateAuthority: 'CA PEM' },
    });
  });

  it('reads inline client certificates of a named context', () => {
    const result = readKubeconfigContext(
      kubeconfig({
        'client-certificate-data': b64('CERT'),
        'client-key-data': b64('KEY'),
      }),
      'prod',
    );
    expect(result.credentials).toEqual({
      clientCertificate: 'CERT',
      clientKey: 'KEY',
      certificateAuthority: 'CA PEM',
    });
  });

  it.each([
    [{ exec: { command: 'aws' } }, {}, 'uses exec'],
    [{ 'auth-provider': { name: 'gcp' } }, {}, 'uses auth-provider'],
    [{ 'client-key': '/etc/ssl/private/key.pem' }, {}, 'uses client-key'],
    [{ tokenFile: '/var/run/secrets/token' }, {}, 'uses tokenFile'],
    [
      { token: 'x' },
      { 'certificate-authority': '/etc/ca.pem' },
      'uses certificate-authority (a file path)',
    ],
  ])(
    'refuses %j %j: nothing on the server is read or run',
    (user, cluster, message) => {
      expect(() => readKubeconfigContext(kubeconfig(user, cluster))).toThrow(
        message,
      );
    },
  );

  it('names missing contexts and clusters', () => {
    expect(() =>
      readKubeconfigContext(kubeconfig({ token: 'x' }), 'staging'),
    ).toThrow("no context 'staging'");
    expect(() =>
      readKubeconfigContext(kubeconfig({ token: 'x' }), 'dangling'),
    ).toThrow("names cluster 'nope'");
    expect(() => readKubeconfigContext(': : not yaml [')).toThrow(
      'not valid YAML',
    );
  });

  it('refuses YAML alias bombs', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
      .concat(
        Array.from(
          { length: 12 },
          (_, i) =>
            `${String.fromCharCode(98 + i)}: &${String.fromCharCode(
              98 + i,
            )} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(
              97 + i,
            )},*${String.fromCharCode(97 + i)},*${String.fromCharCode(
              97 + i,
            )}]`,
        ),
      )
      .join('\n');
    expect(() => readKubeconfigContext(bomb)).toThrow(/not valid YAML|alias/i);
  });
});
