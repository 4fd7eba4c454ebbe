import { mockApis } from '@backstage/frontend-test-utils';
import { KubernetesAuthProvidersApi } from '@backstage/plugin-kubernetes-react';
import { KmpKubernetesAuthProviders } from './KmpKubernetesAuthProviders';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'checkout' },
};

function providers() {
  const fallback: jest.Mocked<KubernetesAuthProvidersApi> = {
    decorateRequestBodyForAuth: jest.fn(async (_p, body) => ({
      ...body,
      auth: { ...body.auth, google: 'google-token' },
    })),
    getCredentials: jest.fn(async (_provider: string) => ({
      token: 'google-token',
    })),
  };
  const api = new KmpKubernetesAuthProviders({
    identityApi: mockApis.identity({
      userEntityRef: 'user:default/alice',
      token: 'alice-backstage-token',
    }),
    fallback,
  });
  return { api, fallback };
}

describe('KmpKubernetesAuthProviders', () => {
  it("hands the signed-in user's Backstage token to clusters with auth provider kmp", async () => {
    const { api, fallback } = providers();
    expect(await api.getCredentials('kmp')).toEqual({
      token: 'alice-backstage-token',
    });
    expect(
      await api.decorateRequestBodyForAuth('kmp', {
        entity,
        auth: { google: 'kept' },
      }),
    ).toEqual({
      entity,
      auth: { google: 'kept', kmp: 'alice-backstage-token' },
    });
    expect(await api.decorateRequestBodyForAuth('kmp', { entity })).toEqual({
      entity,
      auth: { kmp: 'alice-backstage-token' },
    });
    expect(fallback.getCredentials).not.toHaveBeenCalled();
    expect(fallback.decorateRequestBodyForAuth).not.toHaveBeenCalled();
  });

  it('leaves every other provider to the stock providers', async () => {
    const { api, fallback } = providers();
    expect(await api.getCredentials('google')).toEqual({
      token: 'google-token',
    });
    expect(fallback.getCredentials).toHaveBeenCalledWith('google');
    expect(await api.decorateRequestBodyForAuth('google', { entity })).toEqual({
      entity,
      auth: { google: 'google-token' },
    });
  });
});
