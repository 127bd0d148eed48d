// Starting `durabull ui` in-process (the CLI's run(), stopped as Ctrl-C stops it) and a headless
// chromium (Debian's, through playwright-core) for the web UI's tests.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext } from 'playwright-core';
import { run } from '../../../apps/cli/src/main';

export const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
/** Where the tests save their screenshots (git-ignored). */
export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');
const CHROMIUM = process.env['DURABULL_CHROMIUM'] || '/usr/bin/chromium';

/** A running `durabull ui`. */
export interface RunningUi {
  /** The URL it printed. */
  url: string;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Stops it (Ctrl-C) and resolves to its exit code. */
  stop(): Promise<number>;
}

/** What a CLI invocation that ended produced. */
export interface Ended {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `durabull <argv>` in-process. Resolves once it printed the UI's URL (a running UI), or
 * once it ended (refused to start).
 */
export async function startUi(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningUi | Ended> {
  const controller = new AbortController();
  let stdout = '';
  let stderr = '';
  let printed: (url: string) => void = () => undefined;
  const urlPrinted = new Promise<string>((resolve) => (printed = resolve));
  const exit = run(argv, {
    stdout: (text) => {
      stdout += text;
      const url = /Web UI: (\S+)/.exec(stdout)?.[1] ?? /"url": "([^"]+)"/.exec(stdout)?.[1];
      if (url) printed(url);
    },
    stderr: (text) => (stderr += text),
    env: { PATH: process.env['PATH'], ...env },
    signal: controller.signal,
  });
  const first = await Promise.race([urlPrinted, exit.then((code) => ({ code }))]);
  if (typeof first === 'object') return { code: first.code, stdout, stderr };
  return {
    url: first,
    stderr: () => stderr,
    stop: async () => {
      controller.abort();
      return exit;
    },
  };
}

export function isRunning(ui: RunningUi | Ended): ui is RunningUi {
  return 'url' in ui;
}

/** Starts a UI that must start. */
export async function startRunningUi(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningUi> {
  const ui = await startUi(argv, env);
  if (!isRunning(ui)) throw new Error(`durabull ${argv.join(' ')} exited ${ui.code}: ${ui.stderr}`);
  return ui;
}

/** A headless chromium with a new empty profile; close() also removes the profile. */
export async function launchBrowser(): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'durabull-ui-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1360, height: 900 },
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  return {
    browser: context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}

export type { Browser };
