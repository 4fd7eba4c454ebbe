/*
 * The server side of SPDY/3.1 as the Kubernetes streaming protocols use it
 * (github.com/moby/spdystream, the kubelet's and the API server's
 * httpstream): client-initiated streams with headers, data frames, FIN,
 * RST_STREAM, PING and GOAWAY. Like spdystream it sends no SETTINGS and
 * ignores flow control (WINDOW_UPDATE), so data never waits for a window
 * the Go peer would never open; `spdy-transport` enforces those windows,
 * which is why this is not built on it.
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import zlib from 'node:zlib';

/** The SPDY/3 header compression dictionary (SPDY/3 draft, §2.6.10.1). */
const DICTIONARY = Buffer.from(
  'AAAAB29wdGlvbnMAAAAEaGVhZAAAAARwb3N0AAAAA3B1dAAAAAZkZWxldGUAAAAFdHJhY2UAAAAGYWNjZXB0AAAADmFjY2VwdC1jaGFyc2V0AAAAD2FjY2VwdC1lbmNvZGluZwAAAA9hY2NlcHQtbGFuZ3VhZ2UAAAANYWNjZXB0LXJhbmdlcwAAAANhZ2UAAAAFYWxsb3cAAAANYXV0aG9yaXphdGlvbgAAAA1jYWNoZS1jb250cm9sAAAACmNvbm5lY3Rpb24AAAAMY29udGVudC1iYXNlAAAAEGNvbnRlbnQtZW5jb2RpbmcAAAAQY29udGVudC1sYW5ndWFnZQAAAA5jb250ZW50LWxlbmd0aAAAABBjb250ZW50LWxvY2F0aW9uAAAAC2NvbnRlbnQtbWQ1AAAADWNvbnRlbnQtcmFuZ2UAAAAMY29udGVudC10eXBlAAAABGRhdGUAAAAEZXRhZwAAAAZleHBlY3QAAAAHZXhwaXJlcwAAAARmcm9tAAAABGhvc3QAAAAIaWYtbWF0Y2gAAAARaWYtbW9kaWZpZWQtc2luY2UAAAANaWYtbm9uZS1tYXRjaAAAAAhpZi1yYW5nZQAAABNpZi11bm1vZGlmaWVkLXNpbmNlAAAADWxhc3QtbW9kaWZpZWQAAAAIbG9jYXRpb24AAAAMbWF4LWZvcndhcmRzAAAABnByYWdtYQAAABJwcm94eS1hdXRoZW50aWNhdGUAAAATcHJveHktYXV0aG9yaXphdGlvbgAAAAVyYW5nZQAAAAdyZWZlcmVyAAAAC3JldHJ5LWFmdGVyAAAABnNlcnZlcgAAAAJ0ZQAAAAd0cmFpbGVyAAAAEXRyYW5zZmVyLWVuY29kaW5nAAAAB3VwZ3JhZGUAAAAKdXNlci1hZ2VudAAAAAR2YXJ5AAAAA3ZpYQAAAAd3YXJuaW5nAAAAEHd3dy1hdXRoZW50aWNhdGUAAAAGbWV0aG9kAAAAA2dldAAAAAZzdGF0dXMAAAAGMjAwIE9LAAAAB3ZlcnNpb24AAAAISFRUUC8xLjEAAAADdXJsAAAABnB1YmxpYwAAAApzZXQtY29va2llAAAACmtlZXAtYWxpdmUAAAAGb3JpZ2luMTAwMTAxMjAxMjAyMjA1MjA2MzAwMzAyMzAzMzA0MzA1MzA2MzA3NDAyNDA1NDA2NDA3NDA4NDA5NDEwNDExNDEyNDEzNDE0NDE1NDE2NDE3NTAyNTA0NTA1MjAzIE5vbi1BdXRob3JpdGF0aXZlIEluZm9ybWF0aW9uMjA0IE5vIENvbnRlbnQzMDEgTW92ZWQgUGVybWFuZW50bHk0MDAgQmFkIFJlcXVlc3Q0MDEgVW5hdXRob3JpemVkNDAzIEZvcmJpZGRlbjQwNCBOb3QgRm91bmQ1MDAgSW50ZXJuYWwgU2VydmVyIEVycm9yNTAxIE5vdCBJbXBsZW1lbnRlZDUwMyBTZXJ2aWNlIFVuYXZhaWxhYmxlSmFuIEZlYiBNYXIgQXByIE1heSBKdW4gSnVsIEF1ZyBTZXB0IE9jdCBOb3YgRGVjIDAwOjAwOjAwIE1vbiwgVHVlLCBXZWQsIFRodSwgRnJpLCBTYXQsIFN1biwgR01UY2h1bmtlZCx0ZXh0L2h0bWwsaW1hZ2UvcG5nLGltYWdlL2pwZyxpbWFnZS9naWYsYXBwbGljYXRpb24veG1sLGFwcGxpY2F0aW9uL3hodG1sK3htbCx0ZXh0L3BsYWluLHRleHQvamF2YXNjcmlwdCxwdWJsaWNwcml2YXRlbWF4LWFnZT1nemlwLGRlZmxhdGUsc2RjaGNoYXJzZXQ9dXRmLThjaGFyc2V0PWlzby04ODU5LTEsdXRmLSwqLGVucT0wLg==',
  'base64',
);

