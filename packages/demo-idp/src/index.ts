/**
 * A small OpenID Connect provider with the demo users of each KMP persona,
 * for the local demo (scripts/start.sh) and sign-in tests.
 *
 * @packageDocumentation
 */
export { startDemoIdp } from './DemoIdp';
export type { DemoIdp, DemoIdpClient, DemoIdpOptions } from './DemoIdp';
export { demoUsers, checkDemoLogin } from './users';
export type { DemoUser } from './users';
export { loginFormSelectors } from './pages';
export {
  backstageOidcAuthConfig,
  backstageOidcRedirectUri,
} from './backstageConfig';
export type { BackstageOidcClientOptions } from './backstageConfig';
