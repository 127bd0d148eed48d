/** Where Durabull writes its logs; pass your own (pino, winston, ...) through the worker options. */
export interface Logger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** Logs one line per entry to the console: `LEVEL message {attributes}`, from `level` up. */
export class ConsoleLogger implements Logger {
  constructor(private readonly level: LogLevel = (process.env['DURABULL_LOG_LEVEL'] as LogLevel | undefined) ?? 'warn') {}

  private write(level: LogLevel, message: string, attributes?: Record<string, unknown>): void {
    if (LEVELS.indexOf(level) < LEVELS.indexOf(this.level)) return;
    const line = `${level.toUpperCase()} ${message}${attributes && Object.keys(attributes).length > 0 ? ` ${JSON.stringify(attributes)}` : ''}`;
    (level === 'error' ? console.error : level === 'warn' ? console.warn : console.log)(line);
  }

  debug(message: string, attributes?: Record<string, unknown>): void {
    this.write('debug', message, attributes);
  }
  info(message: string, attributes?: Record<string, unknown>): void {
    this.write('info', message, attributes);
  }
  warn(message: string, attributes?: Record<string, unknown>): void {
    this.write('warn', message, attributes);
  }
  error(message: string, attributes?: Record<string, unknown>): void {
    this.write('error', message, attributes);
  }
}

/** A logger that adds fixed attributes (workflow and activity ids) to every entry. */
export function withAttributes(logger: Logger, fixed: Record<string, unknown>, enabled: () => boolean = () => true): Logger {
  const wrap =
    (level: LogLevel) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      if (enabled()) logger[level](message, { ...fixed, ...attributes });
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
