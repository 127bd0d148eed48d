import { TestEnvironment } from '@durabull/testing';
import { formatReport, runSoak } from './chaos/soak';

/**
 * The chaos soak at CI size: about 20 s of three worker processes, a random one SIGKILLed and
 * replaced every 0.3-1.2 s, while a few hundred five-activity workflows start and run. Every run
 * must complete with the right result and a sound history; the recovery figures (gaps, time to
 * close after the last kill) are printed, and asserted only at full size (`npm run soak`).
 */
describe('chaos soak (short)', () => {
  let env: TestEnvironment;
  beforeEach(async () => (env = await TestEnvironment.create()));
  afterEach(() => env.teardown());

  it('every run completes with the right result and a sound history while workers are killed at random', async () => {
    const report = await runSoak({ client: env.client, chaosMs: 20_000, workflows: 300 });
    console.log(`chaos soak (short)\n${formatReport(report).join('\n')}`);
    expect(report.kills).toBeGreaterThanOrEqual(10);
    expect(report.failures).toEqual([]);
    expect(report.completed).toBe(300);
    expect(report.violations).toEqual([]);
    // At least once: every activity ran, some maybe more than once.
    expect(report.activities.neverRan).toBe(0);
  }, 180_000);
});
