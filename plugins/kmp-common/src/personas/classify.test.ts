import {
  actionDependsOnBody,
  classifyKubeRequest,
  KubeRequestFacts,
} from './classify';

const r = (
  verb: string,
  resource: string,
  more: Partial<KubeRequestFacts> = {},
): KubeRequestFacts => ({
  isResourceRequest: true,
  verb,
  apiGroup: '',
  resource,
  namespace: 'team-a',
  ...more,
});
const apps = (verb: string, resource: string, more = {}) =>
  r(verb, resource, { apiGroup: 'apps', ...more });

describe('classifyKubeRequest', () => {
  it.each([
    ['discovery', { isResourceRequest: false, verb: 'get' }, 'read'],
    [
      'a POST to a non-resource path',
      { isResourceRequest: false, verb: 'post' },
      'write',
    ],
    ['get pod', r('get', 'pods', { name: 'p' }), 'read'],
    ['list configmaps', r('list', 'configmaps'), 'read'],
    ['watch events', r('watch', 'events'), 'read'],
    ['get secret', r('get', 'secrets', { name: 's' }), 'read-secrets'],
    ['list secrets', r('list', 'secrets'), 'read-secrets'],
    ['pods/log', r('get', 'pods', { name: 'p', subresource: 'log' }), 'logs'],
    [
      'pods/exec (POST)',
      r('create', 'pods', { name: 'p', subresource: 'exec' }),
      'exec',
    ],
    [
      'pods/exec (WebSocket GET)',
      r('get', 'pods', { name: 'p', subresource: 'exec' }),
      'exec',
    ],
    [
      'pods/attach',
      r('create', 'pods', { name: 'p', subresource: 'attach' }),
      'exec',
    ],
    [
      'pods/portforward',
      r('get', 'pods', { name: 'p', subresource: 'portforward' }),
      'exec',
    ],
    [
      'pods/proxy',
      r('get', 'pods', { name: 'p', subresource: 'proxy' }),
      'exec',
    ],
    [
      'services/proxy',
      r('get', 'services', { name: 's', subresource: 'proxy' }),
      'exec',
    ],
    [
      'nodes/proxy',
      r('get', 'nodes', {
        name: 'n',
        subresource: 'proxy',
        namespace: undefined,
      }),
      'write',
    ],
    [
      'kubectl debug',
      r('patch', 'pods', { name: 'p', subresource: 'ephemeralcontainers' }),
      'exec',
    ],
    ['delete pod', r('delete', 'pods', { name: 'p' }), 'delete-pod'],
    [
      'evict pod',
      r('create', 'pods', { name: 'p', subresource: 'eviction' }),
      'delete-pod',
    ],
    ['delete all pods', r('deletecollection', 'pods'), 'write'],
    [
      'deployments/scale',
      apps('patch', 'deployments', { name: 'd', subresource: 'scale' }),
      'scale',
    ],
    [
      'statefulsets/scale PUT',
      apps('update', 'statefulsets', { name: 'd', subresource: 'scale' }),
      'scale',
    ],
    [
      'create namespace',
      r('create', 'namespaces', { namespace: undefined }),
      'create-namespace',
    ],
    [
      'delete namespace',
      r('delete', 'namespaces', { name: 'x', namespace: 'x' }),
      'write',
    ],
    ['create deployment', apps('create', 'deployments'), 'write'],
    [
      'patch without a known body',
      apps('patch', 'deployments', { name: 'd' }),
      'write',
    ],
    [
      'kubectl auth can-i',
      r('create', 'selfsubjectaccessreviews', {
        apiGroup: 'authorization.k8s.io',
        namespace: undefined,
      }),
      'read',
    ],
    ['delete a secret', r('delete', 'secrets', { name: 's' }), 'write'],
  ] as Array<[string, KubeRequestFacts, string]>)(
    '%s → %s',
    (_n, info, action) => {
      expect(classifyKubeRequest(info)).toBe(action);
    },
  );

  const restartedAt = {
    spec: {
      template: {
        metadata: {
          annotations: {
            'kubectl.kubernetes.io/restartedAt': '2026-11-25T15:00:00Z',
          },
        },
      },
    },
  };

  it('tells a restart (kubectl rollout restart) from other patches by the body', () => {
    const info = apps('patch', 'deployments', { name: 'd' });
    expect(actionDependsOnBody(info)).toBe(true);
    expect(classifyKubeRequest(info, restartedAt)).toBe('restart');
    expect(
      classifyKubeRequest(
        apps('patch', 'daemonsets', { name: 'd' }),
        restartedAt,
      ),
    ).toBe('restart');
    expect(
      classifyKubeRequest(info, {
        ...restartedAt,
        metadata: { labels: { x: 'y' } },
      }),
    ).toBe('write');
    expect(
      classifyKubeRequest(info, {
        spec: { template: { metadata: { annotations: { other: 'x' } } } },
      }),
    ).toBe('write');
  });

  it('tells a replica change from other patches, in merge and JSON patches', () => {
    const info = apps('patch', 'deployments', { name: 'd' });
    expect(classifyKubeRequest(info, { spec: { replicas: 3 } })).toBe('scale');
    expect(
      classifyKubeRequest(info, [
        { op: 'replace', path: '/spec/replicas', value: 2 },
      ]),
    ).toBe('scale');
    expect(
      classifyKubeRequest(info, [
        {
          op: 'add',
          path: '/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt',
          value: 'now',
        },
      ]),
    ).toBe('restart');
    expect(
      classifyKubeRequest(info, [
        { op: 'replace', path: '/spec/replicas', value: 2 },
        { op: 'remove', path: '/spec/template' },
      ]),
    ).toBe('write');
    expect(
      classifyKubeRequest(info, { spec: { replicas: 3, paused: true } }),
    ).toBe('write');
    // Daemon sets have no replica count; a patch of a pod is never a scale.
    expect(
      classifyKubeRequest(apps('patch', 'daemonsets', { name: 'd' }), {
        spec: { replicas: 3 },
      }),
    ).toBe('write');
    expect(
      classifyKubeRequest(r('patch', 'pods', { name: 'p' }), {
        spec: { replicas: 3 },
      }),
    ).toBe('write');
    expect(classifyKubeRequest(info, 'not a patch')).toBe('write');
    expect(classifyKubeRequest(info, {})).toBe('write');
  });
});
