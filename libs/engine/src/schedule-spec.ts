// When a schedule fires (TEMPORAL-SEMANTICS §22.1): cron strings and intervals, in a time zone,
// between startAt and endAt, each time delayed by a deterministic jitter. Pure functions of the
// spec and a time (ms since the epoch), shared by the engine (firing) and clients (validation,
// describe). Time zones come from Intl: no time zone database of our own.

import { createHash } from 'node:crypto';
import { CRON_DESCRIPTORS } from './cron';

/** A schedule's spec with every duration in ms and every time in ms since the epoch (stored form). */
export interface CompiledScheduleSpec {
  cronExpressions: string[];
  intervals: Array<{ every: number; offset: number }>;
  startAt?: number;
  endAt?: number;
  jitter: number;
  timezone: string;
}

/** A parsed cron string: the allowed values of each field. */
export interface CronSchedule {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  daysOfMonth: Set<number>;
  months: Set<number>;
  /** 0 = Sunday (7 is folded into 0). */
  daysOfWeek: Set<number>;
  /** Undefined for any year. */
  years?: Set<number>;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const EVERY_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function badCron(cron: string, reason: string): TypeError {
  return new TypeError(`Invalid cron expression ${JSON.stringify(cron)}: ${reason}`);
}

/** One cron field: `*`, `?`, values or names, ranges `a-b`, steps `/n`, lists `a,b`. */
function parseField(cron: string, text: string, min: number, max: number, what: string, names?: string[]): Set<number> {
  const values = new Set<number>();
  const value = (token: string): number => {
    const named = names?.indexOf(token.toUpperCase()) ?? -1;
    const n = named >= 0 ? named + (min === 1 ? 1 : 0) : /^\d+$/.test(token) ? Number(token) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) throw badCron(cron, `${what} ${JSON.stringify(token)} is not in ${min}-${max}`);
    return n;
  };
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '') throw badCron(cron, `bad ${what} ${JSON.stringify(part)}`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!/^\d+$/.test(stepText ?? '1') || step < 1) throw badCron(cron, `bad step ${JSON.stringify(stepText)} in ${what}`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = value(a);
      to = value(b);
      if (to < from) throw badCron(cron, `bad ${what} range ${JSON.stringify(range)}`);
    } else {
      from = value(range);
      // `a/n` runs from a to the field's end.
      to = stepText === undefined ? from : max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return values;
}

/**
 * Parses a cron string as Temporal does: 5 fields (minute hour day-of-month month day-of-week),
 * 6 (second first) or 7 (then year); `@yearly|annually|monthly|weekly|daily|midnight|hourly`;
 * names of months and days; Sunday is 0 or 7. A `CRON_TZ=`/`TZ=` prefix and a `#` comment are
 * handled by {@link splitCron}. `@every` strings are intervals (see {@link splitCron}).
 * @throws TypeError naming the expression and the bad field
 */
export function parseCron(cron: string): CronSchedule {
  const text = (CRON_DESCRIPTORS[cron.trim().toLowerCase()] ?? cron).trim();
  const fields = text.split(/\s+/);
  if (fields.length < 5 || fields.length > 7) throw badCron(cron, `expected 5, 6 or 7 fields, got ${text === '' ? 0 : fields.length}`);
  if (fields.length === 5) fields.unshift('0');
  const [s, mi, h, dom, mo, dow, year] = fields as [string, string, string, string, string, string, string | undefined];
  const daysOfWeek = parseField(cron, dow, 0, 7, 'day of week', DAYS);
  if (daysOfWeek.delete(7)) daysOfWeek.add(0);
  return {
    seconds: parseField(cron, s, 0, 59, 'second'),
    minutes: parseField(cron, mi, 0, 59, 'minute'),
    hours: parseField(cron, h, 0, 23, 'hour'),
    daysOfMonth: parseField(cron, dom, 1, 31, 'day of month'),
    months: parseField(cron, mo, 1, 12, 'month', MONTHS),
    daysOfWeek,
    years: year === undefined || year === '*' ? undefined : parseField(cron, year, 1970, 2199, 'year'),
  };
}

/**
 * Splits a cron string into what it stands for: a calendar (with the time zone of a `CRON_TZ=` or
 * `TZ=` prefix, if any) or, for `@every <n><s|m|h|d>[/<offset>]`, an interval.
 * @throws TypeError naming the expression
 */
