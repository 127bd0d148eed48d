/**
 * A benchmark worker process: started by {@link WorkerHost} (`hosts.ts`) with an IPC channel, it
 * runs a Durabull worker and/or the raw-BullMQ baseline's workers on request, reports its memory
 * after a full GC, and exits when the parent disconnects.
 */
import 'reflect-metadata';
import { Client, Worker } from '@durabull/sdk';
import { clientCommands, installCommandCounter } from './client-commands';
import { cpuMicros } from './measure';
import type { HostMemory, HostReady, HostReply, HostRequest, HostStartConfig } from './host-protocol';
import { RawChainWorkers } from './raw-chain';
import { BENCH_WORKFLOWS, BenchActivities } from './workloads';

interface Running {
  client?: Client;
  worker?: Worker;
  run?: Promise<void>;
  raw?: RawChainWorkers;
}

let running: Running | undefined;

installCommandCounter();

async function start(config: HostStartConfig): Promise<void> {
  if (running) throw new Error('Workers are already running in this process');
  const current: Running = {};
  running = current;
  if (config.durabull) {
    const { namespace, taskQueue, tuning } = config.durabull;
    current.client = await Client.connect({ redis: config.redisUrl, namespace });
    current.worker = new Worker(current.client, { taskQueue, workflows: BENCH_WORKFLOWS, activities: [new BenchActivities()], ...tuning });
    current.run = current.worker.run();
  }
  if (config.raw) current.raw = new RawChainWorkers({ redisUrl: config.redisUrl, ...config.raw });
}

async function stop(): Promise<void> {
  const current = running;
  running = undefined;
  if (!current) return;
  await current.worker?.shutdown();
  await current.run;
  await current.client?.close();
  await current.raw?.close();
}

function memory(): HostMemory {
  // Twice: the first pass may leave objects with finalizers for the second.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

async function handle(request: HostRequest): Promise<unknown> {
  switch (request.type) {
    case 'start':
      return start(request.config);
    case 'stop':
      return stop();
    case 'memory':
      return memory();
    case 'commands':
      return clientCommands();
    case 'cpu':
      return cpuMicros();
  }
}

function send(message: HostReply | HostReady): void {
  process.send?.(message);
}

process.on('message', (request: HostRequest) => {
  handle(request).then(
    (value) => send({ id: request.id, ok: true, value }),
    (error: unknown) => send({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
  );
});

// The parent closes the channel when it is done (or dies): stop cleanly, then leave.
process.on('disconnect', () => {
  stop()
    .catch((error: unknown) => console.error('bench worker process: stop failed', error))
    .finally(() => process.exit(0));
});

if (!process.send) {
  console.error('worker-process is started by the benchmark (tools/bench/dist/main.js), not by hand');
  process.exit(2);
}
send({ type: 'ready' });
