import { quoteValue } from './quote-value';

/**
 * A timedelta-like duration. Fields add up: `{ minutes: 1, milliseconds: 500 }` is 60,500 ms.
 * Every field must be a finite, non-negative number; fractions are allowed.
 */
export interface DurationObject {
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  milliseconds?: number;
}

/**
 * A length of time, accepted wherever an option takes a timeout or interval:
 * - a `number` of milliseconds (`1500`);
 * - an ms-style string: `'250ms'`, `'10s'`, `'1.5m'`, `'2h'`, `'1d'`, `'1w'`, long units such as
 *   `'10 seconds'` or `'5 msecs'`, or a bare number of milliseconds (`'500'`);
 * - a {@link DurationObject} (`{ seconds: 10 }`).
 */
export type Duration = number | string | DurationObject;

const USAGE = "use milliseconds, a string like '10s' or an object like { seconds: 10 }";

const MS_PER_UNIT: Readonly<Record<string, number>> = (() => {
  const table: Record<string, number> = {};
  const units: Array<[number, string[]]> = [
    [1, ['', 'ms', 'msec', 'msecs', 'millisecond', 'milliseconds']],
    [1000, ['s', 'sec', 'secs', 'second', 'seconds']],
    [60_000, ['m', 'min', 'mins', 'minute', 'minutes']],
    [3_600_000, ['h', 'hr', 'hrs', 'hour', 'hours']],
    [86_400_000, ['d', 'day', 'days']],
    [604_800_000, ['w', 'week', 'weeks']],
  ];
  for (const [ms, names] of units) for (const name of names) table[name] = ms;
  return table;
})();

const MS_PER_FIELD: Readonly<Record<keyof DurationObject, number>> = {
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1000,
  milliseconds: 1,
};

const DURATION_STRING = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i;

function invalid(value: unknown, what: string | undefined, reason: string): TypeError {
  return new TypeError(`Invalid duration${what ? ` for ${what}` : ''}: ${quoteValue(value)} (${reason})`);
}

function parseString(value: string, what: string | undefined): number {
  const text = value.trim();
  if (text.startsWith('-')) throw invalid(value, what, 'a duration cannot be negative');
  const match = DURATION_STRING.exec(text);
  if (!match) throw invalid(value, what, USAGE);
  const [, amount = '', unit = ''] = match;
  const perUnit = MS_PER_UNIT[unit.toLowerCase()];
  if (perUnit === undefined) {
    throw invalid(value, what, `unknown unit ${JSON.stringify(unit)}; use ms, s, m, h, d or w`);
  }
  return Number(amount) * perUnit;
}

function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  // Any realm's Object.prototype (its own prototype is null), so a Date or Map is refused.
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function parseObject(value: object, what: string | undefined): number {
  let total = 0;
  for (const [key, amount] of Object.entries(value)) {
    const perField = (MS_PER_FIELD as Record<string, number | undefined>)[key];
    if (perField === undefined) {
      throw invalid(value, what, `unknown field ${JSON.stringify(key)}; use days, hours, minutes, seconds or milliseconds`);
    }
    if (amount === undefined) continue;
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw invalid(value, what, `field ${JSON.stringify(key)} must be a finite non-negative number`);
    }
    total += amount * perField;
  }
  return total;
}

/**
 * Converts a {@link Duration} to a whole number of milliseconds (rounded with `Math.round`).
 *
 * @param value - the duration to convert.
 * @param what - the option being converted (`'startToCloseTimeout'`), named in the error.
 * @returns milliseconds, never negative.
 * @throws TypeError quoting the value when it is negative, NaN, infinite, empty, unparseable, an
 *   object with unknown fields, or not a number/string/plain object at all.
 */
export function toMilliseconds(value: Duration, what?: string): number {
  let ms: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) {
      throw invalid(value, what, 'a duration must be a finite number of milliseconds');
    }
    if (value < 0) throw invalid(value, what, 'a duration cannot be negative');
    ms = value;
  } else if (typeof value === 'string') {
    ms = parseString(value, what);
  } else if (isPlainObject(value)) {
    ms = parseObject(value, what);
  } else {
    throw invalid(value, what, USAGE);
  }
  if (!Number.isFinite(ms)) throw invalid(value, what, 'the duration is too large');
  return Math.round(ms);
}

/**
 * Like {@link toMilliseconds}, but passes `undefined` and `null` through as `undefined`,
 * for options that may be left unset.
 */
export function optionalMilliseconds(value: Duration | undefined | null, what?: string): number | undefined {
  return value === undefined || value === null ? undefined : toMilliseconds(value, what);
}

/**
 * Formats milliseconds compactly for people: `0` → `'0s'`, `250` → `'250ms'`, `1500` → `'1.5s'`,
 * `90000` → `'1m30s'`, `3600000` → `'1h'`, `90000000` → `'1d1h'`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  if (rest < 1000) return `${rest}ms`;
  let text = '';
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000]] as const) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  // Seconds keep their milliseconds as a decimal fraction: 1m1.5s rather than 1m1s500ms.
  if (rest > 0) text += `${rest / 1000}s`;
  return text;
}
