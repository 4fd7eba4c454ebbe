import {
  createApiRef,
  type BackstageIdentityApi,
  type OpenIdConnectApi,
  type ProfileInfoApi,
  type SessionApi,
} from '@backstage/frontend-plugin-api';

/**
 * Sign-in through the auth backend's `oidc` provider
 * (`@backstage/plugin-auth-backend-module-oidc-provider`); in the local demo
 * that is the demo identity provider of packages/demo-idp.
 */
export const oidcAuthApiRef = createApiRef<
  OpenIdConnectApi & ProfileInfoApi & BackstageIdentityApi & SessionApi
>({ id: 'kmp.auth.oidc' });