const VERSION = 3;
const TYPE_SYN_STREAM = 1;
const TYPE_SYN_REPLY = 2;
const TYPE_RST_STREAM = 3;
const TYPE_PING = 6;
const TYPE_GOAWAY = 7;
const FLAG_FIN = 0x01;
/** Largest data frame payload written (the peer accepts up to 16 MiB). */
const MAX_DATA = 32 * 1024;

function adler32(data: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of data) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(payload.length, 4);
  head[4] = flags;
  return Buffer.concat([head, payload]);
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE(data.length, 4);
  head[4] = flags;
  return Buffer.concat([head, data]);
}

/** One stream the client opened: a duplex of its data frames. */
export class SpdyStream extends Duplex {
  /** @internal */
  remoteClosed = false;

  constructor(
    readonly id: number,
    /** Header names are lower-case (e.g. `streamtype`, `port`). */
    readonly headers: Readonly<Record<string, string>>,
    private readonly session: SpdySession,
  ) {
    super({ allowHalfOpen: true });
  }

  _read(): void {
    // Data is pushed as frames arrive; SPDY/3.1 flow control is not used.
  }

  _write(chunk: Buffer, _enc: BufferEncoding, callback: (e?: Error) => void) {
    this.session.writeData(this.id, chunk, false, callback);
  }

  _final(callback: (e?: Error) => void) {
    this.session.writeData(this.id, Buffer.alloc(0), true, callback);
  }

  /** Resets the stream (RST_STREAM CANCEL). */
  reset(): void {
    this.session.reset(this.id);
    this.destroy();
  }
}

/**
 * A server SPDY/3.1 session over an upgraded socket. Emits `stream` for
 * every SYN_STREAM (already answered with SYN_REPLY) and `close`.
 */
export class SpdySession extends EventEmitter {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly streams = new Map<number, SpdyStream>();
  /** Compressed header bytes received so far (one zlib stream). */
  private compressed: Buffer = Buffer.alloc(0);
  private inflatedLength = 0;
  private deflateStarted = false;
  private lastStreamId = 0;
  private closed = false;

