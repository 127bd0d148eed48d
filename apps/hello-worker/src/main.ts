/**
 * The seed example end to end: a worker runs YourWorkflow, which calls your_activity; the demo
 * prints the result and the run's history. `npm run demo` starts it against REDIS_URL (or a
 * throwaway redis-server when nothing answers on 127.0.0.1:6379).
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Client, Worker, formatHistoryTable } from '@durabull/sdk';
import { YourActivities, YourWorkflow } from './greeting';

async function main(): Promise<void> {
  const client = await Client.connect({ redis: process.env['REDIS_URL'], namespace: process.env['DURABULL_NAMESPACE'] });
  const worker = new Worker(client, {
    taskQueue: 'hello',
    workflows: [YourWorkflow],
    activities: [new YourActivities()],
  });
  try {
    const handle = await client.startWorkflow(YourWorkflow, 'World', { id: `greet-${randomUUID()}`, taskQueue: 'hello' });
    const result = await worker.runUntil(handle.result());
    console.log(`Workflow ${handle.workflowId} result: ${JSON.stringify(result)}\n`);
    console.log(formatHistoryTable(await handle.fetchHistory()));
  } finally {
    await client.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
