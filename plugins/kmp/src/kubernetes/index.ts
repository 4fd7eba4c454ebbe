export {
  KMP_KUBERNETES_AUTH_PROVIDER,
  KmpKubernetesAuthProvider,
  KmpKubernetesAuthProviders,
} from './KmpKubernetesAuthProviders';
