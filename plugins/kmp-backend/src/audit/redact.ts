/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

const MAX_DEPTH = 12;
const MAX_STRING = 8192;

/**
 * Key names whose values are secrets whatever they look like, compared in
 * lower case without separators: `X-Api-Key`, `api_key` and `apiKey` all
 * become `xapikey`, which contains `apikey`.
 */
const SECRET_KEY_PARTS = [
  'authorization',
  'cookie',
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'credential',
  'apikey',
  'accesskey',
  'privatekey',
  'clientkey',
  'signingkey',
  'certificate',
  'kubeconfig',
  'sessionid',
];
const SECRET_KEY_SUFFIXES = ['key', 'keydata', 'cert', 'certdata', 'pem'];

function isSecretKey(key: string): boolean {
  const normalized = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return (
    SECRET_KEY_PARTS.some(part => normalized.includes(part)) ||
    SECRET_KEY_SUFFIXES.some(suffix => normalized.endsWith(suffix))
  );
}

/** Secrets recognisable by their shape, wherever they appear in a string. */
const SECRET_VALUE_PATTERNS: RegExp[] = [
  // PEM blocks: private keys, certificates, anything armoured.
  /-----BEGIN [A-Z0-9 ]+-----[\s\S]*?(-----END [A-Z0-9 ]+-----|$)/g,
  // HTTP credentials: Bearer, Basic, Splunk HEC, AWS SigV4 and the like.
  /\b(Bearer|Basic|Splunk|Token|Negotiate|Digest|AWS4-HMAC-SHA256)\s+[^\s,;"']+/gi,
  // JSON Web Tokens.
  /\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g,
  // Credentials in URLs: scheme://user:password@host.
  /(?<=\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+(?=@)/gi,
  // Secret-looking query parameters.
  /(?<=[?&](?:access_token|token|api_key|apikey|key|sig|signature|password|secret|client_secret)=)[^&#\s]+/gi,
];

function redactString(value: string): string {
  let result =
    value.length > MAX_STRING
      ? `${value.slice(0, MAX_STRING)}…[TRUNCATED]`
      : value;
  for (const pattern of SECRET_VALUE_PATTERNS) {
    result = result.replace(pattern, match => {
      const scheme =
        /^(Bearer|Basic|Splunk|Token|Negotiate|Digest|AWS4-HMAC-SHA256)\s/i.exec(
          match,
        );
      return scheme ? `${scheme[1]} ${REDACTED}` : REDACTED;
    });
  }
  return result;
}

/**
 * Returns a copy of `value` with secrets replaced by `[REDACTED]`: values of
 * secret-named keys (Authorization, tokens, passwords, keys, certificates,
 * cookies, kubeconfigs) at any depth, and secret-shaped substrings in any
 * string (Bearer and Basic credentials, PEM blocks, JWTs, passwords in
 * URLs). Very deep structures and very long strings are truncated, and
 * values that are not JSON (functions, symbols, cycles) are dropped.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0, new WeakSet()) as T;
}

function redact(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return redactString(value);
  if (
    value === null ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined;
  if (value instanceof Date) return value.toISOString();
  if (seen.has(value)) return '[CIRCULAR]';
  if (depth >= MAX_DEPTH) return '[TRUNCATED]';
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.map(item => redact(item, depth + 1, seen) ?? null);
    }
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretKey(key)) {
        result[key] = item === undefined || item === null ? item : REDACTED;
      } else {
        const redacted = redact(item, depth + 1, seen);
        if (redacted !== undefined) result[key] = redacted;
      }
    }
    return result;
  } finally {
    seen.delete(value);
  }
}
