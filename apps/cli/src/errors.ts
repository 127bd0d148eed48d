/**
 * Errors the CLI reports as one line (`durabull: <message>`), with the exit code they stand for.
 * Anything else that escapes a command is reported by its message, exit code 1.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A command line that cannot run: unknown command or option, missing or bad value. Exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = 'UsageError';
  }
}

/** The user interrupted a command (Ctrl-C) while it waited. */
export class InterruptedError extends CliError {
  constructor() {
    super('interrupted', 130);
    this.name = 'InterruptedError';
  }
}

/** Text on one line: newlines and runs of whitespace become single spaces. */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