export function splitCron(cron: string): { cron: string; timezone?: string } | { every: number; offset: number } {
  let text = cron.replace(/#.*$/, '').trim();
  let timezone: string | undefined;
  const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+/.exec(text);
  if (tz) {
    timezone = tz[1]!;
    text = text.slice(tz[0].length);
  }
  if (text.startsWith('@every')) {
    const match = /^@every\s+(\d+)([smhd])(?:\/(\d+)([smhd]))?$/.exec(text);
    if (!match) throw badCron(cron, 'expected @every <n><s|m|h|d>[/<offset>]');
    const every = Number(match[1]) * EVERY_UNITS[match[2]!]!;
    if (every <= 0) throw badCron(cron, 'the interval must be > 0');
    return { every, offset: match[3] ? Number(match[3]) * EVERY_UNITS[match[4]!]! : 0 };
  }
  parseCron(text);
  return timezone === undefined ? { cron: text } : { cron: text, timezone };
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Checks a time zone name (an IANA name such as `America/New_York`, or `UTC`).
 * @throws TypeError naming it when Intl does not know it
 */
export function assertTimeZone(timezone: string): void {
  formatter(timezone);
}

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: timezone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch {
      throw new TypeError(`Unknown time zone ${JSON.stringify(timezone)}`);
    }
    formatters.set(timezone, format);
  }
  return format;
}

const isUtc = (timezone: string) => timezone === 'UTC' || timezone === 'Etc/UTC';

/** The wall-clock time of an instant in a time zone, as ms of the same fields read in UTC. */
function wallTime(instant: number, timezone: string): number {
  if (isUtc(timezone)) return instant;
  const parts: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(new Date(instant))) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const seconds = Math.floor(instant / 1000) * 1000;
  return Date.UTC(parts['year']!, parts['month']! - 1, parts['day']!, parts['hour']!, parts['minute']!, parts['second']!) + (instant - seconds);
}

const offsetAt = (instant: number, timezone: string) => wallTime(instant, timezone) - instant;

const DAY = 86_400_000;

/** The instants (0, 1 or 2 around a DST change) whose wall-clock time is `wall`. */
function instantsOf(wall: number, timezone: string): number[] {
  if (isUtc(timezone)) return [wall];
  const offsets = new Set([offsetAt(wall - DAY, timezone), offsetAt(wall + DAY, timezone)]);
  const instants = [...offsets].map((offset) => wall - offset).filter((instant) => wallTime(instant, timezone) === wall);
  return [...new Set(instants)].sort((a, b) => a - b);
}

/** The first wall-clock time >= `from` (whole seconds) that the cron matches; undefined past 2199. */
function nextWall(schedule: CronSchedule, from: number): number | undefined {
  let t = new Date(Math.ceil(from / 1000) * 1000);
  const set = (y: number, mo: number, d: number, h: number, mi: number, s: number) => {
    t = new Date(Date.UTC(y, mo, d, h, mi, s));
  };
  for (let i = 0; i < 200_000; i++) {
    const y = t.getUTCFullYear();
    const mo = t.getUTCMonth();
    const d = t.getUTCDate();
    const h = t.getUTCHours();
    const mi = t.getUTCMinutes();
    if (y > 2199) return undefined;
    if (schedule.years && !schedule.years.has(y)) set(y + 1, 0, 1, 0, 0, 0);
    else if (!schedule.months.has(mo + 1)) set(y, mo + 1, 1, 0, 0, 0);
    // Day of month and day of week are ANDed, as Temporal does.
    else if (!schedule.daysOfMonth.has(d) || !schedule.daysOfWeek.has(t.getUTCDay())) set(y, mo, d + 1, 0, 0, 0);
    else if (!schedule.hours.has(h)) set(y, mo, d, h + 1, 0, 0);
    else if (!schedule.minutes.has(mi)) set(y, mo, d, h, mi + 1, 0);
    else if (!schedule.seconds.has(t.getUTCSeconds())) set(y, mo, d, h, mi, t.getUTCSeconds() + 1);
    else return t.getTime();
  }
  return undefined;
}

/**
 * The first instant after `after` (exclusive) that a cron string matches in `timezone`. A wall
 * time that DST skips does not fire; one that repeats fires at both instants.
 */
