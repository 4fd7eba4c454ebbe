import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { ClusterDetails } from '@backstage/plugin-kubernetes-node';
import { KmpBrokerAuthStrategy } from './KmpBrokerAuthStrategy';

const discovery = {
  getBaseUrl: async (id: string) => `http://backstage.internal:7007/api/${id}`,
  getExternalBaseUrl: async (id: string) =>
    `https://portal.example.com/api/${id}`,
};

const strategy = (externalUrl?: string) =>
  KmpBrokerAuthStrategy.create({
    auth: mockServices.auth({ pluginId: 'kubernetes' }),
    discovery,
    logger: mockServices.logger.mock(),
    externalUrl,
  });

const cluster = (url: string): ClusterDetails => ({
  name: 'payments-dev-eu1',
  url,
  authMetadata: { 'kubernetes.io/auth-provider': 'kmp' },
});

const alice = mockCredentials.user.token('user:default/alice');

describe('KmpBrokerAuthStrategy', () => {
  it("exchanges the user's token for one addressed to the kmp plugin on their behalf", async () => {
    for (const url of [
      'http://backstage.internal:7007/api/kmp/proxy/clusters/payments-dev-eu1',
      'https://portal.example.com/api/kmp/proxy/clusters/payments-dev-eu1',
    ]) {
      const credential = await strategy().getCredential(cluster(url), {
        kmp: alice,
      });
      expect(credential).toEqual({
        type: 'bearer token',
        token: mockCredentials.service.token({
          onBehalfOf: mockCredentials.user('user:default/alice'),
          targetPluginId: 'kmp',
        }),
      });
    }
  });

  it('sends a user credential nowhere but to the broker', async () => {
    for (const url of [
      'https://evil.example.com/api/kmp/proxy/clusters/payments-dev-eu1',
      'https://portal.example.com/api/kmpx/proxy/clusters/payments-dev-eu1',
      'https://portal.example.com/api/kmp/proxy/clusters-x/payments-dev-eu1',
      'https://portal.example.com/api/kmp/clusters/payments-dev-eu1',
      'http://portal.example.com/api/kmp/proxy/clusters/payments-dev-eu1',
      'not a url',
    ]) {
      await expect(
        strategy().getCredential(cluster(url), { kmp: alice }),
      ).rejects.toThrow(
        "cluster 'payments-dev-eu1' uses auth provider 'kmp' but its URL is not the KMP broker",
      );
    }
  });

  it('accepts the configured external broker URL', async () => {
    const credential = await strategy(
      'https://kmp.example.com/api/kmp/',
    ).getCredential(
      cluster(
        'https://kmp.example.com/api/kmp/proxy/clusters/payments-dev-eu1',
      ),
      { kmp: alice },
    );
    expect(credential.type).toBe('bearer token');
  });

  it("refuses without a user's token, without echoing what it got", async () => {
    const broker = cluster(
      'https://portal.example.com/api/kmp/proxy/clusters/payments-dev-eu1',
    );
    await expect(strategy().getCredential(broker, {})).rejects.toThrow(
      "auth provider 'kmp' needs the signed-in user's Backstage token under auth.kmp",
    );
    await expect(
      strategy().getCredential(broker, { kmp: { nested: 'object' } }),
    ).rejects.toThrow('under auth.kmp');
    await expect(
      strategy().getCredential(broker, {
        kmp: mockCredentials.service.token({
          onBehalfOf: mockCredentials.service('plugin:catalog'),
          targetPluginId: 'kubernetes',
        }),
      }),
    ).rejects.toThrow("auth provider 'kmp' needs a user's token");
    const forged = strategy().getCredential(broker, { kmp: 'secret-ish' });
    await expect(forged).rejects.toThrow(
      'the token under auth.kmp is not a valid Backstage token',
    );
    await expect(forged).rejects.not.toThrow('secret-ish');
  });

  it('presents no auth metadata to the frontend and needs none', () => {
    expect(
      strategy().presentAuthMetadata({ 'kubernetes.io/auth-provider': 'kmp' }),
    ).toEqual({});
    expect(strategy().validateCluster({})).toEqual([]);
  });
});
