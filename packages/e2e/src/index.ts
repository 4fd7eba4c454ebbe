/**
 * End-to-end tests of the KMP portal in headless Chromium, and the helpers
 * they share with the portal benchmark: start the real portal on its demo
 * defaults, sign demo users in, take screenshots.
 *
 * @packageDocumentation
 */
export { startPortal, guestToken, DEMO_CLUSTERS } from './portal/startPortal';
export type { Portal, PortalOptions } from './portal/startPortal';
export { ensureAppBuild, appSourceHash } from './portal/appBuild';
export type { AppBuild } from './portal/appBuild';
export { launchBrowser, signIn, screenshot, CHROMIUM } from './browser';
export type { DemoUserName, SignedIn } from './browser';
