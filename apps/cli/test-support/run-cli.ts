import { run } from '../src/main';

/** What a CLI invocation produced. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process, collecting its output (`onStdout` sees it as it grows). */
export async function cli(
  argv: string[],
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal; onStdout?: (all: string) => void } = {},
): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await run(argv, {
    stdout: (text) => {
      stdout += text;
      options.onStdout?.(stdout);
    },
    stderr: (text) => (stderr += text),
    env: options.env ?? { ...process.env, DURABULL_DEBUG: '' },
    signal: options.signal,
  });
  return { code, stdout, stderr };
}
