import {
  assertScheduleSpec,
  jitterOf,
  nextCronTime,
  nextIntervalTime,
  nextNominalTime,
  nominalTimesBetween,
  parseCron,
  scheduleTimeId,
  splitCron,
} from './schedule-spec';
import type { CompiledScheduleSpec } from './schedule-spec';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
const spec = (fields: Partial<CompiledScheduleSpec>): CompiledScheduleSpec => ({
  cronExpressions: [],
  intervals: [],
  jitter: 0,
  timezone: 'UTC',
  ...fields,
});
const times = (s: CompiledScheduleSpec, from: string, count: number) => {
  const list: Array<string | undefined> = [];
  let t: number | undefined = at(from);
  for (let i = 0; i < count && t !== undefined; i++) list.push(iso((t = nextNominalTime(s, t))));
  return list;
};

describe('cron', () => {
  it('parses ranges, steps, lists and names', () => {
    const cron = parseCron('0 */15 9-17/4 * JAN,mar-APR mon-fri');
    expect([...cron.minutes]).toEqual([0, 15, 30, 45]);
    expect([...cron.hours]).toEqual([9, 13, 17]);
    expect([...cron.months]).toEqual([1, 3, 4]);
    expect([...cron.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
    expect([...parseCron('0 0 * * 7').daysOfWeek]).toEqual([0]);
    expect([...parseCron('5/20 * * * * *').seconds]).toEqual([5, 25, 45]);
    expect([...parseCron('0 0 0 1 1 * 2030,2032').years!]).toEqual([2030, 2032]);
  });

  it('finds next times, day of month and day of week ANDed', () => {
    expect(times(spec({ cronExpressions: ['30 2 * * *'] }), '2024-01-01T02:30:00Z', 2)).toEqual([
      '2024-01-02T02:30:00.000Z',
      '2024-01-03T02:30:00.000Z',
    ]);
    // Friday the 13th only.
    expect(times(spec({ cronExpressions: ['0 0 13 * FRI'] }), '2024-01-01T00:00:00Z', 2)).toEqual([
      '2024-09-13T00:00:00.000Z',
      '2024-12-13T00:00:00.000Z',
    ]);
    expect(times(spec({ cronExpressions: ['@monthly'] }), '2024-01-15T00:00:00Z', 1)).toEqual(['2024-02-01T00:00:00.000Z']);
    expect(times(spec({ cronExpressions: ['*/10 * * * * *'] }), '2024-01-01T00:00:01Z', 2)).toEqual([
      '2024-01-01T00:00:10.000Z',
      '2024-01-01T00:00:20.000Z',
    ]);
    expect(nextCronTime(parseCron('0 0 30 2 *'), 'UTC', at('2024-01-01T00:00:00Z'))).toBeUndefined();
  });

  it('accepts @every, CRON_TZ= and comments', () => {
    expect(splitCron('@every 90s')).toEqual({ every: 90_000, offset: 0 });
    expect(splitCron('@every 1h/5m')).toEqual({ every: 3_600_000, offset: 300_000 });
    expect(splitCron('CRON_TZ=Europe/Paris 0 9 * * * # mornings')).toEqual({ cron: '0 9 * * *', timezone: 'Europe/Paris' });
    expect(times(spec({ cronExpressions: ['TZ=Europe/Paris 0 9 * * *'] }), '2024-01-01T00:00:00Z', 1)).toEqual(['2024-01-01T08:00:00.000Z']);
  });

  it('rejects bad strings naming them', () => {
    expect(() => parseCron('* * *')).toThrow('Invalid cron expression "* * *": expected 5, 6 or 7 fields, got 3');
    expect(() => parseCron('61 * * * *')).toThrow('Invalid cron expression "61 * * * *": minute "61" is not in 0-59');
    expect(() => parseCron('0 0 * FOO *')).toThrow('month "FOO" is not in 1-12');
    expect(() => parseCron('*/0 * * * *')).toThrow('bad step "0" in minute');
    expect(() => splitCron('@every soon')).toThrow('Invalid cron expression "@every soon"');
  });
});

describe('time zones', () => {
  const ny = spec({ cronExpressions: ['30 2 * * *'], timezone: 'America/New_York' });
  it('fires at local time, and not at a time DST skips', () => {
    // 2024-03-10: 02:00 EST jumps to 03:00 EDT, so 02:30 does not exist that day.
    expect(times(ny, '2024-03-08T12:00:00Z', 3)).toEqual([
      '2024-03-09T07:30:00.000Z',
      '2024-03-11T06:30:00.000Z',
      '2024-03-12T06:30:00.000Z',
    ]);
  });

  it('fires twice at a time that repeats', () => {
    // 2024-11-03: 02:00 EDT falls back to 01:00 EST, so 01:30 happens twice.
    const s = spec({ cronExpressions: ['30 1 * * *'], timezone: 'America/New_York' });
    expect(times(s, '2024-11-02T12:00:00Z', 3)).toEqual([
      '2024-11-03T05:30:00.000Z',
      '2024-11-03T06:30:00.000Z',
      '2024-11-04T06:30:00.000Z',
    ]);
  });

  it('rejects an unknown time zone naming it', () => {
    expect(() => assertScheduleSpec(spec({ timezone: 'Mars/Olympus' }))).toThrow('Unknown time zone "Mars/Olympus"');
    expect(() => assertScheduleSpec(spec({ cronExpressions: ['TZ=Nowhere/Land 0 * * * *'] }))).toThrow('Unknown time zone "Nowhere/Land"');
  });
});

describe('intervals', () => {
  it('are aligned to the epoch, with an offset', () => {
    expect(iso(nextIntervalTime(3_600_000, 0, at('2024-01-01T10:20:00Z')))).toBe('2024-01-01T11:00:00.000Z');
    expect(iso(nextIntervalTime(3_600_000, 900_000, at('2024-01-01T10:20:00Z')))).toBe('2024-01-01T11:15:00.000Z');
    expect(iso(nextIntervalTime(3_600_000, 900_000, at('2024-01-01T10:10:00Z')))).toBe('2024-01-01T10:15:00.000Z');
    expect(iso(nextIntervalTime(86_400_000, 0, at('2024-01-01T00:00:00Z')))).toBe('2024-01-02T00:00:00.000Z');
  });

  it('join cron strings, bounded by startAt and endAt (inclusive)', () => {
    const s = spec({
      intervals: [{ every: 3_600_000, offset: 0 }],
      cronExpressions: ['30 10 * * *'],
      startAt: at('2024-01-01T10:00:00Z'),
      endAt: at('2024-01-01T12:00:00Z'),
    });
    expect(times(s, '2024-01-01T00:00:00Z', 5)).toEqual([
      '2024-01-01T10:00:00.000Z',
      '2024-01-01T10:30:00.000Z',
      '2024-01-01T11:00:00.000Z',
      '2024-01-01T12:00:00.000Z',
      undefined,
    ]);
    expect(nominalTimesBetween(s, at('2024-01-01T10:30:00Z'), at('2024-01-01T11:00:00Z')).map(iso)).toEqual([
      '2024-01-01T10:30:00.000Z',
      '2024-01-01T11:00:00.000Z',
    ]);
  });

  it('rejects every <= 0', () => {
    expect(() => assertScheduleSpec(spec({ intervals: [{ every: 0, offset: 0 }] }))).toThrow('every must be > 0, got 0');
  });
});

describe('jitter', () => {
  it('is deterministic, within [0, jitter) and never past the next time', () => {
    const s = spec({ intervals: [{ every: 60_000, offset: 0 }], jitter: 30_000 });
    const delays = Array.from({ length: 200 }, (_, i) => jitterOf(s, i * 60_000, 'ns-sched'));
    expect(delays.every((d) => d >= 0 && d < 30_000)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(100);
    expect(jitterOf(s, 120_000, 'ns-sched')).toBe(delays[2]);
    const capped = spec({ intervals: [{ every: 1000, offset: 0 }], jitter: 60_000 });
    expect(Array.from({ length: 50 }, (_, i) => jitterOf(capped, i * 1000, 'x')).every((d) => d < 1000)).toBe(true);
  });
});

it('names times as RFC 3339 UTC seconds', () => {
  expect(scheduleTimeId(at('2024-01-02T03:04:05.678Z'))).toBe('2024-01-02T03:04:05Z');
});
