/**
 * `@durabull/sdk/internal`: pieces of the SDK that other Durabull packages build on (the testing
 * kit's `ActivityEnvironment` and its time-skipping clock, the CLI's connection). Not part of the
 * stable API: application code should use `@durabull/sdk` and `@durabull/testing` instead.
 *
 * @packageDocumentation
 */
export { ActivityContext } from './activity/context';
export type { ActivityInfo, CancellationReason } from './activity/context';
export { toMilliseconds } from '@durabull/common';
export { QueueNames, advanceClock, connectSettled, namespaceTime, nextDueTime } from '@durabull/engine';
