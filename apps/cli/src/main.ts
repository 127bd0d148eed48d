/**
 * The `durabull` command: parses the command line (commander), runs the command, and turns every
 * error into one line on stderr with an exit code (1 failure, 2 usage error). `run()` does it all
 * against given writers, so tests call the CLI in-process; `main()` wires it to the process (argv,
 * stdout, stderr, Ctrl-C, exit code).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import {
  CancelledError,
  NamespaceNotFoundError,
  RedisConnectionError,
  TerminatedError,
  TimeoutError,
  WorkflowAlreadyStartedError,
  WorkflowFailureError,
  WorkflowNotFoundError,
} from '@durabull/sdk';
import type { CommandSpec, OptionSpec, OptionValues } from './command';
import { dev } from './commands/dev';
import { scheduleCommands } from './commands/schedule';
import { taskQueueCommands } from './commands/task-queue';
import { uiCommand } from './commands/ui';
import { workflowCommands } from './commands/workflow';
import { checkRedisUrl, describeConnectionError, redactUrl } from './connection';
import { CommandContext } from './context';
import type { GlobalOptions } from './context';
import { CliError, UsageError, oneLine } from './errors';
import { formatCauseChain } from './output';
import type { CliIO, OutputFormat } from './output';

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

const OUTPUT_FORMATS = ['table', 'json', 'jsonl'] as const;

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  namespace: { type: 'string', short: 'n', value: '<name>', description: 'namespace (default: DURABULL_NAMESPACE, else "default")' },
  redis: {
    type: 'string',
    value: '<url>',
    description: `Redis: a redis:// or rediss:// URL (user and password in it for ACL users), or Redis Cluster nodes host:port,host:port (default: REDIS_URL, else ${DEFAULT_REDIS_URL})`,
  },
  'tls-ca': { type: 'string', value: '<file>', description: 'PEM file of the certificate authorities to trust for rediss:// (default: DURABULL_TLS_CA, else the system\'s)' },
  output: { type: 'string', short: 'o', value: '<format>', description: 'table (default), json, or jsonl (one JSON document per line)', choices: OUTPUT_FORMATS },
};

const COMMANDS: CommandSpec[] = [dev, uiCommand, ...workflowCommands, ...scheduleCommands, ...taskQueueCommands];

/** What the groups of commands are for, in `durabull --help`. */
const GROUPS: Record<string, string> = {
  workflow: 'start, inspect and act on workflow runs',
  schedule: 'create, inspect and act on schedules (workflows started at cron or interval times)',
  'task-queue': 'inspect task queues (which workers poll them)',
};

const FOOTER = [
  'Global options go before or after the command.',
  'Exit codes: 0 success; 1 failure (workflow failed, not found, Redis unreachable); 2 usage error.',
  'Errors are one line on stderr; set DURABULL_DEBUG=1 for stack traces.',
].join('\n');

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---------------------------------------------------------------------------------------------
// Parsing (commander): the command tree is built from the CommandSpecs for each run
// ---------------------------------------------------------------------------------------------

/**
 * Adds `options` to `command`; their values land in `values` (by long name, aliases included),
 * checked as they are parsed: a single-value option given twice is a usage error, a repeatable
 * one collects its values.
 */
function addOptions(command: Command, options: Record<string, OptionSpec>, values: OptionValues): void {
  for (const [name, spec] of Object.entries(options)) {
    const flags = (long: string, short?: string) => `${short ? `-${short}, ` : ''}--${long}${spec.type === 'string' ? ` ${spec.value ?? '<value>'}` : ''}`;
    const shown = (spec.aliases ?? []).map((alias) => `--${alias}`);
    const description = `${spec.description}${spec.repeatable ? ' (repeatable)' : ''}${shown.length ? ` (also ${shown.join(', ')})` : ''}`;
    const names = [name, ...(spec.aliases ?? [])];
    const given = new Map<string, string>();
    names.forEach((long, i) => {
      const option = new Option(flags(long, i === 0 ? spec.short : undefined), description);
      if (i > 0) option.hideHelp();
      if (spec.type === 'string') {
        option.argParser((value: string) => {
          if (spec.choices && !spec.choices.includes(value)) throw new InvalidArgumentError(`Allowed choices are ${spec.choices.join(', ')}.`);
          if (spec.repeatable) {
            values[name] = [...((values[name] as string[] | undefined) ?? []), value];
          } else {
            const [earlier] = given.entries().next().value ?? [];
            if (earlier !== undefined) {
              throw new UsageError(
                `--${name} takes one value, given twice (${earlier === long ? `--${long}` : `--${earlier} and --${long}`}: ${JSON.stringify(given.get(earlier))} and ${JSON.stringify(value)})`,
              );
            }
            given.set(long, value);
            values[name] = value;
          }
          return value;
        });
      } else {
        command.on(`option:${option.name()}`, () => (values[name] = true));
      }
      command.addOption(option);
    });
  }
}

/** Throws the usage error for `durabull <group> <unknown>`, or prints the group's help. */
function groupAction(io: CliIO, group: Command, words: string[]) {
  return () => {
    const operand = group.args[0];
    if (operand !== undefined) {
      const where = words.length ? `durabull ${words.join(' ')} --help` : 'durabull --help';
      throw new UsageError(`unknown command ${JSON.stringify([...words, operand].join(' '))} (see ${where})`);
    }
    group.outputHelp();
  };
}

interface Parsed {
  /** The command to run, or undefined when the command line only asked for help or the version. */
  command?: CommandSpec;
  values: OptionValues;
  globals: OptionValues;
}

