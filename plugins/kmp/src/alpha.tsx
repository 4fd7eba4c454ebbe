import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { convertLegacyRouteRef } from '@backstage/core-compat-api';
import CloudIcon from '@material-ui/icons/Cloud';
import { kmpApiRef, KmpClient } from './api';
import { rootRouteRef } from './routes';

const kmpApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: kmpApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: deps => new KmpClient(deps),
    }),
});

const fleetPage = PageBlueprint.make({
  params: {
    path: '/kmp',
    title: 'Kubernetes Fleet',
    icon: <CloudIcon />,
    routeRef: convertLegacyRouteRef(rootRouteRef),
    loader: () => import('./components/FleetPage').then(m => <m.FleetPage />),
  },
});

/**
 * The KMP frontend plugin (new frontend system).
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'kmp',
  extensions: [kmpApi, fleetPage],
  routes: { root: convertLegacyRouteRef(rootRouteRef) },
});
