/** What the breaker lets a request do. */
export type BreakerAdmission =
  | { allowed: true; trial: boolean }
  | { allowed: false; retryAfterMs: number };

/**
 * A per-cluster circuit breaker. `failureThreshold` consecutive connection
 * failures (refused, timed out, TLS handshake not completed, a stalled
 * server) open it: requests are refused at once for `coolDownMs`. Then it
 * half-opens and lets one trial request through; its success closes the
 * breaker, its failure opens it for another cool-down. Any answer from the
 * API server, whatever its status code, counts as success.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private trialInFlight = false;
  private lastError: string | undefined;

  constructor(
    private readonly failureThreshold: number,
    private readonly coolDownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): 'closed' | 'open' | 'half-open' {
    if (this.openedAt === undefined) return 'closed';
    return this.now() - this.openedAt >= this.coolDownMs ? 'half-open' : 'open';
  }

  /** Why the breaker opened, for the refusal message. */
  get reason(): string | undefined {
    return this.lastError;
  }

  admit(): BreakerAdmission {
    const state = this.state;
    if (state === 'closed') return { allowed: true, trial: false };
    if (state === 'half-open' && !this.trialInFlight) {
      this.trialInFlight = true;
      return { allowed: true, trial: true };
    }
    const elapsed = this.now() - (this.openedAt ?? this.now());
    return {
      allowed: false,
      retryAfterMs: Math.max(this.coolDownMs - elapsed, 1000),
    };
  }

  success(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.trialInFlight = false;
    this.lastError = undefined;
  }

  failure(error: string): void {
    this.failures += 1;
    this.lastError = error;
    if (this.trialInFlight || this.failures >= this.failureThreshold) {
      this.openedAt = this.now();
    }
    this.trialInFlight = false;
  }

  /**
   * A trial request that ended without telling whether the cluster is up
   * (for example the client went away): let the next request try again.
   */
  release(trial: boolean): void {
    if (trial) this.trialInFlight = false;
  }
}