/** The command tree for one parse, writing help and commander's errors to `io`. */
function program(io: CliIO, parsed: Parsed): Command {
  const root = new Command('durabull')
    .description('durabull: start and inspect Durabull workflows, serve the web UI, and run a Redis for development.')
    .usage('<command> [options]')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout(text),
      writeErr: (text) => io.stderr(text),
      // One line, prefixed as every error of the CLI.
      outputError: (text, write) => write(`durabull: ${text.replace(/^error: /, '')}`),
    })
    .configureHelp({ showGlobalOptions: true })
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .version(version(), '-v, --version', 'print the version')
    .allowExcessArguments(true)
    .addHelpText('after', `\n${FOOTER}`);
  addOptions(root, GLOBAL_OPTIONS, parsed.globals);
  root.action(groupAction(io, root, []));
  for (const spec of COMMANDS) {
    let parent = root;
    spec.words.slice(0, -1).forEach((word, i) => {
      let group = parent.commands.find((c) => c.name() === word);
      if (!group) {
        group = parent
          .command(word)
          .description(GROUPS[word] ?? '')
          .usage('<command> [options]')
          .helpCommand(false)
          .allowExcessArguments(true);
        group.action(groupAction(io, group, spec.words.slice(0, i + 1)));
      }
      parent = group;
    });
    const command = parent
      .command(spec.words.at(-1)!)
      .description(`${spec.summary[0]!.toUpperCase()}${spec.summary.slice(1)}.`)
      .summary(spec.summary)
      .usage(spec.usage || '[options]')
      .helpCommand(false)
      .allowExcessArguments(false);
    if (spec.details) command.addHelpText('after', `\n${spec.details}`);
    addOptions(command, spec.options, parsed.values);
    command.action(() => {
      parsed.command = spec;
    });
  }
  return root;
}

/** The global options, with their defaults from the environment. @throws UsageError */
function globalOptions(values: OptionValues, env: NodeJS.ProcessEnv): GlobalOptions {
  const output = (values['output'] as OutputFormat | undefined) ?? 'table';
  const flagUrl = values['redis'] as string | undefined;
  const envUrl = env['REDIS_URL'] || undefined;
  const redisUrl = flagUrl ?? envUrl ?? DEFAULT_REDIS_URL;
  checkRedisUrl(redisUrl);
  const namespace = (values['namespace'] as string | undefined) ?? (env['DURABULL_NAMESPACE'] || 'default');
  if (namespace === '') throw new UsageError('--namespace needs a value');
  const tlsCa = (values['tls-ca'] as string | undefined) ?? (env['DURABULL_TLS_CA'] || undefined);
  return { namespace, redisUrl, redisGiven: (flagUrl ?? envUrl) !== undefined, output, ...(tlsCa ? { tlsCa } : {}) };
}

/** Parses `argv`: the command to run and its options, or undefined after help or the version was printed. */
function parse(argv: string[], io: CliIO, env: NodeJS.ProcessEnv): { command: CommandSpec; values: OptionValues; globals: GlobalOptions } | undefined {
  // `durabull help workflow show` is `durabull workflow show --help`.
  if (argv[0] === 'help' && argv.length > 2) return parse([...argv.slice(1), '--help'], io, env);
  const parsed: Parsed = { values: {}, globals: {} };
  try {
    program(io, parsed).parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and the version exit 0; anything else commander refused is a usage error (its message is printed).
      if (error.exitCode === 0) return undefined;
      throw new CommanderUsageError();
    }
    throw error;
  }
  if (!parsed.command) return undefined;
  return { command: parsed.command, values: parsed.values, globals: globalOptions(parsed.globals, env) };
}

/** A usage error commander has already printed. */
class CommanderUsageError extends UsageError {
  constructor() {
    super('');
  }
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
  if (error instanceof NamespaceNotFoundError) {
    return new CliError(
      `namespace ${JSON.stringify(error.namespace)} does not exist at ${redactUrl(ctx?.globals.redisUrl ?? DEFAULT_REDIS_URL)} (no client or worker has opened it; workflow start creates it)`,
    );
  }
  if (error instanceof WorkflowNotFoundError) {
    if (error.message.startsWith('Workflow execution already completed')) {
      return new CliError(`workflow ${JSON.stringify(error.workflowId)} (run ${error.runId ?? '?'}) is not running: it has already closed`);
    }
    const run = error.runId === undefined ? '' : ` run ${JSON.stringify(error.runId)}`;
    return new CliError(`workflow ${JSON.stringify(error.workflowId)}${run} not found in namespace ${JSON.stringify(namespace)}`);
  }
  if (error instanceof WorkflowAlreadyStartedError) {
    const run = error.runId === undefined ? '' : ` (run ${error.runId})`;
    // Refused by the id reuse policy: the id's last run has closed.
    if (!error.message.startsWith('Workflow execution is already running')) {
      return new CliError(`workflow ${JSON.stringify(error.workflowId)} cannot start again in namespace ${JSON.stringify(namespace)}: ${error.message}`);
    }
    return new CliError(
      `workflow ${JSON.stringify(error.workflowId)}${run} is already running in namespace ${JSON.stringify(namespace)} (type ${error.workflowType})`,
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
    const parsed = parse([...argv], io, env);
    if (!parsed) return 0;
    ctx = new CommandContext(io, env, parsed.globals);
    return await parsed.command.run(ctx, parsed.values);
  } catch (error) {
    const failure = toCliError(error, ctx);
    if (!(failure instanceof CommanderUsageError)) io.stderr(`durabull: ${failure.message}\n`);
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
  // Output piped into a command that stopped reading (`| head`): stop quietly.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
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
