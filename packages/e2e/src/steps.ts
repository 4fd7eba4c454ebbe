import { Locator, Page } from 'playwright-core';

/** Generous waits: a loaded 2-core machine renders slowly. */
export const UI_TIMEOUT = 60_000;

/** Waits for a locator, reloading the page between tries (live data). */
export async function waitWithReload(
  page: Page,
  locator: Locator,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.first().waitFor({ state: 'visible', timeout: 15_000 });
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await page.reload();
    }
  }
}

/** A cluster's page: the KMP "Cluster" tab of its catalog entity. */
export async function openClusterPage(page: Page, cluster: string) {
  await page.goto(`/catalog/default/resource/${cluster}/kmp`);
  // The catalog publishes the registry in the background: reload until the
  // entity and its live cards are there.
  await waitWithReload(
    page,
    page.getByText('Change through KMP', { exact: true }),
    3 * UI_TIMEOUT,
  );
}

/**
 * Fills the ClickOps "Deploy an image" form of the cluster page and returns
 * its Apply button (accessible name "Apply to the cluster").
 */
export async function fillDeployChange(
  page: Page,
  change: { name: string; image: string; annotations?: string },
): Promise<Locator> {
  await page.getByRole('tab', { name: 'Deploy an image' }).click();
  await page.locator('#kmp-clickops-name').fill(change.name);
  await page.locator('#kmp-clickops-image').fill(change.image);
  if (change.annotations) {
    await page.locator('#kmp-clickops-annotations').fill(change.annotations);
  }
  const apply = page.getByRole('button', { name: 'Apply to the cluster' });
  await apply.waitFor({ timeout: UI_TIMEOUT });
  return apply;
}

/**
 * Applies the filled change: policy pre-flight first, then Apply and its
 * confirmation. Returns the audit id the broker answered with.
 */
export async function applyChange(page: Page, apply: Locator) {
  await page.getByRole('button', { name: 'Check policies' }).click();
  await page.getByLabel('pre-flight result').waitFor({ timeout: UI_TIMEOUT });
  await apply.and(page.locator(':enabled')).waitFor({ timeout: UI_TIMEOUT });
  await apply.click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Apply', exact: true }).click();
  const outcome = dialog.getByRole('status').or(dialog.getByRole('alert'));
  await outcome.first().waitFor({ timeout: UI_TIMEOUT });
  const text = await outcome.first().innerText();
  const auditId = /Audit id: (\S+)/.exec(text)?.[1];
  const done = (await dialog.getByRole('status').count()) > 0;
  return { done, text, auditId, dialog };
}

/**
 * Publishes the filled change to the cluster's GitOps repository: policy
 * pre-flight first, then "Publish to Git" and its confirmation. Returns the
 * commit and audit id the portal shows.
 */
export async function publishChange(page: Page, message: string) {
  await page.getByRole('button', { name: 'Check policies' }).click();
  const result = page.getByLabel('pre-flight result');
  await result.waitFor({ timeout: UI_TIMEOUT });
  const publish = page.getByRole('button', { name: 'Publish to Git' });
  try {
    await publish
      .and(page.locator(':enabled'))
      .waitFor({ timeout: UI_TIMEOUT / 2 });
  } catch (error) {
    // Say why: the pre-flight's verdict is on the page.
    throw new Error(
      `Publish to Git stayed disabled; pre-flight: ${await result.innerText()}`,
    );
  }
  await publish.click();
  const dialog = page.getByRole('dialog');
  await dialog.locator('#kmp-publish-message').fill(message);
  await dialog.getByRole('button', { name: 'Publish', exact: true }).click();
  const outcome = dialog.getByRole('status').or(dialog.getByRole('alert'));
  await outcome.first().waitFor({ timeout: UI_TIMEOUT });
  const text = await outcome.first().innerText();
  return {
    done: (await dialog.getByRole('status').count()) > 0,
    text,
    commit: /Commit: ([0-9a-f]{40})/.exec(text)?.[1],
    auditId: /Audit id: (\S+)/.exec(text)?.[1],
    dialog,
  };
}

/**
 * Looks through the newest events of the audit explorer, filtered by
 * cluster, for one whose full JSON mentions `needle`.
 */
export async function findAuditEvent(
  page: Page,
  cluster: string,
  needle: string,
): Promise<boolean> {
  await page.goto(`/kmp/audit?cluster=${encodeURIComponent(cluster)}`);
  await page.getByText(/^Chain verified: /).waitFor({ timeout: UI_TIMEOUT });
  const rows = page.getByRole('row').filter({ hasText: cluster });
  await rows.first().waitFor({ timeout: UI_TIMEOUT });
  const count = Math.min(await rows.count(), 15);
  for (let i = 0; i < count; i++) {
    await rows.nth(i).click();
    const drawer = page.getByRole('dialog', { name: /^Audit event / });
    await drawer.waitFor();
    const found = (await drawer.innerText()).includes(needle);
    if (found) return true;
    await drawer.getByRole('button', { name: 'Close' }).click();
    await drawer.waitFor({ state: 'hidden' });
  }
  return false;
}
