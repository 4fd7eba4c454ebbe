/**
 * Kubernetes backend module of KMP: the `kmp` auth strategy, with which the
 * stock Kubernetes plugin reaches clusters through the KMP access broker as
 * the signed-in user.
 *
 * @packageDocumentation
 */

export { kubernetesModuleKmp as default } from './module';
export {
  KMP_AUTH_PROVIDER,
  KmpBrokerAuthStrategy,
} from './KmpBrokerAuthStrategy';
