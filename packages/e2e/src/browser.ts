import fs from 'node:fs';
import path from 'node:path';
import { Browser, BrowserContext, chromium, Page } from 'playwright-core';
import type { Portal } from './portal/startPortal';

/** Debian's Chromium, which `.ci/run` installs. */
export const CHROMIUM = process.env.KMP_E2E_CHROMIUM ?? '/usr/bin/chromium';

/** Headless Chromium; `--no-sandbox` because CI runs as root. */
export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM}: install Debian's chromium package (.ci/run does) or set KMP_E2E_CHROMIUM`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** The demo users, one per persona (packages/backend/demo/org.yaml). */
export type DemoUserName = 'alice' | 'oscar' | 'petra' | 'eddie';

export interface SignedIn {
  context: BrowserContext;
  page: Page;
  /** The user the portal signed in: a demo user, or guest. */
  user: DemoUserName | 'guest';
}

/**
 * Signs a demo user in, in a fresh browser context: through the demo
 * identity provider's login form in the OIDC popup when the portal runs
 * it, else as guest (then persona-specific steps cannot hold).
 */
export async function signIn(
  browser: Browser,
  portal: Portal,
  user: DemoUserName,
  options: { timeoutMs?: number } = {},
): Promise<SignedIn> {
  const timeout = options.timeoutMs ?? 60_000;
  const context = await browser.newContext({
    baseURL: portal.baseUrl,
    viewport: { width: 1440, height: 900 },
  });
  context.setDefaultTimeout(timeout);
  const page = await context.newPage();
  await page.goto('/');
  if (portal.signIn === 'oidc') {
    const popupPromise = page.waitForEvent('popup');
    await page.getByRole('button', { name: 'Sign In' }).click();
    const popup = await popupPromise;
    await popup.locator('#username').fill(user);
    await popup.locator('#password').fill(user);
    await Promise.all([
      popup.waitForEvent('close'),
      popup.locator('#sign-in').click(),
    ]);
  } else {
    await page.getByRole('button', { name: 'Enter' }).click();
  }
  // Signed in once the app shell with its sidebar replaced the sign-in page.
  await page
    .getByRole('navigation', { name: 'sidebar nav' })
    .waitFor({ state: 'attached' });
  return {
    context,
    page,
    user: portal.signIn === 'oidc' ? user : 'guest',
  };
}

/** Saves a full-page screenshot as a test artefact. */
export async function screenshot(page: Page, dir: string, name: string) {
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({
    path: path.join(dir, `${name}.png`),
    fullPage: true,
  });
}
