/**
 * Real Kubernetes control planes (etcd + kube-apiserver + essential
 * kube-controller-manager controllers, built from Go modules) for tests and
 * demos.
 *
 * @packageDocumentation
 */
export {
  Testbed,
  TestbedCluster,
  clusterNames,
  DEFAULT_APISERVER_TUNING,
  DEFAULT_GOMEMLIMIT,
} from './Testbed';
export type {
  TestbedOptions,
  KubeconfigOptions,
  KubeconfigAuth,
  ClusterState,
} from './Testbed';
export {
  ensureBinary,
  sourceHash,
  cacheBaseDir,
  goSourceDir,
  binaryPathFor,
  readBuildInfo,
  readLastBuildInfo,
} from './build';
export type {
  BuildInfo,
  EnsureBinaryOptions,
  EnsureBinaryResult,
} from './build';
export { applyFixtures, CRD_SOURCES, loadCrds } from './fixtures';
export type { FixtureOptions, FixtureResult, FixtureTarget } from './fixtures';
export { KubeRest, KubeApiError } from './rest';
export { liveProcessCount, readMemoryInfo } from './processes';
export type { MemoryInfo } from './processes';
export { useTestbed } from './jest';
export type { UseTestbedOptions } from './jest';
export { FakeKubelet, fakeLogLines, podOnNode } from './FakeKubelet';
export type {
  FakeExecRecord,
  FakeKubeletCluster,
  FakeKubeletOptions,
  FakeKubeletPodOptions,
  FakeKubeletRequest,
} from './FakeKubelet';
