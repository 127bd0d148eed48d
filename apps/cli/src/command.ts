import type { CommandContext } from './context';
import { UsageError } from './errors';

/** One option of a command, for `util.parseArgs` and for the help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Placeholder of the value in the help text (`<id>`). */
  value?: string;
  description: string;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** A command: its words (`workflow start`), options, help and what it does. */
export interface CommandSpec {
  words: string[];
  summary: string;
  /** What follows `durabull <words>` in the usage line. */
  usage: string;
  options: Record<string, OptionSpec>;
  /** Further help text (examples, notes). */
  details?: string;
  /** Runs the command; resolves to the exit code. */
  run(ctx: CommandContext, values: OptionValues): Promise<number>;
}

/** The string value of an option, or undefined. */
export function optionalString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The string value of a required option. @throws UsageError naming the option when it is missing. */
export function requiredString(values: OptionValues, name: string, command: CommandSpec): string {
  const value = optionalString(values, name);
  if (value === undefined || value === '') {
    throw new UsageError(`durabull ${command.words.join(' ')} needs --${name} (see durabull ${command.words.join(' ')} --help)`);
  }
  return value;
}

/** A positive integer option. @throws UsageError */
export function optionalPositiveInteger(values: OptionValues, name: string, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`--${name} must be an integer from 1 to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Parses a JSON option value. @throws UsageError `--<name> is not valid JSON: <why>` */
export function parseJsonOption(values: OptionValues, name: string): { value: unknown } | undefined {
  const text = optionalString(values, name);
  if (text === undefined) return undefined;
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    throw new UsageError(`--${name} is not valid JSON: ${(error as Error).message}`);
  }
}
