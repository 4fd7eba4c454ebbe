/*
 * The portal end to end: the real backend serving the built app on its demo
 * defaults (SQLite, the demo organisation, three kube-testbed clusters, the
 * demo OpenID Connect provider), driven in headless Chromium as the demo
 * users of different personas. Screenshots of the main pages go to
 * packages/e2e/artifacts/ (git-ignored), with the backend log.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Browser } from 'playwright-core';
import { launchBrowser, screenshot, signIn, SignedIn } from './browser';
import { Portal, startPortal } from './portal/startPortal';
import {
  applyChange,
  fillDeployChange,
  findAuditEvent,
  openClusterPage,
  publishChange,
  UI_TIMEOUT,
  waitWithReload,
} from './steps';

const ARTIFACTS = path.resolve(__dirname, '../artifacts');
const log = (message: string) => process.stderr.write(`[e2e] ${message}\n`);

// A loaded 2-core machine: the first run builds the app (minutes), the
// fleet and the backend start in tens of seconds, pages render slowly.
const SETUP_TIMEOUT = 25 * 60_000;
const STEP_TIMEOUT = 5 * 60_000;
jest.setTimeout(STEP_TIMEOUT);

describe('KMP portal in Chromium', () => {
  let portal: Portal;
  let browser: Browser;
  let alice: SignedIn;

  beforeAll(async () => {
    portal = await startPortal({
      logDir: ARTIFACTS,
      log,
    });
    browser = await launchBrowser();
    alice = await signIn(browser, portal, 'alice', { timeoutMs: UI_TIMEOUT });
  }, SETUP_TIMEOUT);

  afterAll(async () => {
    await alice?.context.close().catch(() => {});
    await browser?.close().catch(() => {});
    await portal?.stop();
  }, 2 * 60_000);

  it('signs alice in through the demo identity provider and shows her developer home', async () => {
    const { page } = alice;
    expect(alice.user).toBe('alice');
    await page.goto('/');
    await page.getByText('Welcome, alice').waitFor();
    await page.getByText(/^Developer · /).waitFor();
    await page.getByText('My namespaces').first().waitFor();
    await page.getByText('My components').first().waitFor();
    await screenshot(page, ARTIFACTS, 'home-alice-developer');
    // A developer's home has no fleet-wide operations.
    expect(await page.getByText('Clusters needing attention').count()).toBe(0);
  });

  it('browses the fleet: every demo cluster with its health', async () => {
    const { page } = alice;
    await page
      .getByRole('navigation', { name: 'sidebar nav' })
      .getByRole('link', { name: 'Kubernetes Fleet' })
      .click();
    // Exact: while the route changes, the app also announces the page as
    // a heading "Kubernetes Fleet" (the sidebar item's title).
    await page
      .getByRole('heading', { name: 'Kubernetes fleet', exact: true })
      .waitFor();
    // Registration and the first refresh run in the background.
    for (const cluster of ['payments-dev-eu1', 'payments-prod-eu1']) {
      const cell = page.getByRole('cell', { name: cluster, exact: true });
      await waitWithReload(page, cell, STEP_TIMEOUT / 2);
      expect(await cell.count()).toBe(1);
    }
    await screenshot(page, ARTIFACTS, 'fleet-alice');
  });

  const change = {
    name: 'e2e-web',
    image: 'registry.kmp.example.com/payments/e2e-web:1.0.0',
  };
  let auditId: string | undefined;

  it('opens a production cluster with its write controls disabled for a developer, naming GitOps', async () => {
    const { page } = alice;
    await openClusterPage(page, 'payments-prod-eu1');
    await page
      .getByText(
        'Changes are disabled here: production changes go through GitOps',
      )
      .first()
      .waitFor({ timeout: UI_TIMEOUT });
    const apply = await fillDeployChange(page, change);
    expect(await apply.isDisabled()).toBe(true);
    await screenshot(page, ARTIFACTS, 'cluster-prod-alice');
  });

  it("publishes the same change to production through the environment group's GitOps repository", async () => {
    const { page } = alice;
    await openClusterPage(page, 'payments-prod-eu1');
    // payments-prod's own policy overlay asks every workload for its PCI
    // scope; the team and ownership come from the namespace.
    await fillDeployChange(page, {
      ...change,
      annotations: 'payments.kmp.example.com/pci-scope=out',
    });
    const outcome = await publishChange(page, 'e2e: deploy e2e-web');
    await screenshot(page, ARTIFACTS, 'clickops-publish-prod-alice');
    log(`Publish outcome: ${outcome.text}`);
    expect(outcome.done).toBe(true);
    expect(outcome.auditId).toMatch(/^[0-9a-f-]{36}$/);
    // The commit is in the real repository, authored by alice, carrying
    // the audit id, with the Deployment under the cluster's folder.
    const gitDir = path.join(portal.gitopsRoot!, 'payments-prod-gitops.git');
    const git = (...args: string[]) =>
      execFileSync('git', [`--git-dir=${gitDir}`, ...args], {
        encoding: 'utf8',
      });
    const [sha, author, ...body] = git(
      'log',
      '-1',
      '--format=%H%n%an%n%B',
      'main',
    ).split('\n');
    expect(sha).toBe(outcome.commit);
    expect(author).toMatch(/alice/i);
    expect(body.join('\n')).toContain(`KMP-Audit-Id: ${outcome.auditId}`);
    const files = git('ls-tree', '-r', '--name-only', 'main').split('\n');
    expect(
      files.some(f =>
        /^clusters\/payments-prod-eu1\/namespaces\/team-payments\/.*e2e-web.*\.yaml$/.test(
          f,
        ),
      ),
    ).toBe(true);
    await outcome.dialog.getByRole('button', { name: 'Close' }).click();
  });

  it('applies a ClickOps change in a non-production cluster', async () => {
    const { page } = alice;
    await openClusterPage(page, 'payments-dev-eu1');
    const apply = await fillDeployChange(page, change);
    const outcome = await applyChange(page, apply);
    await screenshot(page, ARTIFACTS, 'clickops-dev-alice');
    log(`ClickOps outcome: ${outcome.text}`);
    expect(outcome.done).toBe(true);
    expect(outcome.auditId).toMatch(/^[0-9a-f-]{36}$/);
    auditId = outcome.auditId;
  });

  it('finds the audit event of that change in the audit explorer (as petra)', async () => {
    expect(auditId).toBeDefined();
    const petra = await signIn(browser, portal, 'petra', {
      timeoutMs: UI_TIMEOUT,
    });
    try {
      const found = await findAuditEvent(
        petra.page,
        'payments-dev-eu1',
        auditId!,
      );
      await screenshot(petra.page, ARTIFACTS, 'audit-event-petra');
      expect(found).toBe(true);
      await petra.page.keyboard.press('Escape');
      await petra.page
        .getByRole('dialog', { name: /^Audit event / })
        .waitFor({ state: 'hidden' });
      await screenshot(petra.page, ARTIFACTS, 'audit-petra');
    } finally {
      await petra.context.close();
    }
  });

  it('grants break-glass with four eyes: alice asks on the production cluster page, petra approves', async () => {
    const { page } = alice;
    await openClusterPage(page, 'payments-prod-eu1');
    await page.locator('#kmp-break-glass-namespace').fill('team-payments');
    await page
      .locator('#kmp-break-glass-reason')
      .fill('INC-4711: e2e check of the break-glass path');
    await page.getByRole('button', { name: 'Request break-glass' }).click();
    const requested = page
      .getByRole('status')
      .filter({ hasText: /Request id / });
    await requested.waitFor({ timeout: UI_TIMEOUT });
    const id = /Request id (\S+?)\.?$/.exec(
      (await requested.innerText()).trim(),
    )?.[1];
    expect(id).toBeDefined();
    await screenshot(page, ARTIFACTS, 'break-glass-request-alice');

    const petra = await signIn(browser, portal, 'petra', {
      timeoutMs: UI_TIMEOUT,
    });
    try {
      await petra.page.goto('/kmp/break-glass');
      const approve = petra.page.getByRole('button', {
        name: `Approve request ${id}`,
      });
      await approve.waitFor({ timeout: UI_TIMEOUT });
      await approve.click();
      const dialog = petra.page.getByRole('dialog');
      await dialog
        .getByRole('button', { name: 'Approve', exact: true })
        .click();
      await dialog
        .getByRole('status')
        .filter({ hasText: `Request ${id} is approved` })
        .waitFor({ timeout: UI_TIMEOUT });
      await screenshot(petra.page, ARTIFACTS, 'break-glass-approved-petra');
    } finally {
      await petra.context.close();
    }
  });

  it('lets petra install the governed policy bundle, by apply outside production and through Git in production', async () => {
    const petra = await signIn(browser, portal, 'petra', {
      timeoutMs: UI_TIMEOUT,
    });
    try {
      const { page } = petra;
      const install = async (
        cluster: string,
        button: string,
        confirm: string,
        outcome: RegExp,
      ) => {
        await openClusterPage(page, cluster);
        await page.getByRole('button', { name: button }).click();
        const dialog = page.getByRole('dialog');
        await dialog
          .getByRole('button', { name: confirm, exact: true })
          .click();
        const done = dialog.getByRole('status').or(dialog.getByRole('alert'));
        await done.first().waitFor({ timeout: UI_TIMEOUT });
        const text = await done.first().innerText();
        log(`${cluster}: ${text}`);
        expect(text).toMatch(outcome);
        await dialog.getByRole('button', { name: 'Close' }).click();
      };
      await install(
        'payments-dev-eu1',
        'Install bundle',
        'Install',
        /Bundle \S+ installed \(apply\)/,
      );
      await install(
        'payments-prod-eu1',
        'Publish bundle to Git',
        'Publish',
        /Bundle \S+ installed \(gitops\) at \S+payments-prod-gitops\.git#main:clusters\/payments-prod-eu1\/kmp-policies@[0-9a-f]{40}/,
      );
      // The fleet shows it: the dev cluster carries its installed bundle.
      await page.goto('/kmp');
      const row = page
        .getByRole('row')
        .filter({ hasText: 'payments-dev-eu1' })
        .first();
      await row.waitFor({ timeout: UI_TIMEOUT });
      await waitWithReload(
        page,
        row.getByText(/compliant|violation|drifted|outdated bundle/),
        STEP_TIMEOUT / 2,
      );
      await screenshot(page, ARTIFACTS, 'fleet-petra');
    } finally {
      await petra.context.close();
    }
  });

  it.each([
    ['oscar', /^Ops · /, 'Clusters needing attention'],
    ['petra', /^Platform Engineer · /, 'Compliance'],
    ['eddie', /^Edge Operator · /, 'Edge clusters'],
  ] as const)(
    'shows %s the home of their persona',
    async (user, chip, section) => {
      const session = await signIn(browser, portal, user, {
        timeoutMs: UI_TIMEOUT,
      });
      try {
        const { page } = session;
        await page.getByText(`Welcome, ${user}`).waitFor();
        await page.getByText(chip).waitFor();
        await page.getByText(section, { exact: true }).first().waitFor();
        expect(await page.getByText('My namespaces').count()).toBe(0);
        await screenshot(page, ARTIFACTS, `home-${user}`);
      } finally {
        await session.context.close();
      }
    },
  );
});
