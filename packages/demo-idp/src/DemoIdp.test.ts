import crypto from 'node:crypto';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startDemoIdp, type DemoIdp } from './DemoIdp';
import { TestBrowser, loginFormAction } from './__testUtils__/browser';

const CLIENT = {
  clientId: 'test-app',
  clientSecret: 'test-secret',
  redirectUris: ['http://localhost:65000/callback'],
};
const PUBLIC_CLIENT = {
  clientId: 'test-spa',
  redirectUris: ['http://localhost:65001/callback'],
};

const base64url = (b: Buffer) => b.toString('base64url');

function pkce() {
  const verifier = base64url(crypto.randomBytes(32));
  const challenge = base64url(
    crypto.createHash('sha256').update(verifier).digest(),
  );
  return { verifier, challenge };
}

describe('startDemoIdp', () => {
  let idp: DemoIdp;
  let discovery: Record<string, any>;

  beforeAll(async () => {
    idp = await startDemoIdp({ clients: [CLIENT, PUBLIC_CLIENT] });
    discovery = await (await fetch(idp.discoveryUrl)).json();
  });

  afterAll(() => idp?.stop());

  function authorizeUrl(
    params: Partial<Record<string, string>> & { code_challenge?: string },
    client: { clientId: string; redirectUris: string[] } = CLIENT,
  ) {
    const url = new URL(discovery.authorization_endpoint);
    const all: Record<string, string | undefined> = {
      client_id: client.clientId,
      redirect_uri: client.redirectUris[0],
      response_type: 'code',
      scope: 'openid profile email groups',
      state: 'state-1',
      nonce: 'nonce-1',
      code_challenge_method: 'S256',
      ...params,
    };
    for (const [k, v] of Object.entries(all)) {
      if (v !== undefined) url.searchParams.set(k, v);
    }
    return url.href;
  }

  /** Authorization request → login page; returns the page and its form. */
  async function openLoginPage(browser: TestBrowser, url: string) {
    const { url: pageUrl, response } = await browser.follow(url);
    expect(response!.status).toBe(200);
    const html = await response!.text();
    return { html, action: loginFormAction(html, pageUrl) };
  }

  async function signIn(
    username: string,
    password: string,
    client: { clientId: string; redirectUris: string[] } = CLIENT,
  ) {
    const browser = new TestBrowser();
    const { verifier, challenge } = pkce();
    const { action } = await openLoginPage(
      browser,
      authorizeUrl({ code_challenge: challenge }, client),
    );
    const result = await browser.follow(
      action,
      { form: { username, password } },
      client.redirectUris[0],
    );
    return { browser, verifier, action, ...result };
  }

  async function exchangeCode(
    code: string,
    verifier: string | undefined,
    auth = `Basic ${Buffer.from(
      `${CLIENT.clientId}:${CLIENT.clientSecret}`,
    ).toString('base64')}`,
  ) {
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CLIENT.redirectUris[0],
    };
    if (verifier) form.code_verifier = verifier;
    return fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: auth,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(form),
    });
  }

  it('publishes discovery for the code flow with PKCE S256 only', () => {
    expect(discovery.issuer).toBe(idp.issuer);
    expect(idp.issuer).toBe(`http://localhost:${idp.port}`);
    expect(discovery.response_types_supported).toEqual(['code']);
    expect(discovery.code_challenge_methods_supported).toEqual(['S256']);
    expect(discovery.scopes_supported).toEqual(
      expect.arrayContaining(['openid', 'profile', 'email', 'groups']),
    );
  });

  it('signs alice in with the code flow and PKCE; the ID token verifies against the JWKS', async () => {
    const { url, verifier } = await signIn('alice', 'alice');
    const callback = new URL(url);
    expect(callback.origin + callback.pathname).toBe(CLIENT.redirectUris[0]);
    expect(callback.searchParams.get('state')).toBe('state-1');
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    const code = callback.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const res = await exchangeCode(code, verifier);
    expect(res.status).toBe(200);
    const tokens = await res.json();
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      id_token: expect.any(String),
      access_token: expect.any(String),
      refresh_token: expect.any(String),
    });

    const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
    const { payload, protectedHeader } = await jwtVerify(
      tokens.id_token,
      jwks,
      { issuer: idp.issuer, audience: CLIENT.clientId },
    );
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({
      sub: 'alice',
      nonce: 'nonce-1',
      preferred_username: 'alice',
      name: 'Alice Developer',
      email: 'alice@kmp.example',
      email_verified: true,
      groups: ['team-payments'],
    });

    // A token whose payload was changed does not verify.
    const [header, body, signature] = tokens.id_token.split('.');
    const forged = Buffer.from(
      JSON.stringify({ ...payload, sub: 'petra' }),
    ).toString('base64url');
    await expect(
      jwtVerify(`${header}.${forged}.${signature}`, jwks, {
        issuer: idp.issuer,
      }),
    ).rejects.toThrow(/signature verification failed/);
    expect(body).not.toBe(forged);

    // userinfo (what Backstage's OIDC module reads) carries the same claims.
    const userinfo = await fetch(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(await userinfo.json()).toEqual({
      sub: 'alice',
      preferred_username: 'alice',
      name: 'Alice Developer',
      email: 'alice@kmp.example',
      email_verified: true,
      groups: ['team-payments'],
    });

    // The refresh token keeps a relying party's session going.
    const refreshed = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(
          `${CLIENT.clientId}:${CLIENT.clientSecret}`,
        ).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
      }),
    });
    expect(refreshed.status).toBe(200);
    const { payload: again } = await jwtVerify(
      (
        await refreshed.json()
      ).id_token,
      jwks,
      { issuer: idp.issuer, audience: CLIENT.clientId },
    );
    expect(again.sub).toBe('alice');
  });

  it.each([
    ['oscar', ['ops-team']],
    ['petra', ['platform-team']],
    ['eddie', ['retail-ops']],
  ])('signs %s in with groups %j', async (username, groups) => {
    const { url, verifier } = await signIn(username, username);
    const code = new URL(url).searchParams.get('code')!;
    const tokens = await (await exchangeCode(code, verifier)).json();
    const { payload } = await jwtVerify(
      tokens.id_token,
      createRemoteJWKSet(new URL(discovery.jwks_uri)),
      { issuer: idp.issuer, audience: CLIENT.clientId },
    );
    expect(payload).toMatchObject({
      sub: username,
      email: `${username}@kmp.example`,
      groups,
    });
  });

  it('refuses a wrong password and an unknown user, then accepts the right one', async () => {
    const browser = new TestBrowser();
    const { verifier, challenge } = pkce();
    const { action } = await openLoginPage(
      browser,
      authorizeUrl({ code_challenge: challenge }),
    );

    for (const [username, password] of [
      ['alice', 'petra'],
      ['alice', ''],
      ['mallory', 'mallory'],
    ]) {
      const res = await browser.request(action, {
        form: { username, password },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('location')).toBeNull();
      const html = await res.text();
      expect(html).toContain('id="login-error"');
      expect(html).toContain('Unknown user or wrong password.');
      // The form is shown again for another try.
      expect(loginFormAction(html, action)).toBe(action);
    }

    const { url } = await browser.follow(
      action,
      { form: { username: 'alice', password: 'alice' } },
      CLIENT.redirectUris[0],
    );
    const code = new URL(url).searchParams.get('code')!;
    expect((await exchangeCode(code, verifier)).status).toBe(200);
  });

  it('refuses an unknown client without redirecting', async () => {
    const browser = new TestBrowser();
    const { response } = await browser.follow(
      authorizeUrl(
        { code_challenge: pkce().challenge },
        { clientId: 'unknown', redirectUris: CLIENT.redirectUris },
      ),
    );
    expect(response!.status).toBe(400);
    expect(await response!.text()).toContain('invalid_client');
  });

  it('refuses a redirect URI that is not registered', async () => {
    const browser = new TestBrowser();
    const { response } = await browser.follow(
      authorizeUrl({
        code_challenge: pkce().challenge,
        redirect_uri: 'http://localhost:65000/elsewhere',
      }),
    );
    expect(response!.status).toBe(400);
    expect(await response!.text()).toContain('redirect_uri');
  });

  it('requires PKCE on the authorization request', async () => {
    const browser = new TestBrowser();
    const { url } = await browser.follow(
      authorizeUrl({ code_challenge_method: undefined }),
      {},
      CLIENT.redirectUris[0],
    );
    const callback = new URL(url);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(
      /requires PKCE/,
    );
    expect(callback.searchParams.get('code')).toBeNull();
  });

  it('refuses a code without its verifier, with a wrong one, or with a wrong client secret', async () => {
    const first = await signIn('alice', 'alice');
    const code1 = new URL(first.url).searchParams.get('code')!;
    const noVerifier = await exchangeCode(code1, undefined);
    expect(noVerifier.status).toBe(400);
    expect((await noVerifier.json()).error).toBe('invalid_grant');

    const second = await signIn('alice', 'alice');
    const code2 = new URL(second.url).searchParams.get('code')!;
    const wrongVerifier = await exchangeCode(code2, pkce().verifier);
    expect(wrongVerifier.status).toBe(400);
    expect((await wrongVerifier.json()).error).toBe('invalid_grant');

    const third = await signIn('alice', 'alice');
    const code3 = new URL(third.url).searchParams.get('code')!;
    const wrongSecret = await exchangeCode(
      code3,
      third.verifier,
      `Basic ${Buffer.from(`${CLIENT.clientId}:nope`).toString('base64')}`,
    );
    expect(wrongSecret.status).toBe(401);
    expect((await wrongSecret.json()).error).toBe('invalid_client');
  });

  it('serves a public client with PKCE and no secret', async () => {
    const { url, verifier } = await signIn('eddie', 'eddie', PUBLIC_CLIENT);
    const code = new URL(url).searchParams.get('code')!;
    const res = await fetch(discovery.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: PUBLIC_CLIENT.clientId,
        code,
        code_verifier: verifier,
        redirect_uri: PUBLIC_CLIENT.redirectUris[0],
      }),
    });
    expect(res.status).toBe(200);
    const { id_token } = await res.json();
    expect(decodeProtectedHeader(id_token).alg).toBe('RS256');
  });

  it('answers an expired or unknown interaction with a clear page', async () => {
    const res = await fetch(`${idp.issuer}/interaction/does-not-exist`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Start the sign-in again');

    // A login form posted without the interaction cookie signs no one in.
    const browser = new TestBrowser();
    const { action } = await openLoginPage(
      browser,
      authorizeUrl({ code_challenge: pkce().challenge }),
    );
    const res2 = await fetch(action, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: 'alice' }),
      redirect: 'manual',
    });
    expect(res2.status).toBe(400);
    expect(res2.headers.get('location')).toBeNull();
  });

  it('refuses an oversized login form', async () => {
    const browser = new TestBrowser();
    const { action } = await openLoginPage(
      browser,
      authorizeUrl({ code_challenge: pkce().challenge }),
    );
    const res = await browser.request(action, {
      form: { username: 'alice', password: 'x'.repeat(100_000) },
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('location')).toBeNull();
  });

  it('registers clients added after start', async () => {
    await idp.addClient({
      clientId: 'late',
      clientSecret: 'late-secret',
      redirectUris: ['http://localhost:65002/callback'],
    });
    await expect(
      idp.addClient({ clientId: 'late', redirectUris: ['http://x/cb'] }),
    ).rejects.toThrow(/exists already/);
    await expect(
      idp.addClient({ clientId: 'bad', redirectUris: ['not a url'] }),
    ).rejects.toThrow(/invalid client bad: redirect_uris/);
    const { url } = await signIn('oscar', 'oscar', {
      clientId: 'late',
      redirectUris: ['http://localhost:65002/callback'],
    });
    expect(new URL(url).searchParams.get('code')).toBeTruthy();
  });

  it('generates a new signing key on every start', async () => {
    const other = await startDemoIdp({ clients: [CLIENT] });
    try {
      const keysOf = async (i: { issuer: string }) =>
        (await (await fetch(`${i.issuer}/jwks`)).json()).keys.map(
          (k: { n: string }) => k.n,
        );
      const [a, b] = await Promise.all([keysOf(idp), keysOf(other)]);
      expect(a).toHaveLength(1);
      expect(a[0]).not.toBe(b[0]);
    } finally {
      await other.stop();
    }
  });

  it('refuses a malformed client at start', async () => {
    await expect(
      startDemoIdp({
        clients: [{ clientId: 'x', redirectUris: ['not a url'] }],
      }),
    ).rejects.toThrow(/invalid client x: redirect_uris/);
  });

  it('refuses to run with NODE_ENV=production', async () => {
    const previous = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await expect(startDemoIdp({ clients: [CLIENT] })).rejects.toThrow(
        /demo and tests only/,
      );
    } finally {
      process.env.NODE_ENV = previous;
    }
  });
});
