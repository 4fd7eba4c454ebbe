import type { DemoIdp } from './DemoIdp';

/** The Backstage client of the demo provider. */
export interface BackstageOidcClientOptions {
  clientId: string;
  clientSecret: string;
  /** Auth backend environment (`auth.environment`); default `development`. */
  environment?: string;
  /** Secret of the auth backend's session (it keeps the PKCE verifier). */
  sessionSecret: string;
}

/**
 * The `auth` configuration that signs Backstage users in through the demo
 * provider with `@backstage/plugin-auth-backend-module-oidc-provider`: the
 * email's local part names the catalog User (alice@kmp.example →
 * user:default/alice), so ownership comes from the catalog's groups.
 * `prompt: login` shows the login page on every sign-in, which lets one
 * browser switch between personas.
 */
export function backstageOidcAuthConfig(
  idp: Pick<DemoIdp, 'discoveryUrl'>,
  options: BackstageOidcClientOptions,
) {
  return {
    session: { secret: options.sessionSecret },
    providers: {
      oidc: {
        [options.environment ?? 'development']: {
          metadataUrl: idp.discoveryUrl,
          clientId: options.clientId,
          clientSecret: options.clientSecret,
          prompt: 'login',
          additionalScopes: ['groups'],
          signIn: {
            resolvers: [
              {
                resolver: 'emailLocalPartMatchingUserEntityName',
                allowedDomains: ['kmp.example'],
              },
            ],
          },
        },
      },
    },
  };
}

/** The redirect URI of Backstage's OIDC provider for a backend base URL. */
export function backstageOidcRedirectUri(backendBaseUrl: string): string {
  return `${backendBaseUrl.replace(/\/$/, '')}/api/auth/oidc/handler/frame`;
}
