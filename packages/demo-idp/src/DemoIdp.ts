/*
 * A small OpenID Connect provider for the local demo and the tests: the
 * demo users of each persona, a real login page without a consent step,
 * authorization code flow with PKCE only, signing keys generated at start
 * and everything else held in memory.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, {
  type Adapter,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { createInMemoryAdapter } from './InMemoryAdapter';
import { errorPage, loginPage } from './pages';
import { checkDemoLogin, demoUsers, type DemoUser } from './users';

/** A relying party registered with the demo provider. */
export interface DemoIdpClient {
  clientId: string;
  /**
   * Secret for `client_secret_basic` / `client_secret_post`; omit for a
   * public client (PKCE without client authentication).
   */
  clientSecret?: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** Shown on the login page; defaults to the client id. */
  clientName?: string;
}

export interface DemoIdpOptions {
  /**
   * Port to listen on; defaults to the issuer's port, or any free port when
   * neither is given.
   */
  port?: number;
  /** Interface to listen on; loopback by default. */
  host?: string;
  /** Issuer URL; defaults to `http://localhost:<port>`. */
  issuer?: string;
  /** Clients known from the start; more can be added with `addClient`. */
  clients: DemoIdpClient[];
  /** Defaults to {@link demoUsers}. */
  users?: readonly DemoUser[];
  /** Sign-ins, refusals and provider errors (never credentials). */
  log?: (message: string) => void;
}

export interface DemoIdp {
  issuer: string;
  /** `<issuer>/.well-known/openid-configuration` */
  discoveryUrl: string;
  port: number;
  users: readonly DemoUser[];
  /**
   * Registers another client, for relying parties whose redirect URI is known
   * only once they run (a test backend on a random port).
   */
  addClient(client: DemoIdpClient): Promise<void>;
  stop(): Promise<void>;
}

const MAX_FORM_BYTES = 16 * 1024;
const HOURS = 60 * 60;

/**
 * Starts the demo identity provider. Refuses to run with
 * NODE_ENV=production: its users' passwords are their usernames.
 */
export async function startDemoIdp(options: DemoIdpOptions): Promise<DemoIdp> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error(
      'The demo identity provider is for the local demo and tests only and refuses to run with NODE_ENV=production',
    );
  }
  const { clients, users = demoUsers, log = () => {} } = options;
  const issuerUrl = options.issuer ? new URL(options.issuer) : undefined;
  if (issuerUrl && !['http:', 'https:'].includes(issuerUrl.protocol)) {
    throw new Error(`startDemoIdp: invalid issuer ${options.issuer}`);
  }

  let handle: http.RequestListener = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = http.createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(
      options.port ?? (issuerUrl?.port ? Number(issuerUrl.port) : 0),
      options.host ?? '127.0.0.1',
      () => {
        server.off('error', reject);
        resolve();
      },
    );
  });
  const { port } = server.address() as AddressInfo;
  const issuer = (issuerUrl?.href ?? `http://localhost:${port}`).replace(
    /\/$/,
    '',
  );

  const stop = () =>
    new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const adapter = createInMemoryAdapter();
  let provider: Provider;
  try {
    provider = new Provider(
      issuer,
      createConfiguration({ clients, users, adapter }),
    );
    // Fail at start, not at the first sign-in, on a malformed client.
    for (const client of clients) {
      await validateClient(provider, client);
    }
    provider.on('server_error', (_ctx, error) =>
      log(`demo-idp: provider error: ${error.message}`),
    );
    const providerHandler = provider.callback();
    handle = (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const match = /^\/interaction\/([\w-]+)(\/login)?$/.exec(path);
      if (!match) {
        providerHandler(req, res);
        return;
      }
      handleInteraction(
        provider,
        users,
        log,
        req,
        res,
        Boolean(match[2]),
      ).catch(error => {
        log(`demo-idp: interaction failed: ${error.message}`);
        if (res.headersSent) {
          res.end();
        } else if (error.name === 'SessionNotFound') {
          // No interaction cookie, or the interaction expired.
          sendHtml(
            res,
            400,
            errorPage(
              'Sign-in failed',
              'This sign-in request has expired or is unknown. Start the sign-in again from the application.',
            ),
          );
        } else if (error.name === 'PayloadTooLargeError') {
          sendHtml(res, 413, errorPage('Sign-in failed', 'Form too large.'));
        } else {
          sendHtml(res, 500, errorPage('Sign-in failed', 'Internal error.'));
        }
      });
    };
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    issuer,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    port,
    users,
    async addClient(client) {
      const metadata = clientMetadata(client);
      if (await provider.Client.find(client.clientId)) {
        throw new Error(`demo-idp: client ${client.clientId} exists already`);
      }
      await validateClient(provider, client);
      await adapter('Client').upsert(client.clientId, metadata);
    },
    stop,
  };
}

async function validateClient(provider: Provider, client: DemoIdpClient) {
  try {
    await provider.Client.validate(clientMetadata(client));
  } catch (error) {
    const { message, error_description: description } = error as {
      message: string;
      error_description?: string;
    };
    throw new Error(
      `demo-idp: invalid client ${client.clientId}: ${description ?? message}`,
    );
  }
}

