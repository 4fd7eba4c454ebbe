import { useApi } from '@backstage/frontend-plugin-api';
import { mockApis, renderInTestApp } from '@backstage/frontend-test-utils';
import kubernetesPlugin from '@backstage/plugin-kubernetes/alpha';
import { kubernetesAuthProvidersApiRef } from '@backstage/plugin-kubernetes-react';
import { screen } from '@testing-library/react';
import { useAsync } from 'react-use';
import { kmpKubernetesAuthModule } from './module';

function ShowAuth() {
  const providers = useApi(kubernetesAuthProvidersApiRef);
  const { value, error } = useAsync(async () => {
    const body = await providers.decorateRequestBodyForAuth('kmp', {
      entity: {
        apiVersion: 'backstage.io/v1alpha1',
        kind: 'Component',
        metadata: { name: 'checkout' },
      },
    });
    // A stock provider still works next to it.
    const serverSide = await providers.getCredentials('serviceAccount');
    return JSON.stringify({ auth: body.auth, serverSide });
  });
  return <div>{error ? `error: ${error.message}` : value ?? 'loading'}</div>;
}

describe('kmpKubernetesAuthModule', () => {
  it("gives the stock Kubernetes plugin a kmp provider with the user's token", async () => {
    await renderInTestApp(<ShowAuth />, {
      features: [kubernetesPlugin, kmpKubernetesAuthModule],
      apis: [
        mockApis.identity({
          userEntityRef: 'user:default/alice',
          token: 'alice-backstage-token',
        }),
      ],
    });
    expect(
      await screen.findByText(
        JSON.stringify({
          auth: { kmp: 'alice-backstage-token' },
          serverSide: {},
        }),
      ),
    ).toBeInTheDocument();
  });
});
