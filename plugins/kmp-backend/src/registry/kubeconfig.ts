import { InputError } from '@backstage/errors';
import { ClusterCredentials } from '@kmp/plugin-kmp-common';
import { parse } from 'yaml';

type NamedEntry<K extends string, T> = { name: string } & { [key in K]: T };

interface KubeconfigDocument {
  clusters?: NamedEntry<'cluster', Record<string, unknown>>[];
  users?: NamedEntry<'user', Record<string, unknown>>[];
  contexts?: NamedEntry<
    'context',
    { cluster?: string; user?: string; namespace?: string }
  >[];
  'current-context'?: string;
}

const decode = (value: unknown) =>
  typeof value === 'string'
    ? Buffer.from(value, 'base64').toString('utf8')
    : undefined;

/**
 * Extracts server and inline credentials of one context from a kubeconfig.
 * Only inline data is accepted: file references (`certificate-authority`,
 * `client-key`, `tokenFile`), `exec` and `auth-provider` plugins would make
 * the backend read its own files or run programs, so they are refused.
 */
export function readKubeconfigContext(
  kubeconfig: string,
  contextName?: string,
): { server: string; credentials: ClusterCredentials } {
  let doc: KubeconfigDocument;
  try {
    doc = parse(kubeconfig, { maxAliasCount: 10 }) as KubeconfigDocument;
  } catch (error) {
    throw new InputError(
      `kubeconfig is not valid YAML: ${(error as Error).message}`,
    );
  }
  if (!doc || typeof doc !== 'object') {
    throw new InputError('kubeconfig is empty');
  }
  const name = contextName ?? doc['current-context'];
  if (!name) {
    throw new InputError(
      'kubeconfig has no current-context; name the context to import',
    );
  }
  const context = doc.contexts?.find(c => c.name === name)?.context;
  if (!context) {
    throw new InputError(`kubeconfig has no context '${name}'`);
  }
  const cluster = doc.clusters?.find(c => c.name === context.cluster)?.cluster;
  if (!cluster) {
    throw new InputError(
      `context '${name}' names cluster '${context.cluster}', which the kubeconfig does not define`,
    );
  }
  const user = doc.users?.find(u => u.name === context.user)?.user ?? {};
  for (const key of ['certificate-authority']) {
    if (cluster[key]) {
      throw new InputError(
        `kubeconfig cluster '${context.cluster}' uses ${key} (a file path); inline it as ${key}-data`,
      );
    }
  }
  for (const key of [
    'client-certificate',
    'client-key',
    'tokenFile',
    'exec',
    'auth-provider',
    'username',
    'password',
  ]) {
    if (user[key]) {
      throw new InputError(
        `kubeconfig user '${context.user}' uses ${key}, which the registry does not accept; use an inline token or client-certificate-data/client-key-data`,
      );
    }
  }
  if (typeof cluster.server !== 'string') {
    throw new InputError(
      `kubeconfig cluster '${context.cluster}' has no server`,
    );
  }
  const credentials: ClusterCredentials = {
    ...(typeof user.token === 'string' ? { token: user.token } : {}),
    ...(user['client-certificate-data']
      ? { clientCertificate: decode(user['client-certificate-data']) }
      : {}),
    ...(user['client-key-data']
      ? { clientKey: decode(user['client-key-data']) }
      : {}),
    ...(cluster['certificate-authority-data']
      ? { certificateAuthority: decode(cluster['certificate-authority-data']) }
      : {}),
    ...(cluster['insecure-skip-tls-verify'] === true
      ? { skipTlsVerify: true }
      : {}),
  };
  return { server: cluster.server, credentials };
}