function clientMetadata(client: DemoIdpClient): ClientMetadata {
  return {
    client_id: client.clientId,
    client_name: client.clientName ?? client.clientId,
    ...(client.clientSecret
      ? {
          client_secret: client.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
        }
      : { token_endpoint_auth_method: 'none' }),
    redirect_uris: client.redirectUris,
    post_logout_redirect_uris: client.postLogoutRedirectUris ?? [],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
  };
}

function createConfiguration(options: {
  clients: DemoIdpClient[];
  users: readonly DemoUser[];
  adapter: (model: string) => Adapter;
}): Configuration {
  const { clients, users, adapter } = options;
  // A fresh signing key per start; it never touches the disk.
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
  });
  const signingKey = {
    ...privateKey.export({ format: 'jwk' }),
    kid: crypto.randomUUID(),
    alg: 'RS256',
    use: 'sig',
  };

  return {
    adapter,
    clients: clients.map(clientMetadata),
    jwks: { keys: [signingKey as any] },
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    // The ID token carries the profile claims too (one round trip for tests
    // and simple relying parties); userinfo has them as well.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const user = users.find(u => u.username === sub);
      if (!user) {
        return undefined;
      }
      return {
        accountId: user.username,
        async claims() {
          return {
            sub: user.username,
            preferred_username: user.username,
            name: user.name,
            email: user.email,
            email_verified: true,
            groups: [...user.groups],
          };
        },
      };
    },
    features: {
      devInteractions: { enabled: false },
      // Relying parties revoke their refresh tokens on sign-out; a client
      // may revoke only its own.
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, client, token) =>
          token.clientId === client.clientId,
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.type = 'html';
          ctx.body = `<!DOCTYPE html><html><body>${form}<p>Sign out of the KMP demo identity provider?</p><button id="sign-out" type="submit" form="op.logoutForm" value="yes" name="logout">Sign out</button></body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = 'html';
          ctx.body = errorPage('Signed out', 'You are signed out.');
        },
      },
    },
    responseTypes: ['code'],
    pkce: { required: () => true },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    // No consent step: every client is a first-party demo client, so the
    // requested scopes and claims are granted as soon as the user signs in.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { oidc } = ctx;
      const client = oidc.client!;
      const accountId = oidc.session!.accountId!;
      const grantId =
        (oidc.result?.consent as { grantId?: string } | undefined)?.grantId ??
        oidc.session!.grantIdFor(client.clientId);
      const grant =
        (grantId && (await oidc.provider.Grant.find(grantId))) ||
        new oidc.provider.Grant({ clientId: client.clientId, accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    // Refresh tokens for every client allowed the grant, so that Backstage
    // keeps its session across page loads without `offline_access`.
    issueRefreshToken: async (_ctx, client) =>
      client.grantTypeAllowed('refresh_token'),
    ttl: {
      AccessToken: 1 * HOURS,
      AuthorizationCode: 60,
      IdToken: 1 * HOURS,
      Interaction: 1 * HOURS,
      RefreshToken: 12 * HOURS,
      Session: 12 * HOURS,
      Grant: 12 * HOURS,
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = errorPage(
        'Sign-in failed',
        [out.error, out.error_description].filter(Boolean).join(': '),
      );
    },
  };
}

async function handleInteraction(
  provider: Provider,
  users: readonly DemoUser[],
  log: (message: string) => void,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  isSubmit: boolean,
) {
  const details = await provider.interactionDetails(req, res);
  const client = await provider.Client.find(String(details.params.client_id));
  const clientName = client?.clientName ?? String(details.params.client_id);

  if (!isSubmit) {
    if (req.method !== 'GET') {
      sendHtml(res, 405, errorPage('Method not allowed', req.method ?? ''));
      return;
    }
    sendHtml(res, 200, loginPage({ uid: details.uid, clientName, users }));
    return;
  }

  if (req.method !== 'POST') {
    sendHtml(res, 405, errorPage('Method not allowed', req.method ?? ''));
    return;
  }
  const form = await readForm(req);
  const username = form.get('username') ?? '';
  const user = checkDemoLogin(users, username, form.get('password') ?? '');
  if (!user) {
    log(`demo-idp: refused sign-in of "${username}" to ${clientName}`);
    sendHtml(
      res,
      401,
      loginPage({
        uid: details.uid,
        clientName,
        users,
        username,
        error: 'Unknown user or wrong password.',
      }),
    );
    return;
  }
  log(`demo-idp: ${user.username} signed in to ${clientName}`);
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.username } },
    { mergeWithLastSubmission: false },
  );
}

function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new Promise((resolve, reject) => {
    let body = '';
    let tooLarge = false;
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      // Past the limit the rest is read and dropped, so that the client
      // gets its 413 instead of a reset connection.
      tooLarge ||= body.length + chunk.length > MAX_FORM_BYTES;
      if (!tooLarge) {
        body += chunk;
      }
    });
    req.on('end', () => {
      if (tooLarge) {
        const error = new Error('form too large');
        error.name = 'PayloadTooLargeError';
        reject(error);
      } else {
        resolve(new URLSearchParams(body));
      }
    });
    req.on('error', reject);
  });
}

function sendHtml(res: http.ServerResponse, status: number, html: string) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(html);
}
