import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
  PageBlueprint,
} from '@backstage/frontend-plugin-api';
import { convertLegacyRouteRef } from '@backstage/core-compat-api';
import CloudIcon from '@material-ui/icons/Cloud';
import VerifiedUserIcon from '@material-ui/icons/VerifiedUser';
import LockOpenIcon from '@material-ui/icons/LockOpen';
import { FormFieldBlueprint } from '@backstage/plugin-scaffolder-react/alpha';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { kmpApiRef, KmpClient } from './api';
import { isKmpClusterEntity } from './hooks';
import { auditRouteRef, breakGlassRouteRef, rootRouteRef } from './routes';

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

const auditPage = PageBlueprint.make({
  name: 'audit',
  params: {
    path: '/kmp/audit',
    title: 'Audit',
    icon: <VerifiedUserIcon />,
    routeRef: convertLegacyRouteRef(auditRouteRef),
    loader: () =>
      import('./components/AuditExplorer').then(m => <m.AuditExplorer />),
  },
});

const breakGlassPage = PageBlueprint.make({
  name: 'break-glass',
  params: {
    path: '/kmp/break-glass',
    title: 'Break-glass',
    icon: <LockOpenIcon />,
    routeRef: convertLegacyRouteRef(breakGlassRouteRef),
    loader: () =>
      import('./components/BreakGlass').then(m => <m.BreakGlassPage />),
  },
});

// Cluster entities (Resource, spec.type kubernetes-cluster): a KMP tab and
// an overview card.
const clusterEntityContent = EntityContentBlueprint.make({
  name: 'cluster',
  params: {
    path: '/kmp',
    title: 'Cluster',
    group: 'operation',
    filter: isKmpClusterEntity,
    loader: () =>
      import('./components/ClusterPage').then(m => (
        <m.EntityKmpClusterContent />
      )),
  },
});

const clusterOverviewCard = EntityCardBlueprint.make({
  name: 'cluster-overview',
  params: {
    type: 'info',
    filter: isKmpClusterEntity,
    loader: () =>
      import('./components/ClusterPage').then(m => (
        <m.EntityKmpClusterOverviewCard />
      )),
  },
});

// Scaffolder form fields: ui:field KmpClusterPicker and KmpSizeTierPicker.
const clusterPickerField = FormFieldBlueprint.make({
  name: 'cluster-picker',
  params: {
    field: () =>
      import('./scaffolder/formFields').then(m => m.kmpClusterPickerFormField),
  },
});

const sizeTierPickerField = FormFieldBlueprint.make({
  name: 'size-tier-picker',
  params: {
    field: () =>
      import('./scaffolder/formFields').then(m => m.kmpSizeTierPickerFormField),
  },
});

/**
 * The KMP frontend plugin (new frontend system).
 *
 * @alpha
 */
export default createFrontendPlugin({
  pluginId: 'kmp',
  extensions: [
    kmpApi,
    fleetPage,
    auditPage,
    breakGlassPage,
    clusterEntityContent,
    clusterOverviewCard,
    clusterPickerField,
    sizeTierPickerField,
  ],
  routes: {
    root: convertLegacyRouteRef(rootRouteRef),
    audit: convertLegacyRouteRef(auditRouteRef),
    breakGlass: convertLegacyRouteRef(breakGlassRouteRef),
  },
});

/**
 * Lets the stock Kubernetes plugin read clusters behind the KMP broker as the
 * signed-in user (auth provider `kmp`).
 *
 * @alpha
 */
export { kmpKubernetesAuthModule } from './kubernetes/module';
