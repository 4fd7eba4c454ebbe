import { SignInPage as CoreSignInPage } from '@backstage/core-components';
import type { SignInPageProps } from '@backstage/plugin-app-react';
import { oidcAuthApiRef } from './oidcAuthApiRef';

/** The demo identity provider's sign-in, and guest sign-in. */
export const oidcProvider = {
  id: 'oidc-auth-provider',
  title: 'Demo IdP (OIDC)',
  message:
    'Sign in as a demo persona: alice (developer), oscar (ops), petra (platform engineer) or eddie (edge operator)',
  apiRef: oidcAuthApiRef,
};

export function SignInPage(props: SignInPageProps) {
  return (
    <CoreSignInPage
      {...props}
      title="Sign in to KMP"
      align="center"
      providers={[oidcProvider, 'guest']}
    />
  );
}
