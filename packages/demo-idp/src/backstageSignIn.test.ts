/*
 * End-to-end sign-in of a real Backstage backend (auth backend + OIDC
 * module + catalog with the demo organisation) through the demo provider,
 * driven over plain HTTP like a browser's sign-in popup.
 */
import path from 'node:path';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import authPlugin from '@backstage/plugin-auth-backend';
import oidcModule from '@backstage/plugin-auth-backend-module-oidc-provider';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { startDemoIdp, type DemoIdp } from './DemoIdp';
import {
  backstageOidcAuthConfig,
  backstageOidcRedirectUri,
} from './backstageConfig';
import { demoUsers, type DemoUser } from './users';
import { TestBrowser, loginFormAction } from './__testUtils__/browser';

const ORG_FILE = path.resolve(__dirname, '../../backend/demo/org.yaml');

// Demo users plus two the catalog does not know or whose domain is wrong.
const USERS: DemoUser[] = [
  ...demoUsers,
  {
    username: 'mallory',
    name: 'Mallory',
    email: 'mallory@kmp.example',
    groups: [],
    persona: 'not in the catalog',
  },
  {
    username: 'trudy',
    name: 'Trudy',
    email: 'alice@elsewhere.example',
    groups: [],
    persona: 'email outside the allowed domain',
  },
];

interface AuthResponse {
  type: string;
  response?: {
    profile: { email?: string; displayName?: string };
    backstageIdentity: {
      token: string;
      identity: { userEntityRef: string; ownershipEntityRefs: string[] };
    };
  };
  error?: { name: string; message: string };
}

/** The message Backstage's handler page posts to the app window. */
function parseHandlerPage(html: string): AuthResponse {
  const match = /var authResponse = decodeURIComponent\('([^']*)'\)/.exec(html);
  if (!match) {
    throw new Error(`no auth response in page:\n${html.slice(0, 500)}`);
  }
  return JSON.parse(decodeURIComponent(match[1]));
}

