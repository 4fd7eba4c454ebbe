import { IncomingMessage } from 'node:http';
import YAML from 'yaml';
import { BrokerError } from './status';

/**
 * Reads a request body of at most `limit` bytes. A declared length above the
 * limit is refused before reading; a chunked body is refused as soon as it
 * crosses the limit.
 */
export async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<Buffer | undefined> {
  const tooLarge = () =>
    new BrokerError(
      413,
      `request body is larger than the broker's limit of ${limit} bytes`,
      undefined,
      'request body too large',
    );
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  if (declared === undefined && !req.headers['transfer-encoding']) {
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve());
    req.once('error', reject);
    req.once('aborted', () =>
      reject(new BrokerError(499, 'the client went away')),
    );
  });
  return size === 0 && declared === undefined
    ? undefined
    : Buffer.concat(chunks);
}

/** The media type of a Content-Type header, lower-cased, no parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

const JSON_TYPES = new Set([
  'application/json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/json-patch+json',
]);
const YAML_TYPES = new Set([
  'application/yaml',
  'application/apply-patch+yaml',
]);

/** Nesting deeper than any Kubernetes object needs: refused as a bomb. */
const MAX_DEPTH = 100;

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_DEPTH) return depth;
  if (typeof value !== 'object' || value === null) return depth;
  let max = depth;
  for (const child of Object.values(value)) {
    max = Math.max(max, depthOf(child, depth + 1));
    if (max > MAX_DEPTH) break;
  }
  return max;
}

/**
 * Decodes a JSON or YAML request body, refusing (400) what is malformed or
 * built to hurt a parser: YAML aliases are capped (a "billion laughs"
 * document is refused, not expanded), and so is nesting depth. Other
 * encodings (protobuf, which kubectl sends for built-in kinds) are left to
 * the API server: undefined.
 */
export function decodeManifest(
  body: Buffer,
  contentType: string | undefined,
): unknown {
  const type = mediaType(contentType);
  let value: unknown;
  try {
    if (JSON_TYPES.has(type)) {
      value = JSON.parse(body.toString('utf8'));
    } else if (YAML_TYPES.has(type)) {
      const docs = YAML.parseAllDocuments(body.toString('utf8'));
      const list = Array.isArray(docs) ? docs : [docs];
      if (list.length !== 1) {
        throw new Error('exactly one YAML document is expected');
      }
      const [doc] = list;
      if (doc.errors.length > 0) throw doc.errors[0];
      value = doc.toJS({ maxAliasCount: 100 });
    } else {
      return undefined;
    }
  } catch (error) {
    if (error instanceof BrokerError) throw error;
    throw new BrokerError(
      400,
      `request body is not valid ${YAML_TYPES.has(type) ? 'YAML' : 'JSON'}: ${(
        error as Error
      ).message.slice(0, 200)}`,
      undefined,
      'malformed body',
    );
  }
  if (depthOf(value) > MAX_DEPTH) {
    throw new BrokerError(
      400,
      `request body is nested deeper than ${MAX_DEPTH} levels`,
      undefined,
      'malformed body',
    );
  }
  return value;
}
