import { createFrontendModule } from '@backstage/frontend-plugin-api';
import { SignInPageBlueprint } from '@backstage/plugin-app-react';
import { oidcAuthApi } from './oidcAuthApi';

export { oidcAuthApiRef } from './oidcAuthApiRef';

const signInPage = SignInPageBlueprint.make({
  params: {
    loader: () => import('./SignInPage').then(m => m.SignInPage),
  },
});

/** Sign-in page (demo IdP over OIDC, and guest) and the OIDC auth API. */
export const signInModule = createFrontendModule({
  pluginId: 'app',
  extensions: [oidcAuthApi, signInPage],
});
