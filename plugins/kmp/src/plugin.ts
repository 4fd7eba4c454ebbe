import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { kmpApiRef, KmpClient } from './api';
import { auditRouteRef, breakGlassRouteRef, rootRouteRef } from './routes';

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
  routes: {
    root: rootRouteRef,
    audit: auditRouteRef,
    breakGlass: breakGlassRouteRef,
  },
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

/**
 * The audit explorer (legacy frontend system).
 *
 * @public
 */
export const KmpAuditPage = kmpPlugin.provide(
  createRoutableExtension({
    name: 'KmpAuditPage',
    component: () =>
      import('./components/AuditExplorer').then(m => m.AuditExplorer),
    mountPoint: auditRouteRef,
  }),
);

/**
 * Break-glass across the fleet: pending requests with four-eyes approve and
 * deny, active grants with revoke, history (legacy frontend system).
 *
 * @public
 */
export const KmpBreakGlassPage = kmpPlugin.provide(
  createRoutableExtension({
    name: 'KmpBreakGlassPage',
    component: () =>
      import('./components/BreakGlass').then(m => m.BreakGlassPage),
    mountPoint: breakGlassRouteRef,
  }),
);

/**
 * What the signed-in user works on, by persona: the KMP section of a home
 * page (legacy frontend system, or a home page layout of the new one).
 *
 * @public
 */
export const KmpPersonaHome = kmpPlugin.provide(
  createComponentExtension({
    name: 'KmpPersonaHome',
    component: {
      lazy: () => import('./components/PersonaHome').then(m => m.PersonaHome),
    },
  }),
);

/**
 * The KMP view of a `kubernetes-cluster` Resource entity: overview,
 * tenants, workloads with operational controls, GitOps, compliance, alerts,
 * kubeconfigs, ClickOps and audit history (legacy frontend system; use it
 * on an entity page route guarded by `isKmpClusterEntity`).
 *
 * @public
 */
export const EntityKmpClusterContent = kmpPlugin.provide(
  createComponentExtension({
    name: 'EntityKmpClusterContent',
    component: {
      lazy: () =>
        import('./components/ClusterPage').then(m => m.EntityKmpClusterContent),
    },
  }),
);

/**
 * The overview card of a cluster entity (legacy frontend system).
 *
 * @public
 */
export const EntityKmpClusterOverviewCard = kmpPlugin.provide(
  createComponentExtension({
    name: 'EntityKmpClusterOverviewCard',
    component: {
      lazy: () =>
        import('./components/ClusterPage').then(
          m => m.EntityKmpClusterOverviewCard,
        ),
    },
  }),
);
