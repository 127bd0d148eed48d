/**
 * The `durabull` command: parses the command line (`util.parseArgs`), runs the command, and turns
 * every error into one line on stderr with an exit code (1 failure, 2 usage error). `run()` does
 * it all against given writers, so tests call the CLI in-process; `main()` wires it to the
 * process (argv, stdout, stderr, Ctrl-C, exit code).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  CancelledError,
  RedisConnectionError,
  TerminatedError,
  TimeoutError,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from '@durabull/sdk';
import type { CommandSpec, OptionSpec, OptionValues } from './command';
import { dev } from './commands/dev';
import { workflowCommands } from './commands/workflow';
import { checkRedisUrl, describeConnectionError, redactUrl } from './connection';
import { CommandContext } from './context';
import type { GlobalOptions } from './context';
import { CliError, UsageError, oneLine } from './errors';
import { formatCauseChain } from './output';
import type { CliIO } from './output';

export type { CliIO } from './output';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  namespace: { type: 'string', value: '<name>', description: 'namespace (default: DURABULL_NAMESPACE, else "default")' },
  redis: { type: 'string', value: '<url>', description: `Redis URL (default: REDIS_URL, else ${DEFAULT_REDIS_URL})` },
  output: { type: 'string', short: 'o', value: '<format>', description: 'table (default) or json' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
};

const COMMANDS: CommandSpec[] = [dev, ...workflowCommands];

// ---------------------------------------------------------------------------------------------
// Help
// ---------------------------------------------------------------------------------------------

function optionLines(options: Record<string, OptionSpec>): string[] {
  const rows = Object.entries(options).map(([name, spec]) => [
    `${spec.short ? `-${spec.short}, ` : '    '}--${name}${spec.value ? ` ${spec.value}` : ''}`,
    spec.description,
  ]);
  const width = Math.max(...rows.map(([left]) => left!.length));
  return rows.map(([left, right]) => `  ${left!.padEnd(width)}  ${right}`);
}

function commandList(commands: CommandSpec[]): string[] {
  const width = Math.max(...commands.map((c) => c.words.join(' ').length));
  return commands.map((c) => `  ${c.words.join(' ').padEnd(width)}  ${c.summary}`);
}

const FOOTER = [
  'Exit codes: 0 success; 1 failure (workflow failed, not found, Redis unreachable); 2 usage error.',
  'Errors are one line on stderr; set DURABULL_DEBUG=1 for stack traces.',
];

function topHelp(): string {
  return [
    'durabull: start and inspect Durabull workflows, and run a Redis for development.',
    '',
    'Usage: durabull <command> [options]',
    '',
    'Commands:',
    ...commandList(COMMANDS),
    '',
    'Global options (every command):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run durabull <command> --help for the options of a command; durabull --version prints the version.',
    ...FOOTER,
  ].join('\n');
}

function workflowHelp(): string {
  return [
    'Usage: durabull workflow <command> [options]',
    '',
    'Commands:',
    ...commandList(workflowCommands),
    '',
    'Global options (every command):',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    'Run durabull workflow <command> --help for the options of a command.',
  ].join('\n');
}

function commandHelp(command: CommandSpec): string {
  return [
    `Usage: durabull ${command.words.join(' ')} ${command.usage}`.trimEnd(),
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...optionLines(command.options),
    '',
    'Global options:',
    ...optionLines(GLOBAL_OPTIONS),
    ...(command.details ? ['', command.details] : []),
  ].join('\n');
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

type Parsed =
  | { kind: 'text'; text: string }
  | { kind: 'command'; command: CommandSpec; values: OptionValues; globals: GlobalOptions };

/** Turns parseArgs' errors into short ones. */
function parseError(error: unknown, command: CommandSpec): UsageError {
  const { code, message } = error as { code?: string; message?: string };
  const quoted = /'([^']+)'/.exec(message ?? '')?.[1];
  const name = command.words.join(' ');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown option ${quoted ?? ''} for "${name}" (see durabull ${name} --help)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const option = quoted?.split(' ')[0] ?? 'an option';
      return message?.includes('ambiguous')
        ? new UsageError(`${option} needs a value (write ${option}=<value> for a value that starts with "-")`)
        : new UsageError(`${option} ${message?.includes('does not take') ? 'takes no value' : 'needs a value'}`);
    }
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new UsageError(`unexpected argument ${quoted === undefined ? '' : JSON.stringify(quoted)} for "${name}" (see durabull ${name} --help)`);
    default:
      return new UsageError(oneLine(message ?? String(error)));
  }
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const words: string[] = [];
  for (const arg of argv) {
    if (arg.startsWith('-')) break;
    words.push(arg);
  }
  const rest = argv.slice(words.length);
  const wantsHelp = rest.includes('--help') || rest.includes('-h');

  if (words[0] === 'help') {
    // `durabull help [command...]`
    return parse([...words.slice(1), '--help'], env);
  }
  if (words.length === 0) {
    if (rest.includes('--version') || rest.includes('-v')) return { kind: 'text', text: version() };
    if (rest.length === 0 || wantsHelp) return { kind: 'text', text: topHelp() };
    throw new UsageError(`options go after a command (see durabull --help)`);
  }
  if (words[0] === 'workflow' && words.length === 1) {
    if (rest.length === 0 || wantsHelp) return { kind: 'text', text: workflowHelp() };
    throw new UsageError('durabull workflow needs a command (see durabull workflow --help)');
  }
  const command = COMMANDS.find((c) => c.words.every((word, i) => words[i] === word));
  if (!command) {
    const unknown = words[0] === 'workflow' ? `workflow ${words[1]}` : words[0]!;
    const where = words[0] === 'workflow' ? 'durabull workflow --help' : 'durabull --help';
    throw new UsageError(`unknown command ${JSON.stringify(unknown)} (see ${where})`);
  }
  if (words.length > command.words.length) {
    const extra = words[command.words.length]!;
    throw new UsageError(`unexpected argument ${JSON.stringify(extra)} for "${command.words.join(' ')}" (see durabull ${command.words.join(' ')} --help)`);
  }
  if (wantsHelp) return { kind: 'text', text: commandHelp(command) };

  let values: OptionValues;
  try {
    values = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      strict: true,
      allowPositionals: false,
    }).values as OptionValues;
  } catch (error) {
    throw parseError(error, command);
  }
  if (values['help'] === true) return { kind: 'text', text: commandHelp(command) };

  const output = (values['output'] as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, got ${JSON.stringify(output)}`);
  const flagUrl = values['redis'] as string | undefined;
  const envUrl = env['REDIS_URL'] || undefined;
  const redisUrl = flagUrl ?? envUrl ?? DEFAULT_REDIS_URL;
  checkRedisUrl(redisUrl);
  const namespace = (values['namespace'] as string | undefined) ?? (env['DURABULL_NAMESPACE'] || 'default');
  if (namespace === '') throw new UsageError('--namespace needs a value');
  return { kind: 'command', command, values, globals: { namespace, redisUrl, redisGiven: (flagUrl ?? envUrl) !== undefined, output } };
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

function isConnectionFailure(error: unknown): boolean {
  if (error instanceof RedisConnectionError) return true;
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || /Connection is closed|Stream isn't writeable/.test(error.message);
}

/** The one-line error and exit code for whatever a command threw. */
function toCliError(error: unknown, ctx: CommandContext | undefined): CliError {
  if (error instanceof CliError) return error;
  const namespace = ctx?.globals.namespace ?? 'default';
  if (error instanceof WorkflowFailureError) {
    const cause = error.cause;
    const outcome =
      cause instanceof CancelledError ? 'was cancelled' : cause instanceof TerminatedError ? 'was terminated' : cause instanceof TimeoutError ? 'timed out' : 'failed';
    return new CliError(`workflow ${JSON.stringify(error.workflowId)} (run ${error.runId}) ${outcome}: ${formatCauseChain(cause)}`);
  }
  if (error instanceof WorkflowNotFoundError) {
    if (error.message.startsWith('Workflow execution already completed')) {
      return new CliError(`workflow ${JSON.stringify(error.workflowId)} (run ${error.runId ?? '?'}) is not running: it has already closed`);
    }
    const run = error.runId === undefined ? '' : ` run ${JSON.stringify(error.runId)}`;
    return new CliError(`workflow ${JSON.stringify(error.workflowId)}${run} not found in namespace ${JSON.stringify(namespace)}`);
  }
  if (error instanceof WorkflowAlreadyStartedError) {
    return new CliError(
      `workflow ${JSON.stringify(error.workflowId)} is already running in namespace ${JSON.stringify(namespace)} (type ${error.workflowType})`,
    );
  }
  if (isConnectionFailure(error)) {
    const cause = error instanceof RedisConnectionError ? error.cause : error;
    const url = ctx?.globals.redisUrl ?? DEFAULT_REDIS_URL;
    return ctx?.unreachable(cause) ?? new CliError(`Redis is unreachable at ${redactUrl(url)}: ${describeConnectionError(cause)}`);
  }
  // The SDK checks option values (names, durations, ids) with TypeErrors: bad input, exit code 2.
  if (error instanceof TypeError) return new UsageError(oneLine(error.message));
  return new CliError(oneLine(error instanceof Error ? error.message || error.name : String(error)));
}

// ---------------------------------------------------------------------------------------------

/**
 * Runs the CLI with `argv` (the arguments after `durabull`), writing to `io`. Resolves to the exit
 * code; never rejects. Closes every connection it opened before it resolves.
 */
export async function run(argv: readonly string[], io: CliIO): Promise<number> {
  const env = io.env ?? process.env;
  let ctx: CommandContext | undefined;
  try {
    const parsed = parse([...argv], env);
    if (parsed.kind === 'text') {
      io.stdout(`${parsed.text}\n`);
      return 0;
    }
    ctx = new CommandContext(io, env, parsed.globals);
    return await parsed.command.run(ctx, parsed.values);
  } catch (error) {
    const failure = toCliError(error, ctx);
    io.stderr(`durabull: ${failure.message}\n`);
    if (env['DURABULL_DEBUG'] === '1' && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    return failure.exitCode;
  } finally {
    await ctx?.close();
  }
}

/** Runs the CLI on the process: argv, stdout, stderr, Ctrl-C (SIGINT/SIGTERM), exit code. */
export function main(): void {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    // The first Ctrl-C stops the command cleanly; a second one does not wait for that.
    if (++signals > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  void run(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    signal: controller.signal,
  }).then((code) => {
    process.exitCode = code;
    // Everything is closed; exit once the output is flushed, whatever handle a library left behind.
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  });
}

if (require.main === module) main();
