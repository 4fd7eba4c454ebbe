import {
  createApiFactory,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { kmpApiRef, KmpClient } from './api';
import { rootRouteRef } from './routes';

/**
 * The KMP frontend plugin (legacy frontend system).
 *
 * @public
 */
export const kmpPlugin = createPlugin({
  id: 'kmp',
  apis: [
    createApiFactory({
      api: kmpApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new KmpClient(deps),
    }),
  ],
  routes: { root: rootRouteRef },
});

/**
 * The fleet page (legacy frontend system).
 *
 * @public
 */
export const KmpFleetPage = kmpPlugin.provide(
  createRoutableExtension({
    name: 'KmpFleetPage',
    component: () => import('./components/FleetPage').then(m => m.FleetPage),
    mountPoint: rootRouteRef,
  }),
);
