import { randomBytes, randomUUID } from 'node:crypto';
import { RedisConnection } from './connection';
import { compileCron } from './cron';
import type { CompiledCron } from './cron';
import { Engine } from './engine';

/** The first minute after `after` (ms) that `spec` names, found the slow way: minute by minute, in UTC. */
function bruteForceNext(spec: CompiledCron, after: number): number {
  if ('every' in spec) return after + spec.every;
  for (let minute = Math.floor(after / 60_000) + 1; ; minute++) {
    const date = new Date(minute * 60_000);
    const dom = spec.dom.includes(date.getUTCDate());
    const dow = spec.dow.includes(date.getUTCDay());
    const day = spec.domStar || spec.dowStar ? dom && dow : dom || dow;
    if (spec.mi.includes(date.getUTCMinutes()) && spec.h.includes(date.getUTCHours()) && spec.mon.includes(date.getUTCMonth() + 1) && day) {
      return minute * 60_000;
    }
  }
}

describe('compileCron', () => {
  it('compiles the five fields: lists, ranges, steps, names, and day of week 7 as Sunday', () => {
    expect(compileCron('*/15 9-17 * * MON-FRI')).toEqual({
      mi: [0, 15, 30, 45],
      h: [9, 10, 11, 12, 13, 14, 15, 16, 17],
      dom: Array.from({ length: 31 }, (_, i) => i + 1),
      mon: Array.from({ length: 12 }, (_, i) => i + 1),
      dow: [1, 2, 3, 4, 5],
      domStar: true,
      dowStar: false,
    });
    expect(compileCron('5,10 0 1,15 jan,jul 7')).toMatchObject({ mi: [5, 10], h: [0], dom: [1, 15], mon: [1, 7], dow: [0] });
    expect(compileCron('0 0 10/10 * *')).toMatchObject({ dom: [10, 20, 30] });
    expect(compileCron('@daily')).toEqual(compileCron('0 0 * * *'));
    expect(compileCron('@every 1h30m')).toEqual({ every: 5_400_000 });
  });

  it.each([
    ['', 'a cron expression such as "*/5 * * * *", or @every <duration>'],
    ['* * * *', '5 fields (minute hour day-of-month month day-of-week), got 4'],
    ['60 * * * *', 'minute: 60 is outside 0-59'],
    ['* 24 * * *', 'hour: 24 is outside 0-23'],
    ['* * 0 * *', 'day of month: 0 is outside 1-31'],
    ['* * * FOO *', 'month: "FOO" is not a number'],
    ['*/0 * * * *', 'minute: step "0" must be a whole number above 0'],
    ['* 5-2 * * *', 'hour: range 5-2 runs backwards'],
    ['@every 500ms', '@every needs at least 1s'],
    ['@every soon', '@every takes a duration such as 90s, 1h30m or 2d'],
  ])('rejects %j, naming it: %s', (schedule, why) => {
    expect(() => compileCron(schedule)).toThrow(new TypeError(`Invalid cronSchedule: ${JSON.stringify(schedule)} (${why})`));
  });
});

/** The engine finds the next cron time in Lua (includes/run-start.lua): a cron run's first workflow task waits until then. */
describe('cron schedules in the engine', () => {
  let connection: RedisConnection;
  let engine: Engine;
  beforeAll(async () => {
    connection = RedisConnection.from();
    engine = await Engine.open(connection.client, { namespace: `test-${randomBytes(6).toString('hex')}`, shards: 2 });
  });
  afterAll(async () => {
    await engine.purge();
    await engine.close();
    await connection.close();
  });

  it.each(['* * * * *', '*/7 * * * *', '30 4 * * *', '0 0 * * SUN', '15 10 1,15 * *', '0 12 * * MON-FRI', '0 0 1 1 *', '0 0 29 2 *', '0 9 13 * FRI', '@hourly', '@every 90s'])(
    'waits until the next time of %j, as a minute-by-minute search finds it',
    async (schedule) => {
      const compiled = compileCron(schedule);
      const ref = { workflowId: `cron-${randomUUID()}`, runId: randomUUID() };
      await engine.startWorkflow({
        ...ref,
        workflowType: 'Cron',
        taskQueue: 'q',
        attributes: { workflowType: 'Cron', workflowId: ref.workflowId, taskQueue: 'q', input: [], cronSchedule: schedule },
        workflowTaskTimeout: 10_000,
        runTimeout: 0,
        cron: { schedule, compiled },
      });
      const [started, ...rest] = await engine.readHistory(ref);
      const startTime = Date.parse(started!.eventTime);
      const backoff = (started!.attributes as { firstWorkflowTaskBackoff: number }).firstWorkflowTaskBackoff;
      expect(startTime + backoff).toBe(bruteForceNext(compiled, startTime));
      // Nothing else until then: no workflow task.
      expect(rest).toEqual([]);
    },
  );
});
