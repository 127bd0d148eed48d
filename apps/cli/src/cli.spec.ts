import { execFile } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { TestEnvironment } from '@durabull/testing';
import { cli } from '../test-support/run-cli';
import type { Outcome } from '../test-support/run-cli';
import { freePort, probe, which } from './redis-rule';

jest.setTimeout(30_000);

const REDIS = process.env['REDIS_URL'] || 'redis://127.0.0.1:6379';
const BIN = path.join(__dirname, '..', 'bin', 'durabull.js');

/** Runs the real bin in a child process. */
function runBin(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Outcome & { ms: number }> {
  const start = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

describe('durabull (command line)', () => {
  it('prints help for the CLI, a command group and a command', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('Usage: durabull <command> [options]');
    for (const command of ['dev', 'ui', 'workflow', 'task-queue']) expect(top.stdout).toMatch(new RegExp(`^  ${command}( \\[options\\])?\\s+\\S`, 'm'));
    expect(top.stdout).toMatch(/^ {2}-n, --namespace <name>\s+namespace/m);
    expect((await cli([])).stdout).toBe(top.stdout);
    expect((await cli(['help'])).stdout).toBe(top.stdout);
    const group = await cli(['workflow']);
    expect(group.code).toBe(0);
    expect(group.stdout).toContain('Usage: durabull workflow <command> [options]');
    for (const command of ['start', 'execute', 'describe', 'show', 'list', 'count', 'result', 'signal', 'query', 'cancel', 'terminate', 'delete']) {
      expect(group.stdout).toMatch(new RegExp(`^  ${command} \\[options\\]\\s+\\S`, 'm'));
    }
    const show = await cli(['workflow', 'show', '--help']);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('Usage: durabull workflow show --workflow-id <workflowId> [--run-id <runId>] [--follow] [--output json]');
    expect(show.stdout).toMatch(/^ {2}-w, --workflow-id <workflowId>\s+workflow id \(also --id\)$/m);
    expect(show.stdout).toMatch(/Global Options:\n(.*\n)* {2}-n, --namespace <name>/);
    expect((await cli(['help', 'workflow', 'show'])).stdout).toBe(show.stdout);
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${require('../package.json').version}\n`, stderr: '' });
  });

  it('reports usage errors as one line, exit code 2', async () => {
    expect(await cli(['foo'])).toEqual({ code: 2, stdout: '', stderr: 'durabull: unknown command "foo" (see durabull --help)\n' });
    expect(await cli(['workflow', 'frobnicate'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: unknown command "workflow frobnicate" (see durabull workflow --help)\n',
    });
    expect(await cli(['workflow', 'list', 'extra'])).toEqual({
      code: 2,
      stdout: '',
      stderr: "durabull: too many arguments for 'list'. Expected 0 arguments but got 1.\n",
    });
    expect(await cli(['workflow', 'list', '--redis', 'http://example'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: --redis must be a redis:// or rediss:// URL, or Redis Cluster nodes host:port,host:port, got "http://example"\n',
    });
    expect((await cli(['workflow', 'list', '--redis', '127.0.0.1:6379,'])).stderr).toBe(
      'durabull: --redis must be a redis:// or rediss:// URL, or Redis Cluster nodes host:port,host:port, got "127.0.0.1:6379,"\n',
    );
    // Global options go before or after the command.
    expect((await cli(['--namespace', 'has space', 'workflow', 'list', '--redis', REDIS])).stderr).toMatch(/^durabull: Invalid namespace: "has space" [^\n]*\n$/);
    expect((await cli(['workflow', 'list', '--namespace', 'has space', '--redis', REDIS])).stderr).toMatch(
      /^durabull: Invalid namespace: "has space" [^\n]*\n$/,
    );
    expect(await cli(['workflow', 'list', '--tls-ca', '/nonexistent/ca.pem', '--redis', 'rediss://127.0.0.1:1'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: --tls-ca "/nonexistent/ca.pem" cannot be read: ENOENT\n',
    });
  });

  it('reports an unreachable Redis as one line, exit code 1, without stack traces unless DURABULL_DEBUG=1', async () => {
    const unreachable = 'durabull: Redis is unreachable at redis://127.0.0.1:1: connect ECONNREFUSED\n';
    for (const argv of [
      ['workflow', 'list'],
      ['workflow', 'describe', '--id', 'x'],
      ['workflow', 'start', '--type', 'T', '--task-queue', 'q', '--id', 'x'],
      ['task-queue', 'describe', '-t', 'q'],
      ['workflow', 'show', '--id', 'x', '--follow'],
      ['dev'],
    ]) {
      expect(await cli([...argv, '--redis', 'redis://127.0.0.1:1'])).toEqual({ code: 1, stdout: '', stderr: unreachable });
    }
    // REDIS_URL is the default of --redis.
    expect(await cli(['workflow', 'count'], { env: { REDIS_URL: 'redis://127.0.0.1:1' } })).toEqual({ code: 1, stdout: '', stderr: unreachable });
    const debug = await cli(['workflow', 'count', '--redis', 'redis://127.0.0.1:1'], { env: { DURABULL_DEBUG: '1' } });
    expect(debug.code).toBe(1);
    expect(debug.stderr.startsWith(unreachable)).toBe(true);
    expect(debug.stderr).toMatch(/\n {4}at /);
  });

  describe('dev', () => {
    it('prints the URL of a Redis that answers and exits', async () => {
      // REDIS_URL (or --redis) is checked and printed.
      expect(await cli(['dev'], { env: { REDIS_URL: REDIS } })).toEqual({
        code: 0,
        stdout: `REDIS_URL=${REDIS}\n`,
        stderr: `durabull: Redis answers at ${REDIS}; nothing to start\n`,
      });
      expect(JSON.parse((await cli(['dev', '--redis', REDIS, '-o', 'json'], { env: {} })).stdout)).toEqual({ redisUrl: REDIS, started: false });

      // Without REDIS_URL, a Redis answering on the probed port (--port, else 6379) is used.
      const url = new URL(REDIS);
      if (url.hostname === '127.0.0.1' && !url.password) {
        const answered = await cli(['dev', '--port', url.port || '6379'], { env: { PATH: process.env['PATH'] } });
        expect(answered).toEqual({
          code: 0,
          stdout: `REDIS_URL=redis://127.0.0.1:${url.port || '6379'}\n`,
          stderr: `durabull: a Redis already answers on 127.0.0.1:${url.port || '6379'}; nothing to start\n`,
        });
      }
    });

    it('says how to install redis-server when nothing answers and it is missing', async () => {
      const port = await freePort();
      expect(await cli(['dev', '--port', String(port)], { env: { PATH: '' } })).toEqual({
        code: 1,
        stdout: '',
        stderr:
          `durabull: nothing answers a Redis PING on 127.0.0.1:${port} and redis-server is not on PATH: install redis-server ` +
          '(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis) or set REDIS_URL to a Redis you have\n',
      });
      expect((await cli(['dev', '--port', '70000'])).stderr).toBe('durabull: --port must be an integer from 1 to 65535, got "70000"\n');
    });

    const withRedisServer = which('redis-server') ? it : it.skip;
    withRedisServer('starts a throwaway redis-server, prints its URL, and stops it on Ctrl-C', async () => {
      const port = await freePort();
      const controller = new AbortController();
      let seen = '';
      const running = cli(['dev', '--port', String(port)], {
        env: { PATH: process.env['PATH'] },
        signal: controller.signal,
        onStdout: (all) => (seen = all),
      });
      const start = Date.now();
      while (!seen.includes('\n') && Date.now() - start < 10_000) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen).toBe(`REDIS_URL=redis://127.0.0.1:${port}\n`);
      const redis = new Redis(`redis://127.0.0.1:${port}`);
      try {
        expect(await redis.ping()).toBe('PONG');
      } finally {
        redis.disconnect();
      }
      controller.abort();
      const outcome = await running;
      expect(outcome.code).toBe(0);
      expect(outcome.stderr).toMatch(/^durabull: started a throwaway redis-server \(pid \d+, no persistence\) on 127\.0\.0\.1:\d+; press Ctrl-C to stop it\ndurabull: stopped redis-server on 127\.0\.0\.1:\d+\n$/);
      expect(await probe(port)).toBeNull();
    });
  });

  describe('the bin', () => {
    it('runs: node apps/cli/bin/durabull.js --help', async () => {
      const help = await runBin(['--help']);
      expect(help.code).toBe(0);
      expect(help.stderr).toBe('');
      expect(help.stdout).toContain('Usage: durabull <command> [options]');
    });

    it('exits promptly with the exit code: an unreachable Redis, then a real one', async () => {
      const unreachable = await runBin(['workflow', 'list', '--redis', 'redis://127.0.0.1:1']);
      expect(unreachable).toMatchObject({ code: 1, stdout: '', stderr: 'durabull: Redis is unreachable at redis://127.0.0.1:1: connect ECONNREFUSED\n' });
      expect((await runBin(['nope'])).code).toBe(2);

      const env = await TestEnvironment.create({ redis: REDIS });
      try {
        await env.client.startWorkflow('Anything', { id: 'bin-1', taskQueue: 'q' });
        const counted = await runBin(['workflow', 'count', '--namespace', env.namespace, '--redis', REDIS]);
        expect(counted).toMatchObject({ code: 0, stdout: '1\n', stderr: '' });
        const shown = await runBin(['workflow', 'show', '--id', 'bin-1', '--namespace', env.namespace, '--redis', REDIS, '-o', 'json']);
        expect(shown.code).toBe(0);
        expect(JSON.parse(shown.stdout)).toMatchObject({ workflowId: 'bin-1', events: [{ eventId: 1, eventType: 'WorkflowExecutionStarted' }, { eventId: 2 }] });
        // The process ends when the command is done: nothing keeps it alive.
        expect(counted.ms).toBeLessThan(5_000);
      } finally {
        await env.teardown();
      }
    });
  });
});