export function nextCronTime(schedule: CronSchedule, timezone: string, after: number): number | undefined {
  // Every instant u > after has wall(u) >= after + the smaller of the offsets around it.
  let wall = after + Math.min(offsetAt(after - DAY, timezone), offsetAt(after + DAY, timezone));
  for (let i = 0; i < 100_000; i++) {
    const next = nextWall(schedule, wall);
    if (next === undefined) return undefined;
    const instant = instantsOf(next, timezone).find((candidate) => candidate > after);
    if (instant !== undefined) return instant;
    wall = next + 1000;
  }
  return undefined;
}

/** The first time after `after` (exclusive) of `epoch + n·every + offset`. */
export function nextIntervalTime(every: number, offset: number, after: number): number {
  const phase = offset % every;
  return phase + (Math.floor((after - phase) / every) + 1) * every;
}

/** Parsed cron strings of a spec, cached by the spec object. */
const parsed = new WeakMap<CompiledScheduleSpec, Array<{ schedule: CronSchedule; timezone: string } | { every: number; offset: number }>>();

function parts(spec: CompiledScheduleSpec) {
  let list = parsed.get(spec);
  if (!list) {
    list = [
      ...spec.cronExpressions.map((cron) => {
        const split = splitCron(cron);
        return 'every' in split ? split : { schedule: parseCron(split.cron), timezone: split.timezone ?? spec.timezone };
      }),
      ...spec.intervals,
    ];
    parsed.set(spec, list);
  }
  return list;
}

/**
 * The spec's first nominal (pre-jitter) time after `after` (exclusive): the earliest of its cron
 * strings and intervals, within startAt and endAt (both inclusive); undefined when there is none.
 */
export function nextNominalTime(spec: CompiledScheduleSpec, after: number): number | undefined {
  const from = spec.startAt !== undefined ? Math.max(after, spec.startAt - 1) : after;
  let best: number | undefined;
  for (const part of parts(spec)) {
    const next = 'every' in part ? nextIntervalTime(part.every, part.offset, from) : nextCronTime(part.schedule, part.timezone, from);
    if (next !== undefined && (best === undefined || next < best)) best = next;
  }
  return best !== undefined && spec.endAt !== undefined && best > spec.endAt ? undefined : best;
}

/**
 * The jitter of a nominal time: a deterministic delay in [0, jitter) ms, a hash of the time and
 * `seed` (`<namespace>-<schedule id>`), capped so the time never passes the next nominal time.
 */
export function jitterOf(spec: CompiledScheduleSpec, nominal: number, seed: string): number {
  if (spec.jitter <= 0) return 0;
  const hash = createHash('sha256').update(`${seed}|${nominal}`).digest();
  let delay = hash.readUInt32BE(0) % Math.floor(spec.jitter);
  const next = nextNominalTime(spec, nominal);
  if (next !== undefined && nominal + delay >= next) delay = Math.max(0, next - nominal - 1);
  return delay;
}

/** Nominal times of the spec in [from, to] (both inclusive), at most `limit`. */
export function nominalTimesBetween(spec: CompiledScheduleSpec, from: number, to: number, limit = 1000): number[] {
  const times: number[] = [];
  for (let t = nextNominalTime(spec, from - 1); t !== undefined && t <= to && times.length < limit; t = nextNominalTime(spec, t)) {
    times.push(t);
  }
  return times;
}

/**
 * Checks a stored spec (cron strings, intervals, time zone), throwing a TypeError that names the
 * bad value.
 */
export function assertScheduleSpec(spec: CompiledScheduleSpec): void {
  assertTimeZone(spec.timezone);
  for (const cron of spec.cronExpressions) {
    const split = splitCron(cron);
    if ('timezone' in split && split.timezone !== undefined) assertTimeZone(split.timezone);
  }
  for (const { every, offset } of spec.intervals) {
    if (!Number.isFinite(every) || every <= 0) throw new TypeError(`Invalid schedule interval: every must be > 0, got ${JSON.stringify(every)}`);
    if (!Number.isFinite(offset) || offset < 0) throw new TypeError(`Invalid schedule interval offset: ${JSON.stringify(offset)}`);
  }
  if (spec.startAt !== undefined && spec.endAt !== undefined && spec.endAt < spec.startAt) {
    throw new TypeError(`Invalid schedule spec: endAt ${new Date(spec.endAt).toISOString()} is before startAt ${new Date(spec.startAt).toISOString()}`);
  }
}

/** `2024-01-02T03:04:05Z`: a time truncated to seconds, RFC 3339 UTC (started workflows' id suffix). */
export function scheduleTimeId(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
