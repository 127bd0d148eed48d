/**
 * `@durabull/testing`: run Durabull against a real Redis in tests. Each {@link TestEnvironment}
 * works in a fresh random namespace, so tests can run in parallel, and deletes it afterwards.
 *
 * ```ts
 * let env: TestEnvironment;
 * beforeEach(async () => (env = await TestEnvironment.create()));
 * afterEach(() => env.teardown());
 *
 * it('greets', async () => {
 *   const worker = env.newWorker({ taskQueue: 'q', workflows: [YourWorkflow], activities: [new YourActivities()] });
 *   const result = await worker.runUntil(env.client.executeWorkflow(YourWorkflow, 'World', { id: 'w', taskQueue: 'q' }));
 * });
 * ```
 *
 * @packageDocumentation
 */
export { TestEnvironment } from './test-environment';
export type { TestEnvironmentOptions } from './test-environment';
export { REDIS_CLUSTER_ENV, describeRedisFromEnvironment, parseClusterNodes, redisFromEnvironment } from './redis-from-environment';
export { ActivityEnvironment } from './activity-environment';
export type { ActivityEnvironmentOptions, SimulatedCancellationReason } from './activity-environment';
