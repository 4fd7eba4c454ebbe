import { IncomingMessage } from 'node:http';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
import {
  BEARER_PROTOCOL_PREFIX,
  isUpgradeRequest,
  splice,
  switchingProtocolsHead,
  webSocketBearer,
} from './upgrade';

describe('isUpgradeRequest', () => {
  it('needs both Connection: upgrade and Upgrade', () => {
    expect(
      isUpgradeRequest({
        connection: 'keep-alive, Upgrade',
        upgrade: 'SPDY/3.1',
      }),
    ).toBe(true);
    expect(isUpgradeRequest({ upgrade: 'websocket' })).toBe(false);
    expect(isUpgradeRequest({ connection: 'upgrade' })).toBe(false);
    expect(
      isUpgradeRequest({ connection: 'upgraded', upgrade: 'websocket' }),
    ).toBe(false);
  });
});

describe('webSocketBearer', () => {
  const entry = (token: string) =>
    `${BEARER_PROTOCOL_PREFIX}${Buffer.from(token).toString('base64url')}`;

  it('takes the token out and keeps the other protocols', () => {
    expect(
      webSocketBearer({
        'sec-websocket-protocol': `v5.channel.k8s.io, ${entry(
          'kmp_abc',
        )}, v4.channel.k8s.io`,
      }),
    ).toEqual({
      token: 'kmp_abc',
      protocols: 'v5.channel.k8s.io, v4.channel.k8s.io',
      hadBearer: true,
    });
  });

  it('strips malformed entries without accepting them', () => {
    expect(
      webSocketBearer({
        'sec-websocket-protocol': `${BEARER_PROTOCOL_PREFIX}not+base64url, v5.channel.k8s.io`,
      }),
    ).toEqual({ protocols: 'v5.channel.k8s.io', hadBearer: true });
    // A token must be printable ASCII without spaces.
    expect(
      webSocketBearer({ 'sec-websocket-protocol': entry('a b\r\n') }),
    ).toEqual({ hadBearer: true });
  });

  it('leaves requests without the entry alone', () => {
    expect(webSocketBearer({})).toEqual({ hadBearer: false });
    expect(
      webSocketBearer({ 'sec-websocket-protocol': 'v5.channel.k8s.io' }),
    ).toEqual({ protocols: 'v5.channel.k8s.io', hadBearer: false });
  });
});

describe('switchingProtocolsHead', () => {
  it("passes the cluster's upgrade headers, never cookies or CR/LF", () => {
    const response = new IncomingMessage(new Socket());
    response.rawHeaders = [
      'Upgrade',
      'websocket',
      'Connection',
      'Upgrade',
      'Sec-WebSocket-Accept',
      's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      'Set-Cookie',
      'a=b',
      'X-Evil',
      'a\r\nInjected: yes',
    ];
    expect(switchingProtocolsHead(response, { 'kmp-audit-id': 'id-1' })).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'kmp-audit-id: id-1\r\n\r\n',
    );
  });
});

/** Both ends of a loopback TCP connection. */
async function socketPair(): Promise<[Socket, Socket]> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>(resolve =>
    server.once('connection', resolve),
  );
  const near = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const far = await accepted;
  server.close();
  return [near, far];
}

const received = (socket: Socket, length: number) =>
  new Promise<string>(resolve => {
    let text = '';
    socket.on('data', d => {
      text += d;
      if (text.length >= length) resolve(text);
    });
  });

describe('splice', () => {
  it('carries bytes both ways, counts them and closes the other side', async () => {
    const [caller, client] = await socketPair();
    const [cluster, apiServer] = await socketPair();
    const done = splice(client, cluster);
    const atServer = received(apiServer, 5);
    const atCaller = received(caller, 6);
    caller.write('hello');
    apiServer.write('world!');
    expect(await atServer).toBe('hello');
    expect(await atCaller).toBe('world!');
    const serverClosed = new Promise(resolve =>
      apiServer.once('close', resolve),
    );
    apiServer.on('end', () => apiServer.end());
    caller.destroy();
    expect(await done).toEqual({
      ended: 'client-closed',
      bytesIn: 5,
      bytesOut: 6,
    });
    await serverClosed;
  });
});