describe('Backstage sign-in through the demo identity provider', () => {
  let idp: DemoIdp;
  let baseUrl: string;

  beforeAll(async () => {
    idp = await startDemoIdp({ clients: [], users: USERS });
    const backend = await startTestBackend({
      features: [
        authPlugin,
        oidcModule,
        catalogPlugin,
        mockServices.rootConfig.factory({
          data: {
            app: { baseUrl: 'http://localhost:3000' },
            auth: {
              environment: 'development',
              ...backstageOidcAuthConfig(idp, {
                clientId: 'backstage',
                clientSecret: 'backstage-secret',
                sessionSecret: 'test-session-secret',
              }),
            },
            catalog: {
              locations: [
                {
                  type: 'file',
                  target: ORG_FILE,
                  rules: [{ allow: ['User', 'Group'] }],
                },
              ],
            },
          },
        }),
      ],
    });
    baseUrl = `http://localhost:${backend.server.port()}`;
    await idp.addClient({
      clientId: 'backstage',
      clientSecret: 'backstage-secret',
      redirectUris: [backstageOidcRedirectUri(baseUrl)],
    });

    // The catalog has processed the demo organisation.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(
        `${baseUrl}/api/catalog/entities/by-name/user/default/alice`,
        { headers: { authorization: 'Bearer mock-user-token' } },
      );
      const alice = res.ok ? await res.json() : undefined;
      if (alice?.relations?.some((r: any) => r.type === 'memberOf')) break;
      if (Date.now() > deadline) throw new Error('catalog not ready');
      await new Promise(r => setTimeout(r, 250));
    }
  }, 90_000);

  afterAll(() => idp?.stop());

  /** The popup's journey: start → IdP login → Backstage handler page. */
  async function signIn(username: string, password: string) {
    const browser = new TestBrowser();
    const start = `${baseUrl}/api/auth/oidc/start?env=development&scope=${encodeURIComponent(
      'openid profile email',
    )}`;
    const login = await browser.follow(start);
    expect(login.url.startsWith(idp.issuer)).toBe(true);
    const html = await login.response!.text();
    const action = loginFormAction(html, login.url);
    const done = await browser.follow(action, {
      form: { username, password },
    });
    return { browser, done };
  }

  it('signs alice in as user:default/alice owning group:default/team-payments', async () => {
    const { browser, done } = await signIn('alice', 'alice');
    expect(done.url.split('?')[0]).toBe(
      `${baseUrl}/api/auth/oidc/handler/frame`,
    );
    expect(done.response!.status).toBe(200);
    const message = parseHandlerPage(await done.response!.text());
    expect(message.error).toBeUndefined();
    expect(message.type).toBe('authorization_response');
    const { profile, backstageIdentity } = message.response!;
    expect(profile).toMatchObject({
      email: 'alice@kmp.example',
      displayName: 'Alice Developer',
    });
    expect(backstageIdentity.identity).toMatchObject({
      userEntityRef: 'user:default/alice',
      ownershipEntityRefs: expect.arrayContaining([
        'user:default/alice',
        'group:default/team-payments',
      ]),
    });
    expect(backstageIdentity.identity.ownershipEntityRefs).toHaveLength(2);

    // The Backstage token is signed by the auth backend and names alice.
    const { payload } = await jwtVerify(
      backstageIdentity.token,
      createRemoteJWKSet(new URL(`${baseUrl}/api/auth/.well-known/jwks.json`)),
      { issuer: `${baseUrl}/api/auth` },
    );
    expect(payload.sub).toBe('user:default/alice');

    // A reload of the app refreshes the session from the refresh cookie
    // (the IdP's refresh token)…
    const xhr = { headers: { 'x-requested-with': 'XMLHttpRequest' } };
    const refreshUrl = `${baseUrl}/api/auth/oidc/refresh?optional&env=development`;
    const refresh = await browser.request(refreshUrl, xhr);
    expect(refresh.status).toBe(200);
    const refreshed = await refresh.json();
    expect(refreshed.backstageIdentity.identity.userEntityRef).toBe(
      'user:default/alice',
    );

    // …until sign-out, which revokes it at the IdP: even a copy of the old
    // refresh cookie no longer refreshes.
    const cookie = (await browser.jar.getCookies(refreshUrl)).find(
      c => c.key === 'oidc-refresh-token',
    )!;
    expect(cookie).toBeDefined();
    const logout = await browser.request(
      `${baseUrl}/api/auth/oidc/logout?env=development`,
      { method: 'POST', ...xhr },
    );
    expect(logout.status).toBe(200);
    await browser.jar.setCookie(cookie, refreshUrl);
    const afterLogout = await browser.request(refreshUrl, xhr);
    expect(afterLogout.status).toBe(401);
    expect((await afterLogout.json()).error.message).toMatch(/invalid_grant/);
  });

  it.each([
    ['oscar', 'group:default/ops-team'],
    ['petra', 'group:default/platform-team'],
    ['eddie', 'group:default/retail-ops'],
  ])('signs %s in owning %s', async (username, group) => {
    const { done } = await signIn(username, username);
    const message = parseHandlerPage(await done.response!.text());
    expect(message.response!.backstageIdentity.identity).toEqual({
      type: 'user',
      userEntityRef: `user:default/${username}`,
      ownershipEntityRefs: expect.arrayContaining([
        `user:default/${username}`,
        group,
      ]),
    });
  });

  it('keeps the user on the login page after a wrong password', async () => {
    const browser = new TestBrowser();
    const login = await browser.follow(
      `${baseUrl}/api/auth/oidc/start?env=development`,
    );
    const action = loginFormAction(await login.response!.text(), login.url);
    const res = await browser.request(action, {
      form: { username: 'alice', password: 'oscar' },
    });
    expect(res.status).toBe(401);
    expect(await res.text()).toContain('Unknown user or wrong password.');
  });

  it('refuses an IdP user without a catalog User', async () => {
    const { done } = await signIn('mallory', 'mallory');
    const message = parseHandlerPage(await done.response!.text());
    expect(message.response).toBeUndefined();
    expect(message.error?.message).toMatch(/unable to resolve user identity/);
  });

  it('refuses an email outside the allowed domain', async () => {
    const { done } = await signIn('trudy', 'trudy');
    const message = parseHandlerPage(await done.response!.text());
    expect(message.response).toBeUndefined();
    expect(message.error).toMatchObject({
      name: 'NotAllowedError',
      message: expect.stringMatching(/not from an allowed domain/),
    });
  });
});
