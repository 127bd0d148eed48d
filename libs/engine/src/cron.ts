// Cron schedules of workflows (the `cronSchedule` start option), compiled for the engine's Lua
// (includes/run-start.lua `cron_next`), which finds the next time in UTC. Temporal's workflow cron
// takes robfig/cron's standard 5-field expressions and its descriptors (@yearly, @annually,
// @monthly, @weekly, @daily, @midnight, @hourly, @every <duration>).

/** A cron schedule as the engine takes it: allowed values per field, or a fixed interval. */
export type CompiledCron =
  | { every: number }
  | { mi: number[]; h: number[]; dom: number[]; mon: number[]; dow: number[]; domStar: boolean; dowStar: boolean };

/** Cron's descriptors (Temporal's, as robfig/cron's) and the 5-field expression each stands for. */
export const CRON_DESCRIPTORS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS: Array<{ name: string; min: number; max: number; names?: string[]; namesFrom?: number }> = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: MONTHS, namesFrom: 1 },
  { name: 'day of week', min: 0, max: 7, names: DAYS, namesFrom: 0 },
];

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Checks and compiles a cron schedule. @throws TypeError naming the schedule and what is wrong
 * with it.
 */
export function compileCron(schedule: unknown): CompiledCron {
  const bad = (why: string) => new TypeError(`Invalid cronSchedule: ${JSON.stringify(schedule)} (${why})`);
  if (typeof schedule !== 'string' || schedule.trim() === '') throw bad('a cron expression such as "*/5 * * * *", or @every <duration>');
  const text = schedule.trim();
  if (text.startsWith('@every')) {
    const match = /^@every\s+((?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+)$/.exec(text);
    if (!match) throw bad('@every takes a duration such as 90s, 1h30m or 2d');
    let every = 0;
    for (const [, n, unit] of match[1]!.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) every += Number(n) * UNITS[unit!]!;
    every = Math.round(every);
    if (every < 1000) throw bad('@every needs at least 1s');
    return { every };
  }
  const expression = text.startsWith('@') ? CRON_DESCRIPTORS[text.toLowerCase()] : text;
  if (!expression) throw bad(`unknown descriptor; known: ${[...Object.keys(CRON_DESCRIPTORS), '@every <duration>'].join(', ')}`);
  const parts = expression.split(/\s+/);
  if (parts.length !== 5) throw bad(`5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const sets = parts.map((part, i) => parseField(part, FIELDS[i]!, bad));
  // Day of week 7 is Sunday too.
  const dow = [...new Set(sets[4]!.map((d) => d % 7))].sort((a, b) => a - b);
  const domStar = parts[2] === '*' || parts[2] === '?';
  const dowStar = parts[4] === '*' || parts[4] === '?';
  return { mi: sets[0]!, h: sets[1]!, dom: sets[2]!, mon: sets[3]!, dow, domStar, dowStar };
}

function parseField(part: string, field: (typeof FIELDS)[number], bad: (why: string) => TypeError): number[] {
  const values = new Set<number>();
  const value = (text: string): number => {
    const upper = text.toUpperCase();
    const named = field.names?.indexOf(upper) ?? -1;
    if (named >= 0) return named + field.namesFrom!;
    if (!/^\d+$/.test(text)) throw bad(`${field.name}: ${JSON.stringify(text)} is not a number`);
    const n = Number(text);
    if (n < field.min || n > field.max) throw bad(`${field.name}: ${n} is outside ${field.min}-${field.max}`);
    return n;
  };
  for (const item of part.split(',')) {
    const [range, stepText, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') throw bad(`${field.name}: ${JSON.stringify(item)}`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw bad(`${field.name}: step ${JSON.stringify(stepText)} must be a whole number above 0`);
    let from: number;
    let to: number;
    if (range === '*' || range === '?') {
      from = field.min;
      to = field.name === 'day of week' ? 6 : field.max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      from = value(a!);
      to = value(b!);
      if (from > to) throw bad(`${field.name}: range ${range} runs backwards`);
    } else {
      from = value(range);
      to = stepText === undefined ? from : field.max;
    }
    for (let n = from; n <= to; n += step) values.add(n);
  }
  return [...values].sort((a, b) => a - b);
}
