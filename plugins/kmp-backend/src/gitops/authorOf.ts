import {
  AuthService,
  BackstageCredentials,
  DiscoveryService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import { GitIdentity } from '@kmp/plugin-kmp-node';

const CATALOG_TIMEOUT_MS = 5_000;

/** `user:default/alice` → its kind, namespace and name. */
function splitRef(ref: string) {
  const match = /^([^:]+):(?:([^/]+)\/)?(.+)$/.exec(ref);
  return match
    ? { kind: match[1], namespace: match[2] ?? 'default', name: match[3] }
    : { kind: 'user', namespace: 'default', name: ref };
}

/**
 * The Git author of a user's publication: their catalog profile (display
 * name and e-mail, read from the catalog on their behalf), or — when the
 * catalog has none or cannot be asked — their entity name with a
 * non-routable e-mail, as the scaffolder's `kmp:gitops:publish` does.
 */
export async function authorOf(
  deps: {
    auth: AuthService;
    discovery: DiscoveryService;
    logger: LoggerService;
  },
  credentials: BackstageCredentials,
  ref: string,
): Promise<GitIdentity> {
  const { kind, namespace, name } = splitRef(ref);
  const fallback = {
    name,
    email: `${name}@users.noreply.backstage.invalid`,
  };
  if (kind.toLocaleLowerCase('en-US') !== 'user') return fallback;
  try {
    const { token } = await deps.auth.getPluginRequestToken({
      onBehalfOf: credentials,
      targetPluginId: 'catalog',
    });
    const base = await deps.discovery.getBaseUrl('catalog');
    const res = await fetch(
      `${base}/entities/by-name/${encodeURIComponent(
        kind,
      )}/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`,
      {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(CATALOG_TIMEOUT_MS),
      },
    );
    if (!res.ok) return fallback;
    const entity = (await res.json()) as {
      spec?: { profile?: { displayName?: unknown; email?: unknown } };
    };
    const profile = entity.spec?.profile;
    return {
      name:
        typeof profile?.displayName === 'string' && profile.displayName
          ? profile.displayName
          : fallback.name,
      email:
        typeof profile?.email === 'string' && profile.email
          ? profile.email
          : fallback.email,
    };
  } catch (error) {
    deps.logger.debug(
      `Catalog profile of ${ref} unavailable for the Git author: ${error}`,
    );
    return fallback;
  }
}
