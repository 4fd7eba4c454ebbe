#!/usr/bin/env node
/*
 * Writes the app-config fragment that registers the local demo fleet (started
 * by scripts/start.sh with kube-testbed) in the KMP registry. Credentials come
 * from the test bed's generated kubeconfigs and land only in a git-ignored
 * file; the registry encrypts them at rest.
 *
 *   node demoFleetConfig.js <testbed-dir> <output.yaml>
 */
const fs = require('node:fs');
const path = require('node:path');
const { parse, stringify } = require('yaml');

const [dir, output] = process.argv.slice(2);
if (!dir || !output) {
  console.error('usage: demoFleetConfig.js <testbed-dir> <output.yaml>');
  process.exit(2);
}

// name → where the demo puts it in the fleet
const fleet = {
  'payments-prod-eu1': {
    title: 'Payments production, EU 1',
    environmentGroup: 'payments-prod',
    region: 'eu-west-1',
    profile: 'production-hardened',
    owner: 'group:default/platform-team',
  },
  'payments-dev-eu1': {
    title: 'Payments development, EU 1',
    environmentGroup: 'payments-nonprod',
    region: 'eu-west-1',
    profile: 'standard',
    owner: 'group:default/platform-team',
  },
  'retail-store-0042': {
    title: 'Retail store 0042',
    environmentGroup: 'retail-edge',
    region: 'store-0042',
    profile: 'edge-minimal',
    owner: 'group:default/retail-ops',
  },
};

const clusters = Object.entries(fleet).map(([name, meta]) => {
  const kubeconfig = parse(
    fs.readFileSync(path.join(dir, `${name}.kubeconfig`), 'utf8'),
  );
  const cluster = kubeconfig.clusters[0].cluster;
  const user = kubeconfig.users[0].user;
  return {
    name,
    ...meta,
    distribution: 'kube-testbed',
    // Edge agents are not part of the demo yet: the edge cluster is
    // reached directly on loopback.
    connectivity: 'direct',
    apiServerUrl: cluster.server,
    credentials: {
      token: user.token,
      certificateAuthority: Buffer.from(
        cluster['certificate-authority-data'],
        'base64',
      ).toString('utf8'),
    },
  };
});

fs.writeFileSync(output, stringify({ kmp: { clusters } }), { mode: 0o600 });
console.error(
  `[kmp] demo fleet config written for ${clusters.map(c => c.name).join(', ')}`,
);
