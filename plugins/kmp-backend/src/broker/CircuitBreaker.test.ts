import { CircuitBreaker } from './CircuitBreaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const breaker = () => new CircuitBreaker(3, 10_000, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  it('opens after consecutive failures and refuses until the cool-down ends', () => {
    const b = breaker();
    b.failure('refused');
    b.failure('refused');
    expect(b.admit()).toEqual({ allowed: true, trial: false });
    b.failure('connection refused');
    expect(b.state).toBe('open');
    expect(b.reason).toBe('connection refused');
    now += 4_000;
    expect(b.admit()).toEqual({ allowed: false, retryAfterMs: 6_000 });
  });

  it('a success in between resets the count', () => {
    const b = breaker();
    b.failure('x');
    b.failure('x');
    b.success();
    b.failure('x');
    b.failure('x');
    expect(b.state).toBe('closed');
  });

  it('half-opens after the cool-down with one trial request', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure('x');
    now += 10_000;
    expect(b.state).toBe('half-open');
    expect(b.admit()).toEqual({ allowed: true, trial: true });
    expect(b.admit()).toEqual(expect.objectContaining({ allowed: false }));
    b.success();
    expect(b.state).toBe('closed');
    expect(b.admit()).toEqual({ allowed: true, trial: false });
  });

  it('a failed trial opens it again for a full cool-down', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure('x');
    now += 10_000;
    expect(b.admit()).toEqual({ allowed: true, trial: true });
    b.failure('still down');
    expect(b.state).toBe('open');
    now += 9_999;
    expect(b.admit().allowed).toBe(false);
    now += 1;
    expect(b.admit()).toEqual({ allowed: true, trial: true });
  });

  it('a trial that ended without an answer lets the next request try', () => {
    const b = breaker();
    for (let i = 0; i < 3; i++) b.failure('x');
    now += 10_000;
    expect(b.admit()).toEqual({ allowed: true, trial: true });
    b.release(true);
    expect(b.admit()).toEqual({ allowed: true, trial: true });
  });
});
