import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ClientCommands } from './client-commands';
import type { HostMemory, HostReady, HostReply, HostRequest, HostRequestBody, HostStartConfig } from './host-protocol';

/** Longest wait for a worker process to load or to answer a request. */
const REQUEST_TIMEOUT_MS = 120_000;

/**
 * How a worker process is started. From the compiled benchmark: `node dist/worker-process.js`.
 * From TypeScript sources (the Jest spec): the same file through ts-node, with `@durabull/*`
 * resolved to the libraries' sources, so no build is needed.
 */
function launchSpec(): { entry: string; execArgv: string[]; env: NodeJS.ProcessEnv } {
  // --expose-gc: memory is measured after a full collection.
  const execArgv = ['--expose-gc', ...profilingFlags(process.execArgv)];
  if (!__filename.endsWith('.ts')) return { entry: path.join(__dirname, 'worker-process.js'), execArgv, env: process.env };
  execArgv.push('-r', require.resolve('ts-node/register/transpile-only'), '-r', path.join(__dirname, 'source-aliases.ts'));
  return {
    entry: path.join(__dirname, 'worker-process.ts'),
    execArgv,
    env: { ...process.env, TS_NODE_PROJECT: path.resolve(__dirname, '../../../tsconfig.spec.json') },
  };
}

/**
 * The profiling flags of this process (`--cpu-prof`, `--cpu-prof-dir=...`, `--heap-prof`, ...), passed
 * on so `node --cpu-prof dist/main.js` profiles the worker processes too (one file each).
 */
export function profilingFlags(execArgv: readonly string[]): string[] {
  const flags: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const flag = execArgv[i]!;
    // A file name would make every process write the same file: each keeps Node's default name.
    if (!/^--(cpu|heap)-prof/.test(flag) || /-name\b/.test(flag)) continue;
    flags.push(flag);
    // `--cpu-prof-dir prof` (no `=`): the value is the next argument.
    if (/-(dir|interval)$/.test(flag) && execArgv[i + 1] !== undefined) flags.push(execArgv[++i]!);
  }
  return flags;
}

/** A worker process (`worker-process.ts`) and the requests it answers. */
export class WorkerHost {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  private exited = false;

  private constructor(
    readonly index: number,
    private readonly child: ChildProcess,
  ) {
    child.on('message', (message: HostReply | HostReady) => {
      if ('type' in message) return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (message.ok) waiter.resolve(message.value);
      else waiter.reject(new Error(`Worker process ${index}: ${message.error}`));
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      for (const waiter of this.pending.values()) waiter.reject(new Error(`Worker process ${index} exited (${signal ?? code})`));
      this.pending.clear();
    });
  }

  /** Starts a worker process and waits until it can take requests. */
  static async spawn(index: number): Promise<WorkerHost> {
    const { entry, execArgv, env } = launchSpec();
    const child = fork(entry, [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`Worker process ${index} did not start within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS);
      const onMessage = (message: HostReady | HostReply) => {
        if ('type' in message && message.type === 'ready') done();
      };
      const onExit = (code: number | null) => fail(new Error(`Worker process ${index} exited with code ${code} while starting`));
      const done = () => {
        clearTimeout(timer);
        child.off('message', onMessage).off('exit', onExit);
        resolve();
      };
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.off('message', onMessage).off('exit', onExit);
        child.kill();
        reject(error);
      };
      child.on('message', onMessage).on('exit', onExit);
    });
    return new WorkerHost(index, child);
  }

  private request(body: HostRequestBody): Promise<unknown> {
    if (this.exited) return Promise.reject(new Error(`Worker process ${this.index} has exited`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`Worker process ${this.index} did not answer ${body.type} within ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      const request: HostRequest = { ...body, id };
      this.child.send(request);
    });
  }

  /** Starts workers in the process. */
  async start(config: HostStartConfig): Promise<void> {
    await this.request({ type: 'start', config });
  }

  /** Stops the process's workers (it stays up for the next {@link start}). */
  async stop(): Promise<void> {
    await this.request({ type: 'stop' });
  }

  /** The process's memory after a full GC. */
  async memory(): Promise<HostMemory> {
    return (await this.request({ type: 'memory' })) as HostMemory;
  }

  /** CPU time (user + system) the process has used so far, in microseconds. */
  async cpu(): Promise<number> {
    return (await this.request({ type: 'cpu' })) as number;
  }

  /** Redis commands the process has sent so far. */
  async commands(): Promise<ClientCommands> {
    return (await this.request({ type: 'commands' })) as ClientCommands;
  }

  /** Lets the process stop its workers and exit; kills it if it has not after 30 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    if (this.child.connected) this.child.disconnect();
    else this.child.kill('SIGTERM');
    await exited;
    clearTimeout(timer);
  }
}

/** Worker processes, started on first use and reused by the scenarios of a run. */
export class WorkerHostPool {
  private readonly hosts: WorkerHost[] = [];

  /** The first `count` worker processes, starting those that are missing. */
  async get(count: number): Promise<WorkerHost[]> {
    while (this.hosts.length < count) {
      const started = await Promise.all(
        Array.from({ length: count - this.hosts.length }, (_, i) => WorkerHost.spawn(this.hosts.length + i)),
      );
      this.hosts.push(...started);
    }
    return this.hosts.slice(0, count);
  }

  /** Stops every worker process. */
  async close(): Promise<void> {
    await Promise.all(this.hosts.splice(0).map((host) => host.close()));
  }
}
