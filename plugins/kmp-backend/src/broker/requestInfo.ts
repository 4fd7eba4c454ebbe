import { BrokerError } from './status';

/**
 * What a Kubernetes API request is about, parsed from its method, path and
 * query the way the API server's `RequestInfoFactory` does it
 * (k8s.io/apiserver/pkg/endpoints/request/requestinfo.go).
 */
export interface KubeRequestInfo {
  /** True for `/api/v1/...` and `/apis/<group>/<version>/...` resources. */
  isResourceRequest: boolean;
  /** The path as the caller sent it (percent-encoded, no query). */
  path: string;
  /**
   * get, list, watch, create, update, patch, delete, deletecollection (and
   * the legacy path verbs watch and proxy) for resource requests; the
   * lower-cased HTTP method for non-resource requests.
   */
  verb: string;
  apiGroup: string;
  apiVersion?: string;
  namespace?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

/** Non-resource and resource paths the broker forwards. */
const ALLOWED_ROOTS = new Set([
  'api',
  'apis',
  'version',
  'openapi',
  'healthz',
  'readyz',
  'livez',
]);

const MAX_PATH_LENGTH = 4096;

/**
 * Checks the part of a proxied URL after `/proxy/clusters/<cluster>` and
 * splits it into path and query. Refuses (400) anything that could make the
 * forwarded request mean something other than what was authorised: dot
 * segments, empty segments, backslashes, encoded slashes, dots, percent
 * signs or control characters, absolute or protocol-relative URLs, and
 * paths outside the Kubernetes API.
 */
export function checkProxyPath(rawUrl: string): {
  path: string;
  query: string;
} {
  const q = rawUrl.indexOf('?');
  const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
  const query = q === -1 ? '' : rawUrl.slice(q + 1);
  const refuse = (why: string) => {
    throw new BrokerError(
      400,
      `path refused: ${why}`,
      undefined,
      'path hygiene',
    );
  };
  if (path.length > MAX_PATH_LENGTH) {
    refuse(`longer than ${MAX_PATH_LENGTH} characters`);
  }
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('://')) {
    refuse('absolute URLs are not accepted');
  }
  if (path.includes('\\')) refuse('backslashes are not accepted');
  if ([...path].some(c => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) >= 0x7f)) {
    refuse('control characters, spaces and non-ASCII are not accepted');
  }
  for (const match of path.matchAll(/%(.{0,2})/g)) {
    if (!/^[0-9a-fA-F]{2}$/.test(match[1])) {
      refuse('malformed percent-encoding');
    }
    const code = parseInt(match[1], 16);
    if (
      code < 0x21 ||
      code >= 0x7f ||
      ['/', '\\', '.', '%', '?', '#'].includes(String.fromCharCode(code))
    ) {
      refuse(`encoded '${match[0]}' is not accepted`);
    }
  }
  const segments = path.slice(1).split('/');
  segments.forEach((segment, i) => {
    if (segment === '.' || segment === '..') refuse('dot segments');
    if (segment === '' && i !== segments.length - 1) refuse('empty segments');
  });
  if (!ALLOWED_ROOTS.has(segments[0])) {
    refuse(
      `only /api, /apis, /version, /openapi, /healthz, /readyz and /livez are forwarded`,
    );
  }
  return { path, query };
}

const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const FALSE_VALUES = new Set(['false', '0', 'f', 'F', 'FALSE', 'False']);

function methodVerb(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !/[/%]/.test(name);
}

/**
 * Parses a request the way the API server does. The path must have passed
 * {@link checkProxyPath}; segments are percent-decoded here.
 */
