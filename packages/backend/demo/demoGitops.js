#!/usr/bin/env node
/*
 * The demo's GitOps repositories: a real Git smart-HTTP server (`git
 * http-backend` behind a small Node server on 127.0.0.1, from
 * @kmp/plugin-kmp-node/testUtils) with one repository per environment group
 * of the demo, kept under <data-dir> across restarts. HTTP Basic auth with a
 * password generated on every start, which goes only into the git-ignored
 * app-config fragment written here (kmp.goldenPaths.gitops), so golden
 * paths, the portal's "Publish to Git" and GitOps policy distribution commit
 * somewhere real. Runs until stopped (SIGINT/SIGTERM).
 *
 *   node demoGitops.js <data-dir> <output.yaml> [--port 7020]
 *
 * Prints "demo GitOps ready: <base url>" once it serves.
 */
require('@backstage/cli/config/nodeTransform.cjs');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { stringify } = require('yaml');
const { startGitServer } = require('@kmp/plugin-kmp-node/testUtils');

/** The demo's environment groups (app-config.yaml) and their repositories. */
const GROUPS = ['payments-prod', 'payments-nonprod', 'retail-edge'];

async function main() {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args.splice(portAt, 2)[1]) : 7020;
  const [dataDir, output] = args;
  if (!dataDir || !output || !Number.isInteger(port)) {
    console.error(
      'usage: demoGitops.js <data-dir> <output.yaml> [--port 7020]',
    );
    process.exit(2);
  }
  const auth = {
    username: 'kmp',
    password: crypto.randomBytes(24).toString('base64url'),
  };
  const server = await startGitServer({ auth, root: dataDir, port });
  const repositories = [];
  for (const group of GROUPS) {
    const url = await server.createRepo(`${group}-gitops`, {
      files: {
        'README.md':
          `# ${group} GitOps repository (KMP demo)\n\n` +
          'Declared configuration of the clusters of this environment group, ' +
          'one folder per cluster and namespace. KMP publishes here; a GitOps ' +
          'engine would apply it.\n',
      },
    });
    repositories.push({
      environmentGroup: group,
      url,
      branch: 'main',
      auth: { ...auth },
    });
  }
  fs.writeFileSync(
    output,
    `# Written by packages/backend/demo/demoGitops.js on every start.\n${stringify(
      { kmp: { goldenPaths: { gitops: { repositories } } } },
    )}`,
    { mode: 0o600 },
  );
  process.stdout.write(`demo GitOps ready: ${server.baseUrl}\n`);

  const stop = () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch(error => {
  console.error(`demo GitOps failed: ${error.message ?? error}`);
  process.exit(1);
});
