import { distributionHint } from './probeCluster';

describe('distributionHint', () => {
  it.each([
    ['v1.33.5+k3s1', [], 'k3s'],
    ['v1.32.4+rke2r1', [], 'rke2'],
    ['v1.31.2-eks-7f9249a', [], 'eks'],
    ['v1.30.5-gke.1014001', [], 'gke'],
    ['v1.34.2', ['azure:///subscriptions/x'], 'aks'],
    ['v1.34.2', ['kind://docker/kind/kind-control-plane'], 'kind'],
    ['v1.34.2', [], undefined],
  ])('reads %s %j as %s', (version, providers, expected) => {
    expect(distributionHint(version, providers)).toBe(expected);
  });
});
