/**
 * Polls `fn` every 300 ms until it returns a value other than undefined,
 * and fails naming `what` after `timeoutMs`: for state that a background
 * loop (registry refresh, alert evaluation) reaches eventually.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 300));
  }
}
