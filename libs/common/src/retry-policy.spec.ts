import { type CompiledRetryPolicy, compileRetryPolicy, computeRetryDelay, type RetryPolicy } from './retry-policy';

describe('compileRetryPolicy', () => {
  it("fills in Temporal's defaults", () => {
    const defaults = { initialInterval: 1000, backoffCoefficient: 2, maximumInterval: 100_000, maximumAttempts: 0, nonRetryableErrorTypes: [] };
    expect(compileRetryPolicy()).toEqual(defaults);
    expect(compileRetryPolicy({})).toEqual(defaults);
  });

  it('converts durations to ms and derives maximumInterval from initialInterval', () => {
    expect(compileRetryPolicy({ initialInterval: '2s' })).toMatchObject({ initialInterval: 2000, maximumInterval: 200_000 });
    expect(
      compileRetryPolicy({
        initialInterval: { milliseconds: 250 },
        backoffCoefficient: 1.5,
        maximumInterval: '1m',
        maximumAttempts: 5,
        nonRetryableErrorTypes: ['CardDeclined'],
      }),
    ).toEqual({ initialInterval: 250, backoffCoefficient: 1.5, maximumInterval: 60_000, maximumAttempts: 5, nonRetryableErrorTypes: ['CardDeclined'] });
  });

  it('treats zero intervals as unset, like Temporal', () => {
    expect(compileRetryPolicy({ initialInterval: 0, maximumInterval: 0 })).toMatchObject({ initialInterval: 1000, maximumInterval: 100_000 });
  });

  it('copies nonRetryableErrorTypes', () => {
    const types = ['A'];
    const compiled = compileRetryPolicy({ nonRetryableErrorTypes: types });
    types.push('B');
    expect(compiled.nonRetryableErrorTypes).toEqual(['A']);
  });

  it.each<[RetryPolicy, string]>([
    [{ initialInterval: -1 }, 'Initial interval cannot be negative'],
    [{ backoffCoefficient: 0.5 }, 'Backoff coefficient cannot be less than 1'],
    [{ backoffCoefficient: 0 }, 'Backoff coefficient cannot be less than 1'],
    [{ maximumInterval: -1 }, 'Maximum interval cannot be negative'],
    [{ initialInterval: '10s', maximumInterval: '5s' }, 'Maximum interval cannot be less than initial interval'],
    [{ maximumInterval: 999 }, 'Maximum interval cannot be less than initial interval'],
    [{ maximumAttempts: -1 }, 'Maximum attempts cannot be negative'],
  ])('rejects %j with "%s"', (policy, message) => {
    expect(() => compileRetryPolicy(policy)).toThrow(new TypeError(message));
  });

  it('checks in the order of the Python SDK', () => {
    expect(() => compileRetryPolicy({ initialInterval: -1, backoffCoefficient: 0, maximumAttempts: -1 })).toThrow(
      new TypeError('Initial interval cannot be negative'),
    );
    expect(() => compileRetryPolicy({ backoffCoefficient: 0, maximumInterval: -1 })).toThrow(
      new TypeError('Backoff coefficient cannot be less than 1'),
    );
  });

  it('skips range checks when maximumAttempts is 1, but still parses durations', () => {
    expect(compileRetryPolicy({ maximumAttempts: 1, backoffCoefficient: 0.5, initialInterval: '10s', maximumInterval: '1s' })).toEqual({
      initialInterval: 10_000,
      backoffCoefficient: 0.5,
      maximumInterval: 1000,
      maximumAttempts: 1,
      nonRetryableErrorTypes: [],
    });
    expect(() => compileRetryPolicy({ maximumAttempts: 1, initialInterval: 'soon' })).toThrow(
      new TypeError(
        `Invalid duration for retryPolicy.initialInterval: "soon" (use milliseconds, a string like '10s' or an object like { seconds: 10 })`,
      ),
    );
    expect(() => compileRetryPolicy({ maximumAttempts: 1, initialInterval: -1 })).toThrow(
      new TypeError('Invalid duration for retryPolicy.initialInterval: -1 (a duration cannot be negative)'),
    );
  });

  it.each<[unknown, string]>([
    [{ maximumAttempts: 2.5 }, 'Maximum attempts must be an integer, got 2.5'],
    [{ maximumAttempts: '3' }, 'Maximum attempts must be an integer, got "3"'],
    [{ backoffCoefficient: NaN }, 'Backoff coefficient must be a finite number, got NaN'],
    [{ backoffCoefficient: '2' }, 'Backoff coefficient must be a finite number, got "2"'],
    [{ nonRetryableErrorTypes: 'Boom' }, 'Non-retryable error types must be an array of strings, got "Boom"'],
    [{ nonRetryableErrorTypes: ['Boom', 42] }, 'Non-retryable error types must be strings, got 42'],
    [{ maximumInterval: '5 fortnights' }, 'Invalid duration for retryPolicy.maximumInterval: "5 fortnights" (unknown unit "fortnights"; use ms, s, m, h, d or w)'],
  ])('rejects values of the wrong type: %j', (policy, message) => {
    expect(() => compileRetryPolicy(policy as RetryPolicy)).toThrow(new TypeError(message));
  });
});

describe('computeRetryDelay', () => {
  const policy: CompiledRetryPolicy = compileRetryPolicy({ initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s' });

  it('waits initialInterval × coefficient^(attempt−1), capped at maximumInterval', () => {
    expect([1, 2, 3, 4, 5, 6, 50].map((attempt) => computeRetryDelay(policy, attempt))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
  });

  it('rounds fractional intervals to whole ms', () => {
    const gentle = compileRetryPolicy({ initialInterval: 100, backoffCoefficient: 1.5 });
    expect([1, 2, 3].map((attempt) => computeRetryDelay(gentle, attempt))).toEqual([100, 150, 225]);
  });

  it("uses the failure's nextRetryDelay instead, without the maximumInterval cap", () => {
    expect(computeRetryDelay(policy, 3, 500)).toBe(500);
    expect(computeRetryDelay(policy, 1, 60_000)).toBe(60_000);
    expect(computeRetryDelay(policy, 1, 0)).toBe(0);
  });

  it('treats a recorded maximumInterval of 0 as uncapped', () => {
    expect(computeRetryDelay({ ...policy, maximumInterval: 0 }, 6)).toBe(32_000);
  });

  it('rejects attempts that are not integers from 1', () => {
    expect(() => computeRetryDelay(policy, 0)).toThrow(new TypeError('failedAttempt must be an integer of at least 1, got 0'));
    expect(() => computeRetryDelay(policy, 1.5)).toThrow(new TypeError('failedAttempt must be an integer of at least 1, got 1.5'));
  });
});
