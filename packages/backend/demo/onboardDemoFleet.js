#!/usr/bin/env node
/*
 * Onboards the demo fleet the way a platform team onboards a real one, so
 * that the demo users can work through the broker:
 *
 * - the platform's generic persona RBAC, the same on every cluster (no
 *   per-cluster bespoke objects): KMP impersonates `kmp:persona:<persona>`,
 *   platform engineers are cluster admins, ops and edge operators read the
 *   whole cluster; everything finer is KMP's persona policy;
 * - the fixtures' `team-payments` namespace as that team's tenant namespace:
 *   the `kmp.backstage.io/team` label and the RoleBindings the tenant
 *   namespace golden path creates (DEFAULT_ROLE_BINDINGS of the scaffolder
 *   module: the team and ops edit outside production, view in production);
 * - read access to the GitOps engines' objects (Flux, Argo CD) for whoever
 *   may view a namespace, aggregated into the built-in `view` role as the
 *   engines' own charts do, so that the cluster page shows GitOps state.
 *
 * Server-side apply (field manager kmp-demo), so re-running converges.
 *
 *   node onboardDemoFleet.js <testbed-dir> [cluster=environment ...]
 *
 * The test bed's kubeconfigs (token auth) are read from <testbed-dir>.
 */
const fs = require('node:fs');
const https = require('node:https');
const path = require('node:path');
const { parse } = require('yaml');

const TEAM_LABEL = 'kmp.backstage.io/team';
const FIELD_MANAGER = 'kmp-demo';

/** The demo fleet's clusters and their environments. */
const DEMO_ENVIRONMENTS = {
  'payments-prod-eu1': 'production',
  'payments-dev-eu1': 'non-production',
  'retail-store-0042': 'edge',
};

const rbac = 'rbac.authorization.k8s.io';
const group = name => ({ apiGroup: rbac, kind: 'Group', name });

