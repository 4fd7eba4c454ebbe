/*
 * demo-idp CLI: runs the demo identity provider for the local demo and
 * writes the matching Backstage configuration.
 *
 *   demo-idp [--port 7010] [--issuer URL] [--backstage-url URL]
 *            [--client-id ID] [--client-secret SECRET] [--backstage-config FILE]
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startDemoIdp } from './DemoIdp';
import {
  backstageOidcAuthConfig,
  backstageOidcRedirectUri,
} from './backstageConfig';

const USAGE = `usage: demo-idp [options]
  --port N                 port (default 7010)
  --issuer URL             issuer (default http://localhost:<port>)
  --backstage-url URL      Backstage backend base URL (default http://localhost:7007)
  --client-id ID           Backstage's client id (default backstage)
  --client-secret SECRET   Backstage's client secret (default: random per start)
  --backstage-config FILE  write the Backstage auth config (oidc provider,
                           session secret) for this provider to FILE
Demo only: each demo user's password is the username. Refuses NODE_ENV=production.`;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '7010' },
      issuer: { type: 'string' },
      'backstage-url': { type: 'string', default: 'http://localhost:7007' },
      'client-id': { type: 'string', default: 'backstage' },
      'client-secret': { type: 'string' },
      'backstage-config': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`invalid --port ${values.port}`);
  }
  const clientId = values['client-id']!;
  const clientSecret =
    values['client-secret'] ?? crypto.randomBytes(24).toString('base64url');
  const backstageUrl = values['backstage-url']!;

  const idp = await startDemoIdp({
    port,
    issuer: values.issuer,
    clients: [
      {
        clientId,
        clientSecret,
        clientName: 'KMP (Backstage)',
        redirectUris: [backstageOidcRedirectUri(backstageUrl)],
      },
    ],
    log: message => process.stderr.write(`${message}\n`),
  });

  if (values['backstage-config']) {
    const file = path.resolve(values['backstage-config']);
    const config = {
      auth: backstageOidcAuthConfig(idp, {
        clientId,
        clientSecret,
        sessionSecret: crypto.randomBytes(32).toString('base64url'),
      }),
    };
    fs.mkdirSync(path.dirname(file), { recursive: true });
    // JSON is YAML; the file holds secrets, so only the owner reads it.
    fs.writeFileSync(
      file,
      `# Written by demo-idp for ${
        idp.issuer
      }; regenerated on every start.\n${JSON.stringify(config, null, 2)}\n`,
      { mode: 0o600 },
    );
    fs.chmodSync(file, 0o600);
  }

  process.stderr.write(
    `demo-idp: issuer ${idp.issuer}, demo users ${idp.users
      .map(u => u.username)
      .join(', ')} (password = username, demo only)\n`,
  );
  process.stdout.write(`demo-idp: ready, Ctrl-C to stop\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await idp.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch(error => {
  process.stderr.write(`demo-idp: ${error?.message ?? error}\n`);
  process.exit(1);
});