  constructor(readonly socket: Duplex) {
    super();
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.close());
  }

  /** Sends GOAWAY and ends the socket once everything queued is written. */
  goAway(): void {
    if (this.closed) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(this.lastStreamId, 0);
    this.socket.end(controlFrame(TYPE_GOAWAY, 0, payload));
  }

  /** @internal */
  writeData(
    streamId: number,
    data: Buffer,
    fin: boolean,
    callback: (e?: Error) => void,
  ): void {
    if (this.closed) {
      callback();
      return;
    }
    const frames: Buffer[] = [];
    for (let at = 0; at < data.length; at += MAX_DATA) {
      frames.push(dataFrame(streamId, 0, data.subarray(at, at + MAX_DATA)));
    }
    if (fin) frames.push(dataFrame(streamId, FLAG_FIN, Buffer.alloc(0)));
    if (frames.length === 0) {
      callback();
      return;
    }
    if (this.socket.write(Buffer.concat(frames))) {
      callback();
    } else {
      this.socket.once('drain', () => callback());
    }
  }

  /** @internal */
  reset(streamId: number): void {
    if (this.closed) return;
    const payload = Buffer.alloc(8);
    payload.writeUInt32BE(streamId & 0x7fffffff, 0);
    payload.writeUInt32BE(5, 4); // CANCEL
    this.socket.write(controlFrame(TYPE_RST_STREAM, 0, payload));
  }

  private close() {
    if (this.closed) return;
    this.closed = true;
    for (const stream of this.streams.values()) {
      if (!stream.remoteClosed) stream.push(null);
      stream.destroy();
    }
    this.streams.clear();
    this.socket.destroy();
    this.emit('close');
  }

  private receive(chunk: Buffer) {
    this.buffer =
      this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 8 && !this.closed) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) return;
      const frame = this.buffer.subarray(0, 8 + length);
      this.buffer = this.buffer.subarray(8 + length);
      try {
        this.handle(frame);
      } catch {
        this.close();
      }
    }
  }

  private handle(frame: Buffer) {
    const flags = frame[4];
    const payload = frame.subarray(8);
    if ((frame[0] & 0x80) === 0) {
      const stream = this.streams.get(frame.readUInt32BE(0) & 0x7fffffff);
      if (!stream) return;
      if (payload.length > 0) stream.push(Buffer.from(payload));
      if (flags & FLAG_FIN) this.remoteFin(stream);
      return;
    }
    const type = frame.readUInt16BE(2);
    switch (type) {
      case TYPE_SYN_STREAM: {
        const id = payload.readUInt32BE(0) & 0x7fffffff;
        const headers = this.readHeaders(payload.subarray(10));
        this.lastStreamId = Math.max(this.lastStreamId, id);
        const stream = new SpdyStream(id, headers, this);
        this.streams.set(id, stream);
        stream.once('close', () => this.streams.delete(id));
        const streamId = Buffer.alloc(4);
        streamId.writeUInt32BE(id, 0);
        this.socket.write(
          controlFrame(
            TYPE_SYN_REPLY,
            0,
            Buffer.concat([streamId, this.writeHeaders()]),
          ),
        );
        this.emit('stream', stream);
        if (flags & FLAG_FIN) this.remoteFin(stream);
        return;
      }
      case TYPE_RST_STREAM: {
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff);
        stream?.destroy();
        return;
      }
      case TYPE_PING:
        this.socket.write(frame);
        return;
      case TYPE_GOAWAY:
        this.close();
        return;
      default:
        // SETTINGS, HEADERS, WINDOW_UPDATE: nothing to do.
        return;
    }
  }

  private remoteFin(stream: SpdyStream) {
    if (stream.remoteClosed) return;
    stream.remoteClosed = true;
    stream.push(null);
  }

  /**
   * Decompresses one header block. The blocks of a session form one zlib
   * stream (with the SPDY dictionary), each ending in a sync flush; the
   * whole stream so far is inflated again and the new part taken, which is
   * cheap for the handful of streams a Kubernetes session opens.
   */
  private readHeaders(block: Buffer): Record<string, string> {
    this.compressed = Buffer.concat([this.compressed, block]);
    const all = zlib.inflateSync(this.compressed, {
      dictionary: DICTIONARY,
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    });
    const plain = all.subarray(this.inflatedLength);
    this.inflatedLength = all.length;
    const headers: Record<string, string> = {};
    const count = plain.readUInt32BE(0);
    let at = 4;
    for (let i = 0; i < count; i++) {
      const nameLength = plain.readUInt32BE(at);
      const name = plain.toString('utf8', at + 4, at + 4 + nameLength);
      at += 4 + nameLength;
      const valueLength = plain.readUInt32BE(at);
      const value = plain.toString('utf8', at + 4, at + 4 + valueLength);
      at += 4 + valueLength;
      headers[name.toLowerCase()] = value.split('\0').join(',');
    }
    return headers;
  }

  /**
   * An empty header block, compressed as the peer's zlib stream expects:
   * the zlib header (with the dictionary's id) once, then stored blocks,
   * each followed by a sync flush.
   */
  private writeHeaders(): Buffer {
    const plain = Buffer.from([0, 0, 0, 0]); // no headers
    const stored = Buffer.alloc(5);
    stored[0] = 0; // BFINAL=0, BTYPE=00 (stored), byte-aligned
    stored.writeUInt16LE(plain.length, 1);
    stored.writeUInt16LE(~plain.length & 0xffff, 3);
    // An empty stored block ends it, as zlib's sync flush does: Go's
    // inflater hands out a block's data only once it has seen the next.
    const syncFlush = Buffer.from([0, 0, 0, 0xff, 0xff]);
    const parts = [stored, plain, syncFlush];
    if (!this.deflateStarted) {
      this.deflateStarted = true;
      const head = Buffer.alloc(6);
      head[0] = 0x78; // deflate, 32 KiB window
      head[1] = 0x20; // FDICT; (0x78 << 8 | 0x20) % 31 === 0
      head.writeUInt32BE(adler32(DICTIONARY), 2);
      parts.unshift(head);
    }
    return Buffer.concat(parts);
  }
}
