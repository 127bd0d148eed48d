import { readFileSync } from 'node:fs';
import type { CommandContext } from './context';
import { UsageError } from './errors';

/** One option of a command, for the parser (commander) and for the help text. */
export interface OptionSpec {
  type: 'string' | 'boolean';
  /** One-letter short form (`w` for `-w`). */
  short?: string;
  /** Placeholder of the value in the help text (`<id>`). */
  value?: string;
  description: string;
  /** Other long names of the option (earlier names kept working), not shown in the option list. */
  aliases?: string[];
  /**
   * The option may be given several times: its value is the list of values, in order. Any other
   * option given twice is a usage error.
   */
  repeatable?: boolean;
  /** The only values the option accepts. */
  choices?: readonly string[];
}

/** Parsed options, by long name: a string, `true`, or a string list for a repeatable option. */
export type OptionValues = Record<string, string | boolean | string[] | undefined>;

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

/** `--workflow-id`/`-w` (Temporal's name; `--id` kept as an alias). */
export const ID: Record<string, OptionSpec> = {
  'workflow-id': { type: 'string', short: 'w', value: '<workflowId>', description: 'workflow id', aliases: ['id'] },
};
/** `--run-id`/`-r`. */
export const RUN_ID: Record<string, OptionSpec> = {
  'run-id': { type: 'string', short: 'r', value: '<runId>', description: 'a run of the workflow id (default: its current or latest run)' },
};

/** The string value of an option, or undefined. */
export function optionalString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** The values of a repeatable option, in order (none: an empty list). */
export function optionalStrings(values: OptionValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : typeof value === 'string' ? [value] : [];
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

/** `--input`, `--input-file` and `--args`: the arguments of a workflow, signal, query or update. */
export function inputOptions(what: string): Record<string, OptionSpec> {
  return {
    input: {
      type: 'string',
      short: 'i',
      value: '<JSON>',
      repeatable: true,
      description: `a ${what} argument, as JSON (one per argument)`,
    },
    'input-file': {
      type: 'string',
      value: '<file>',
      repeatable: true,
      description: `a file holding a ${what} argument, as JSON (one per argument)`,
    },
    args: { type: 'string', value: '<JSON array>', description: `the ${what} arguments, as a JSON array (zero or several)` },
  };
}

/**
 * The arguments `--input` (each a JSON value), `--input-file` (each a file of one JSON value) or
 * `--args` (a JSON array) give; none: no arguments. @throws UsageError naming the bad option
 */
export function inputArguments(values: OptionValues): unknown[] {
  const inputs = optionalStrings(values, 'input');
  const files = optionalStrings(values, 'input-file');
  const args = parseJsonOption(values, 'args');
  if (inputs.length > 0 && args) throw new UsageError('give either --input or --args, not both');
  if (files.length > 0 && args) throw new UsageError('give either --input-file or --args, not both');
  if (inputs.length > 0 && files.length > 0) throw new UsageError('give either --input or --input-file, not both');
  if (args) {
    if (!Array.isArray(args.value)) throw new UsageError(`--args must be a JSON array, got ${JSON.stringify(args.value)}`);
    return args.value;
  }
  const parseJson = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new UsageError(`${what} is not valid JSON: ${(error as Error).message}`);
    }
  };
  if (files.length > 0) {
    return files.map((file) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new UsageError(`--input-file ${JSON.stringify(file)} cannot be read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      return parseJson(text, `--input-file ${JSON.stringify(file)}`);
    });
  }
  return inputs.map((text) => parseJson(text, '--input'));
}
