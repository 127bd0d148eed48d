/**
 * A soak worker process: the default worker options on the soak's task queue. Environment:
 * REDIS_URL, DURABULL_NAMESPACE. Prints `ready` once it takes tasks; logs (warn and up) go to
 * stderr. Run compiled (tests/fault/dist/chaos/soak-worker.js), so that a replacement starts fast.
 */
import 'reflect-metadata';
import { Client, ConsoleLogger, Worker } from '@durabull/sdk';
import type { Logger } from '@durabull/sdk';
import { SOAK_TASK_QUEUE, SoakActivities, SoakWorkflow, effectsKey } from './soak-workflow';

async function main(): Promise<void> {
  const client = await Client.connect({ redis: process.env['REDIS_URL'], namespace: process.env['DURABULL_NAMESPACE'] });
  const console = new ConsoleLogger();
  const logger: Logger = {
    debug: (message, attributes) => console.debug(message, attributes),
    info: (message, attributes) => {
      if (message === 'Worker started') process.stdout.write('ready\n');
      console.info(message, attributes);
    },
    warn: (message, attributes) => console.warn(message, attributes),
    error: (message, attributes) => console.error(message, attributes),
  };
  const worker = new Worker(client, {
    taskQueue: SOAK_TASK_QUEUE,
    workflows: [SoakWorkflow],
    activities: [new SoakActivities(client.redis, effectsKey(client.engine.keys.prefix, client.namespace))],
    logger,
  });
  await worker.run();
  await client.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
