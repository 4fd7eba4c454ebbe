import {
  accessOf,
  authorizationVerb,
  checkProxyPath,
  isLongRunning,
  parseRequestInfo,
} from './requestInfo';
import { BrokerError } from './status';

const parse = (method: string, url: string) => {
  const { path, query } = checkProxyPath(url);
  return parseRequestInfo(method, path, new URLSearchParams(query));
};

describe('checkProxyPath', () => {
  it.each([
    '/api',
    '/api/v1/namespaces/default/pods',
    '/apis/apps/v1/deployments?labelSelector=app%3Dweb',
    '/version',
    '/version/',
    '/openapi/v3/apis/apps/v1?hash=abc',
    '/healthz',
    '/readyz/etcd',
    '/livez',
    '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Acontroller%3Ajob-controller',
    '/api/v1/namespaces/a/pods?labelSelector=x%20in%20(..)', // the query is not the path
  ])('accepts %s', url => {
    expect(() => checkProxyPath(url)).not.toThrow();
  });

  it.each([
    ['/api/v1/namespaces/a/../../secrets', 'dot segments'],
    ['/api/v1/namespaces/a/./pods', 'dot segments'],
    ['/api/v1/namespaces%2fkube-system/secrets', "encoded '%2f'"],
    ['/api/v1/namespaces/a%2Fb', "encoded '%2F'"],
    ['/api/v1/%2e%2e/secrets', "encoded '%2e'"],
    ['/api/v1/%252f', "encoded '%25'"],
    ['/api/v1/x%5cy', "encoded '%5c'"],
    ['/api/v1/x%00', "encoded '%00'"],
    ['/api/v1/x%zz', 'malformed percent-encoding'],
    ['/api/v1/x%4', 'malformed percent-encoding'],
    ['//evil.example.com/api', 'absolute URLs'],
    ['http://evil.example.com/api', 'absolute URLs'],
    ['/api/v1/https://evil', 'absolute URLs'],
    ['api/v1/pods', 'absolute URLs'],
    ['/api\\v1', 'backslashes'],
    ['/api//v1/pods', 'empty segments'],
    ['/metrics', 'only /api'],
    ['/logs/kube-apiserver.log', 'only /api'],
    ['/debug/pprof', 'only /api'],
    ['/apix/v1', 'only /api'],
    ['/', 'only /api'],
    [`/api/${'a'.repeat(5000)}`, 'longer than'],
  ])('refuses %s (%s) with a 400', (url, why) => {
    let error: unknown;
    try {
      checkProxyPath(url);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe(400);
    expect((error as BrokerError).message).toContain(why);
  });

  it('splits the query from the path', () => {
    expect(checkProxyPath('/api/v1/pods?watch=1&a=b')).toEqual({
      path: '/api/v1/pods',
      query: 'watch=1&a=b',
    });
  });
});

describe('parseRequestInfo', () => {
  it('parses namespaced resources, names and subresources', () => {
    expect(parse('GET', '/api/v1/namespaces/team-a/pods/web-1/log')).toEqual(
      expect.objectContaining({
        isResourceRequest: true,
        verb: 'get',
        apiGroup: '',
        apiVersion: 'v1',
        namespace: 'team-a',
        resource: 'pods',
        name: 'web-1',
        subresource: 'log',
      }),
    );
    expect(
      parse('PATCH', '/apis/apps/v1/namespaces/team-a/deployments/web/scale'),
    ).toEqual(
      expect.objectContaining({
        verb: 'patch',
        apiGroup: 'apps',
        resource: 'deployments',
        name: 'web',
        subresource: 'scale',
      }),
    );
  });

  it.each([
    ['GET', '/api/v1/pods', 'list'],
    ['GET', '/api/v1/pods?watch=true', 'watch'],
    ['GET', '/api/v1/pods?watch=1', 'watch'],
    ['GET', '/api/v1/pods?watch=false', 'list'],
    ['GET', '/api/v1/namespaces/a/pods/p', 'get'],
    ['HEAD', '/api/v1/namespaces/a/pods/p', 'get'],
    ['GET', '/api/v1/watch/namespaces/a/pods', 'watch'],
    ['POST', '/api/v1/namespaces/a/pods', 'create'],
    ['PUT', '/api/v1/namespaces/a/pods/p', 'update'],
    ['PATCH', '/api/v1/namespaces/a/pods/p', 'patch'],
    ['DELETE', '/api/v1/namespaces/a/pods/p', 'delete'],
    ['DELETE', '/api/v1/namespaces/a/pods', 'deletecollection'],
    ['OPTIONS', '/api/v1/namespaces/a/pods', ''],
  ])('%s %s is %s', (method, url, verb) => {
    expect(parse(method, url).verb).toBe(verb);
  });

  it('treats a namespace itself, and its status and finalize, as namespaces', () => {
    expect(parse('GET', '/api/v1/namespaces/team-a')).toEqual(
      expect.objectContaining({
        resource: 'namespaces',
        name: 'team-a',
        namespace: 'team-a',
      }),
    );
    expect(parse('PUT', '/api/v1/namespaces/team-a/finalize')).toEqual(
      expect.objectContaining({
        resource: 'namespaces',
        name: 'team-a',
        subresource: 'finalize',
        verb: 'update',
      }),
    );
    expect(parse('GET', '/api/v1/namespaces')).toEqual(
      expect.objectContaining({ resource: 'namespaces', verb: 'list' }),
    );
  });

  it('takes the name of a list or watch from a metadata.name field selector', () => {
    expect(
      parse(
        'GET',
        '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3Dweb&watch=1',
      ),
    ).toEqual(expect.objectContaining({ verb: 'watch', name: 'web' }));
    const dots = parse(
      'GET',
      '/api/v1/namespaces/a/pods?fieldSelector=metadata.name%3D..',
    );
    expect(dots.verb).toBe('list');
    expect(dots.name).toBeUndefined();
  });

  it('decodes percent-encoded names', () => {
    expect(
      parse(
        'GET',
        '/apis/rbac.authorization.k8s.io/v1/clusterroles/system%3Aaggregate-to-view',
      ).name,
    ).toBe('system:aggregate-to-view');
  });

  it('treats discovery and other paths as non-resource requests', () => {
    for (const url of [
      '/api',
      '/api/v1',
      '/apis',
      '/apis/apps',
      '/apis/apps/v1',
      '/version',
      '/openapi/v2',
    ]) {
      expect(parse('GET', url)).toEqual(
        expect.objectContaining({ isResourceRequest: false, verb: 'get' }),
      );
    }
  });

  it('refuses a legacy verb path without a resource', () => {
    expect(() => parse('GET', '/api/v1/watch')).toThrow(
      'unable to determine kind and namespace',
    );
    expect(() => parse('GET', '/apis/apps/v1/proxy')).toThrow(BrokerError);
  });
});

describe('accessOf and authorizationVerb', () => {
  it.each([
    ['GET', '/api/v1/namespaces/a/pods', 'read'],
    ['GET', '/api/v1/namespaces/a/pods/p/log?follow=true', 'read'],
    ['GET', '/version', 'read'],
    ['POST', '/version', 'write'],
    ['POST', '/api/v1/namespaces/a/configmaps', 'write'],
    ['DELETE', '/api/v1/namespaces/a/pods', 'write'],
    ['POST', '/api/v1/namespaces/a/pods/p/exec?command=sh', 'write'],
    ['GET', '/api/v1/namespaces/a/pods/p/exec?command=sh', 'write'],
    ['GET', '/api/v1/namespaces/a/pods/p/portforward', 'write'],
    ['GET', '/api/v1/namespaces/a/services/s/proxy/metrics', 'write'],
    ['POST', '/api/v1/namespaces/a/pods/p/eviction', 'write'],
    ['POST', '/api/v1/namespaces/a/serviceaccounts/default/token', 'write'],
    ['POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', 'read'],
    ['POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', 'read'],
    ['POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', 'write'],
  ])('%s %s is a %s', (method, url, access) => {
    expect(accessOf(parse(method, url))).toBe(access);
  });

  it('authorises exec, attach and port-forward as create, whatever the method', () => {
    expect(
      authorizationVerb(parse('GET', '/api/v1/namespaces/a/pods/p/exec')),
    ).toBe('create');
    expect(
      authorizationVerb(parse('POST', '/api/v1/namespaces/a/pods/p/attach')),
    ).toBe('create');
    expect(authorizationVerb(parse('GET', '/api/v1/namespaces/a/pods'))).toBe(
      'list',
    );
  });

  it('knows which requests are long-running', () => {
    expect(isLongRunning(parse('GET', '/api/v1/pods?watch=true'))).toBe(true);
    expect(
      isLongRunning(parse('GET', '/api/v1/namespaces/a/pods/p/log?follow=1')),
    ).toBe(true);
    expect(isLongRunning(parse('GET', '/api/v1/pods'))).toBe(false);
    expect(isLongRunning(parse('GET', '/version'))).toBe(false);
  });
});