export function parseRequestInfo(
  method: string,
  path: string,
  query: URLSearchParams,
): KubeRequestInfo {
  const nonResource: KubeRequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiGroup: '',
  };
  let parts = path
    .split('/')
    .filter(p => p !== '')
    .map(p => decodeURIComponent(p));
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) {
    return nonResource;
  }
  const prefix = parts[0];
  parts = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    if (parts.length < 3) return nonResource;
    apiGroup = parts[0];
    parts = parts.slice(1);
  }
  const info: KubeRequestInfo = {
    isResourceRequest: true,
    path,
    verb: '',
    apiGroup,
    apiVersion: parts[0],
  };
  parts = parts.slice(1);

  if (SPECIAL_VERBS.has(parts[0])) {
    if (parts.length < 2) {
      throw new BrokerError(
        400,
        `unable to determine kind and namespace from ${path}`,
        undefined,
        'path hygiene',
      );
    }
    info.verb = parts[0];
    parts = parts.slice(1);
  } else {
    info.verb = methodVerb(method);
  }

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1];
      if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) {
        parts = parts.slice(2);
      }
    }
  }

  if (parts.length >= 3 && info.verb !== 'proxy') {
    info.subresource = parts[2];
  }
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];

  if (!info.name && info.verb === 'get') {
    const watch = query.get('watch');
    info.verb = watch !== null && !FALSE_VALUES.has(watch) ? 'watch' : 'list';
    const selector = query.get('fieldSelector');
    const byName = selector
      ?.split(',')
      .map(term => /^metadata\.name==?([^=!,]+)$/.exec(term.trim()))
      .find(Boolean);
    if (byName && isValidPathSegmentName(byName[1])) {
      info.name = byName[1];
    }
  }
  if (!info.name && info.verb === 'delete') {
    info.verb = 'deletecollection';
  }
  return info;
}

/** Subresources that open a stream into a container or node: writes. */
const INTERACTIVE_SUBRESOURCES = new Set([
  'exec',
  'attach',
  'portforward',
  'proxy',
]);

/**
 * `create` requests that only ask the API server a question about the
 * caller (`kubectl auth can-i`, `kubectl auth whoami`); they change nothing.
 */
const REVIEW_RESOURCES = new Set([
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/selfsubjectrulesreviews',
  'authentication.k8s.io/selfsubjectreviews',
]);

const READ_VERBS = new Set(['get', 'list', 'watch']);

/**
 * Whether a request reads or writes, as far as KMP's permissions and the
 * environment policy are concerned. Exec, attach, port-forward and the
 * proxy subresources count as writes whatever the HTTP method (a WebSocket
 * exec is a GET), as do unknown verbs; non-resource requests are reads
 * unless they are not GET/HEAD.
 */
export function accessOf(info: KubeRequestInfo): 'read' | 'write' {
  if (!info.isResourceRequest) {
    return info.verb === 'get' || info.verb === 'head' ? 'read' : 'write';
  }
  if (info.subresource && INTERACTIVE_SUBRESOURCES.has(info.subresource)) {
    return 'write';
  }
  if (info.verb === 'proxy') return 'write';
  if (
    info.verb === 'create' &&
    !info.subresource &&
    REVIEW_RESOURCES.has(`${info.apiGroup}/${info.resource}`)
  ) {
    return 'read';
  }
  return READ_VERBS.has(info.verb) ? 'read' : 'write';
}

/**
 * The verb an authoriser sees: `create` for the interactive subresources
 * whatever the method, otherwise the parsed verb.
 */
export function authorizationVerb(info: KubeRequestInfo): string {
  if (info.subresource && INTERACTIVE_SUBRESOURCES.has(info.subresource)) {
    return 'create';
  }
  return info.verb;
}

/**
 * Requests that stream for as long as the client wants, by the API server's
 * rule: watch and proxy verbs, and the attach, exec, log, portforward and
 * proxy subresources.
 */
export function isLongRunning(info: KubeRequestInfo): boolean {
  if (!info.isResourceRequest) return false;
  if (info.verb === 'watch' || info.verb === 'proxy') return true;
  return (
    !!info.subresource &&
    (INTERACTIVE_SUBRESOURCES.has(info.subresource) ||
      info.subresource === 'log')
  );
}
