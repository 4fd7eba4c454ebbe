/*
 * A minimal browser for sign-in tests: fetch with a cookie jar and manual
 * redirects, so a test sees every hop of an OAuth flow.
 */
import { CookieJar } from 'tough-cookie';

export class TestBrowser {
  readonly jar = new CookieJar();

  /** One request; cookies are sent and stored, redirects are not followed. */
  async request(
    url: string,
    init: {
      method?: string;
      form?: Record<string, string>;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    const cookie = await this.jar.getCookieString(url);
    if (cookie) {
      headers.cookie = cookie;
    }
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, {
      method: init.method ?? (body ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const setCookie of res.headers.getSetCookie()) {
      await this.jar.setCookie(setCookie, url);
    }
    return res;
  }

  /**
   * Follows redirects from `url` until a response that is not a redirect,
   * or until a redirect leaves for a URL starting with `stopAt` (returned
   * unfetched, like a browser handing a callback to another server).
   */
  async follow(
    url: string,
    init: { method?: string; form?: Record<string, string> } = {},
    stopAt?: string,
  ): Promise<{ url: string; response?: Response }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 20; hops++) {
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || !location) {
        return { url: current, response: res };
      }
      current = new URL(location, current).href;
      if (stopAt && current.startsWith(stopAt)) {
        return { url: current };
      }
      res = await this.request(current);
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

/** The action URL of the demo IdP's login form in a page. */
export function loginFormAction(html: string, pageUrl: string): string {
  const match = /<form id="login-form" method="post" action="([^"]+)"/.exec(
    html,
  );
  if (!match) {
    throw new Error(`no login form in page:\n${html.slice(0, 500)}`);
  }
  return new URL(match[1].replace(/&amp;/g, '&'), pageUrl).href;
}
