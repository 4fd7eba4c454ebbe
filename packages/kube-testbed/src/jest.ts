/*
 * Jest integration: start a test bed in beforeAll, stop it in afterAll.
 * Suites that do not call useTestbed pay nothing (nothing is started or
 * built at import time).
 *
 *   const testbed = useTestbed({ clusters: ['a', 'b'] });
 *   it('works', async () => {
 *     const a = testbed().cluster('a');
 *     ...
 *   });
 */
import { Testbed, TestbedOptions } from './Testbed';

export interface UseTestbedOptions extends TestbedOptions {
  /**
   * beforeAll timeout; default 15 min, which covers a first-time build of
   * the Go binary (a few minutes on 2 cores) plus start-up.
   */
  timeoutMs?: number;
}

/** Returns a getter for the test bed started in beforeAll. */
export function useTestbed(options: UseTestbedOptions): () => Testbed {
  let testbed: Testbed | undefined;
  let error: unknown;
  const { timeoutMs = 15 * 60_000, ...opts } = options;

  beforeAll(async () => {
    try {
      testbed = await Testbed.start({
        log: process.env.KUBE_TESTBED_VERBOSE ? m => console.log(m) : undefined,
        ...opts,
      });
    } catch (e) {
      error = e;
      throw e;
    }
  }, timeoutMs);

  afterAll(async () => {
    await testbed?.stopAll();
    testbed = undefined;
  }, 60_000);

  return () => {
    if (!testbed) {
      throw new Error(
        `kube-testbed: the test bed is not running${
          error ? ` (start failed: ${(error as Error).message})` : ''
        }; call testbed() inside tests/hooks, not at module level`,
      );
    }
    return testbed;
  };
}
