import {
  forwardableRequestHeaders,
  forwardableResponseHeaders,
} from './headers';

describe('forwardableRequestHeaders', () => {
  it('strips identity, forwarding and hop-by-hop fields and reports the identity ones', () => {
    const { headers, stripped } = forwardableRequestHeaders({
      accept: 'application/json',
      'content-type': 'application/merge-patch+json',
      'user-agent': 'kubectl/v1.35.0',
      authorization: 'Bearer mine',
      cookie: 'backstage-auth=x',
      'impersonate-user': 'system:admin',
      'impersonate-group': 'system:masters',
      'impersonate-uid': '0',
      'impersonate-extra-scopes': 'all',
      'x-remote-user': 'system:admin',
      'x-remote-group': 'system:masters',
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': 'evil',
      forwarded: 'for=10.0.0.1',
      'proxy-authorization': 'Basic eA==',
      'audit-id': 'forged',
      connection: 'keep-alive, x-secret-hop',
      'x-secret-hop': 'drop me',
      'keep-alive': 'timeout=5',
      'transfer-encoding': 'chunked',
      te: 'trailers',
      upgrade: 'websocket',
      host: 'kmp.example.com',
      'content-length': '12',
      expect: '100-continue',
      'kubectl-command': 'kubectl get',
    });
    expect(headers).toEqual({
      accept: 'application/json',
      'content-type': 'application/merge-patch+json',
      'user-agent': 'kubectl/v1.35.0',
      'kubectl-command': 'kubectl get',
    });
    expect(stripped.sort()).toEqual(
      [
        'authorization',
        'cookie',
        'impersonate-user',
        'impersonate-group',
        'impersonate-uid',
        'impersonate-extra-scopes',
        'x-remote-user',
        'x-remote-group',
        'x-forwarded-for',
        'x-forwarded-host',
        'forwarded',
        'proxy-authorization',
        'audit-id',
      ].sort(),
    );
  });
});

describe('forwardableResponseHeaders', () => {
  it('drops hop-by-hop fields and marks the response no-transform', () => {
    expect(
      forwardableResponseHeaders({
        'content-type': 'application/json',
        'content-length': '10',
        'cache-control': 'no-cache, private',
        'audit-id': 'abc',
        connection: 'close',
        'transfer-encoding': 'chunked',
        'keep-alive': 'timeout=5',
        'set-cookie': ['a=b'],
      }),
    ).toEqual({
      'content-type': 'application/json',
      'content-length': '10',
      'cache-control': 'no-cache, private, no-transform',
      'audit-id': 'abc',
    });
  });
});