function clusterRoleBinding(name, clusterRole, subjects) {
  return {
    apiVersion: `${rbac}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kmp' } },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: clusterRole },
    subjects,
  };
}

function roleBinding(namespace, name, clusterRole, subjects) {
  return {
    apiVersion: `${rbac}/v1`,
    kind: 'RoleBinding',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'kmp' },
    },
    roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: clusterRole },
    subjects,
  };
}

/** Read access to GitOps objects, aggregated into `view`/`edit`/`admin`. */
const GITOPS_VIEW_ROLE = {
  apiVersion: `${rbac}/v1`,
  kind: 'ClusterRole',
  metadata: {
    name: 'kmp-gitops-view',
    labels: {
      'app.kubernetes.io/managed-by': 'kmp',
      [`${rbac}/aggregate-to-view`]: 'true',
    },
  },
  rules: [
    {
      apiGroups: [
        'source.toolkit.fluxcd.io',
        'kustomize.toolkit.fluxcd.io',
        'helm.toolkit.fluxcd.io',
      ],
      resources: ['*'],
      verbs: ['get', 'list', 'watch'],
    },
    {
      apiGroups: ['argoproj.io'],
      resources: ['applications', 'applicationsets', 'appprojects'],
      verbs: ['get', 'list', 'watch'],
    },
  ],
};

/** The objects one cluster of the given environment gets. */
function onboardingObjects(environment) {
  const production = environment === 'production';
  const team = 'team-payments';
  return [
    GITOPS_VIEW_ROLE,
    clusterRoleBinding('kmp-persona-platform-engineer', 'cluster-admin', [
      group('kmp:persona:platform-engineer'),
    ]),
    clusterRoleBinding('kmp-persona-readers', 'view', [
      group('kmp:persona:ops'),
      group('kmp:persona:edge-operator'),
    ]),
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: team,
        labels: { [TEAM_LABEL]: team },
        // Ownership as the golden path records it; the policy baseline
        // requires the same on the team's workloads.
        annotations: {
          'kmp.backstage.io/owner': `group:default/${team}`,
          'kmp.backstage.io/cost-centre': 'cc-payments-1001',
        },
      },
    },
    roleBinding(team, 'kmp-team', production ? 'view' : 'edit', [
      group(`group:default/${team}`),
    ]),
    roleBinding(team, 'kmp-ops', production ? 'view' : 'edit', [
      group('kmp:persona:ops'),
    ]),
    ...(environment === 'edge'
      ? [
          roleBinding(team, 'kmp-edge-operator', 'edit', [
            group('kmp:persona:edge-operator'),
          ]),
        ]
      : []),
  ];
}

function objectPath(object) {
  const name = encodeURIComponent(object.metadata.name);
  switch (object.kind) {
    case 'Namespace':
      return `/api/v1/namespaces/${name}`;
    case 'ClusterRole':
      return `/apis/${rbac}/v1/clusterroles/${name}`;
    case 'ClusterRoleBinding':
      return `/apis/${rbac}/v1/clusterrolebindings/${name}`;
    case 'RoleBinding':
      return `/apis/${rbac}/v1/namespaces/${encodeURIComponent(
        object.metadata.namespace,
      )}/rolebindings/${name}`;
    default:
      throw new Error(`no path for ${object.kind}`);
  }
}

/** Server-side apply of one object with the kubeconfig's token and CA. */
function apply(cluster, object) {
  const url = new URL(
    `${cluster.server.replace(/\/$/, '')}${objectPath(object)}`,
  );
  url.searchParams.set('fieldManager', FIELD_MANAGER);
  url.searchParams.set('force', 'true');
  const body = JSON.stringify(object);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: 'PATCH',
        ca: cluster.ca,
        timeout: 15000,
        headers: {
          authorization: `Bearer ${cluster.token}`,
          'content-type': 'application/apply-patch+yaml',
          'content-length': Buffer.byteLength(body),
        },
      },
      res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode >= 200 && res.statusCode < 300) {
            resolve();
            return;
          }
          let message = Buffer.concat(chunks).toString('utf8');
          try {
            message = JSON.parse(message).message ?? message;
          } catch {
            // not a Status: keep the text
          }
          reject(
            new Error(
              `${object.kind} ${object.metadata.name}: ${res.statusCode} ${message}`,
            ),
          );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function readCluster(dir, name) {
  const kubeconfig = parse(
    fs.readFileSync(path.join(dir, `${name}.kubeconfig`), 'utf8'),
  );
  const cluster = kubeconfig.clusters[0].cluster;
  return {
    server: cluster.server,
    ca: Buffer.from(cluster['certificate-authority-data'], 'base64'),
    token: kubeconfig.users[0].user.token,
  };
}

/** Onboards every listed cluster; resolves when all objects are applied. */
async function onboardDemoFleet(dir, environments = DEMO_ENVIRONMENTS) {
  for (const [name, environment] of Object.entries(environments)) {
    const cluster = readCluster(dir, name);
    for (const object of onboardingObjects(environment)) {
      await apply(cluster, object);
    }
  }
}

module.exports = { onboardDemoFleet, onboardingObjects, DEMO_ENVIRONMENTS };

if (require.main === module) {
  const [dir, ...pairs] = process.argv.slice(2);
  if (!dir) {
    console.error(
      'usage: onboardDemoFleet.js <testbed-dir> [cluster=environment ...]',
    );
    process.exit(2);
  }
  const environments = pairs.length
    ? Object.fromEntries(pairs.map(p => p.split('=')))
    : DEMO_ENVIRONMENTS;
  onboardDemoFleet(dir, environments).then(
    () =>
      console.error(
        `[kmp] demo fleet onboarded: ${Object.keys(environments).join(', ')}`,
      ),
    error => {
      console.error(`[kmp] onboarding the demo fleet failed: ${error.message}`);
      process.exit(1);
    },
  );
}
