/**
 * The seed example's worker, running until Ctrl-C (SIGINT) or SIGTERM: the README's walkthrough
 * starts it in one terminal and drives it with the `durabull` CLI from another. It uses the same
 * namespace as the CLI (`DURABULL_NAMESPACE`, else `default`) and Redis (`REDIS_URL`, else
 * 127.0.0.1:6379). `npm run worker` builds it and starts it.
 */
import 'reflect-metadata';
import { Client, Worker } from '@durabull/sdk';
import { YourActivities, YourWorkflow } from './greeting';

async function main(): Promise<void> {
  const client = await Client.connect({ redis: process.env['REDIS_URL'], namespace: process.env['DURABULL_NAMESPACE'] });
  const worker = new Worker(client, { taskQueue: 'hello', workflows: [YourWorkflow], activities: [new YourActivities()] });
  console.log(`Worker of task queue "hello" running in namespace "${client.namespace}"; Ctrl-C stops it.`);
  await worker.run();
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
