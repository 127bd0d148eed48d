import { type Duration, formatDuration, optionalMilliseconds, toMilliseconds } from './duration';

describe('toMilliseconds', () => {
  it.each<[Duration, number]>([
    [0, 0],
    [1500, 1500],
    [1.4, 1],
    [1.5, 2],
    ['250ms', 250],
    ['10s', 10_000],
    ['1.5m', 90_000],
    ['.5s', 500],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1w', 604_800_000],
    ['500', 500],
    ['10 seconds', 10_000],
    ['1 second', 1000],
    ['2 minutes', 120_000],
    ['3 mins', 180_000],
    ['1 hour', 3_600_000],
    ['2 hrs', 7_200_000],
    ['3 days', 259_200_000],
    ['5 msecs', 5],
    ['7 milliseconds', 7],
    ['10S', 10_000],
    [' 10s ', 10_000],
    [{ seconds: 10 }, 10_000],
    [{ minutes: 1, milliseconds: 500 }, 60_500],
    [{ days: 1, hours: 1, minutes: 1, seconds: 1, milliseconds: 1 }, 90_061_001],
    [{ seconds: 0.0015 }, 2],
    [{}, 0],
    [{ seconds: undefined, minutes: 2 }, 120_000],
  ])('converts %j to %d ms', (value, expected) => {
    expect(toMilliseconds(value)).toBe(expected);
  });

  const usage = "(use milliseconds, a string like '10s' or an object like { seconds: 10 })";
  it.each<[unknown, string]>([
    ['ten seconds', `Invalid duration for startToCloseTimeout: "ten seconds" ${usage}`],
    ['', `Invalid duration for startToCloseTimeout: "" ${usage}`],
    ['   ', `Invalid duration for startToCloseTimeout: "   " ${usage}`],
    ['s', `Invalid duration for startToCloseTimeout: "s" ${usage}`],
    ['1.2.3s', `Invalid duration for startToCloseTimeout: "1.2.3s" ${usage}`],
    ['1e3', `Invalid duration for startToCloseTimeout: "1e3" ${usage}`],
    ['5 fortnights', 'Invalid duration for startToCloseTimeout: "5 fortnights" (unknown unit "fortnights"; use ms, s, m, h, d or w)'],
    ['-5s', 'Invalid duration for startToCloseTimeout: "-5s" (a duration cannot be negative)'],
    [-1, 'Invalid duration for startToCloseTimeout: -1 (a duration cannot be negative)'],
    [NaN, 'Invalid duration for startToCloseTimeout: NaN (a duration must be a finite number of milliseconds)'],
    [Infinity, 'Invalid duration for startToCloseTimeout: Infinity (a duration must be a finite number of milliseconds)'],
    [true, `Invalid duration for startToCloseTimeout: true ${usage}`],
    [null, `Invalid duration for startToCloseTimeout: null ${usage}`],
    [undefined, `Invalid duration for startToCloseTimeout: undefined ${usage}`],
    [[10], `Invalid duration for startToCloseTimeout: [10] ${usage}`],
    [new Date(0), `Invalid duration for startToCloseTimeout: "1970-01-01T00:00:00.000Z" ${usage}`],
    [
      { weeks: 1 },
      'Invalid duration for startToCloseTimeout: {"weeks":1} (unknown field "weeks"; use days, hours, minutes, seconds or milliseconds)',
    ],
    [{ seconds: -1 }, 'Invalid duration for startToCloseTimeout: {"seconds":-1} (field "seconds" must be a finite non-negative number)'],
    [{ seconds: NaN }, 'Invalid duration for startToCloseTimeout: {"seconds":"NaN"} (field "seconds" must be a finite non-negative number)'],
    [{ seconds: '10' }, 'Invalid duration for startToCloseTimeout: {"seconds":"10"} (field "seconds" must be a finite non-negative number)'],
    [{ days: 1e308 }, 'Invalid duration for startToCloseTimeout: {"days":1e+308} (the duration is too large)'],
  ])('rejects %p with a TypeError quoting it', (value, message) => {
    expect(() => toMilliseconds(value as Duration, 'startToCloseTimeout')).toThrow(new TypeError(message));
    expect(() => toMilliseconds(value as Duration, 'startToCloseTimeout')).toThrow(TypeError);
  });

  it('leaves out the option name when none is given', () => {
    expect(() => toMilliseconds('soon')).toThrow(new TypeError(`Invalid duration: "soon" ${usage}`));
  });
});

describe('optionalMilliseconds', () => {
  it('passes unset values through and converts the rest', () => {
    expect(optionalMilliseconds(undefined)).toBeUndefined();
    expect(optionalMilliseconds(null)).toBeUndefined();
    expect(optionalMilliseconds('2s')).toBe(2000);
    expect(() => optionalMilliseconds('x', 'heartbeatTimeout')).toThrow('Invalid duration for heartbeatTimeout: "x"');
  });
});

describe('formatDuration', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [250, '250ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [1001, '1.001s'],
    [10_000, '10s'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [100_000, '1m40s'],
    [3_600_000, '1h'],
    [3_661_500, '1h1m1.5s'],
    [86_400_000, '1d'],
    [90_000_000, '1d1h'],
    [-1500, '-1.5s'],
    [0.4, '0s'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
