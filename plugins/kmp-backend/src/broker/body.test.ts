import { Readable } from 'node:stream';
import { IncomingMessage } from 'node:http';
import { decodeManifest, readBody } from './body';
import { BrokerError } from './status';

function fakeRequest(
  chunks: Buffer[],
  headers: Record<string, string>,
): IncomingMessage {
  const stream = Readable.from(chunks) as unknown as IncomingMessage;
  stream.headers = headers;
  return stream;
}

const codeOf = async (p: Promise<unknown> | (() => unknown)) => {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (error) {
    return (error as BrokerError).code;
  }
  return undefined;
};

describe('readBody', () => {
  it('reads a body within the limit', async () => {
    const body = await readBody(
      fakeRequest([Buffer.from('{"a":'), Buffer.from('1}')], {
        'transfer-encoding': 'chunked',
      }),
      100,
    );
    expect(body?.toString()).toBe('{"a":1}');
  });

  it('has no body without a length or chunked encoding', async () => {
    expect(await readBody(fakeRequest([], {}), 100)).toBeUndefined();
  });

  it('refuses a declared length above the limit without reading', async () => {
    expect(
      await codeOf(readBody(fakeRequest([], { 'content-length': '101' }), 100)),
    ).toBe(413);
  });

  it('refuses a chunked body as soon as it crosses the limit', async () => {
    const chunks = Array.from({ length: 10 }, () => Buffer.alloc(30, 'a'));
    expect(
      await codeOf(
        readBody(fakeRequest(chunks, { 'transfer-encoding': 'chunked' }), 100),
      ),
    ).toBe(413);
  });
});

describe('decodeManifest', () => {
  it('decodes JSON and YAML bodies', () => {
    expect(
      decodeManifest(
        Buffer.from('{"kind":"Pod"}'),
        'application/json; charset=utf-8',
      ),
    ).toEqual({ kind: 'Pod' });
    expect(
      decodeManifest(
        Buffer.from('kind: Pod\nmetadata:\n  name: x\n'),
        'application/apply-patch+yaml',
      ),
    ).toEqual({ kind: 'Pod', metadata: { name: 'x' } });
  });

  it('leaves other encodings to the API server', () => {
    expect(
      decodeManifest(
        Buffer.from([0x6b, 0x38, 0x73, 0]),
        'application/vnd.kubernetes.protobuf',
      ),
    ).toBeUndefined();
    expect(decodeManifest(Buffer.from('x'), undefined)).toBeUndefined();
  });

  it('refuses malformed JSON with 400', async () => {
    expect(
      await codeOf(() =>
        decodeManifest(Buffer.from('{"a":'), 'application/json'),
      ),
    ).toBe(400);
  });

  it('refuses a YAML alias bomb instead of expanding it', async () => {
    const bomb = [
      'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
      ...Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(
            98 + i,
          )} [${Array(10)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    ].join('\n');
    expect(
      await codeOf(() => decodeManifest(Buffer.from(bomb), 'application/yaml')),
    ).toBe(400);
  });

  it('refuses deeply nested JSON', async () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(
      await codeOf(() => decodeManifest(Buffer.from(deep), 'application/json')),
    ).toBe(400);
  });

  it('refuses several YAML documents', async () => {
    expect(
      await codeOf(() =>
        decodeManifest(Buffer.from('a: 1\n---\nb: 2\n'), 'application/yaml'),
      ),
    ).toBe(400);
  });
});
