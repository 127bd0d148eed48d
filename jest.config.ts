import type { Config } from 'jest';

/**
 * Every project's tests; `npm test` runs them all against a real Redis: unit tests beside the
 * code in libs/ and apps/, the suites in tests/ (integration, fault, cluster, docs) and the
 * benchmark at its tiny size.
 */
const config: Config = {
  // Jest exits when the tests are done even if a socket lingers: ioredis Cluster connections that
  // BullMQ recreates while it closes have been seen to outlive teardown now and then, and a run
  // that never exits would never report. (DURABULL_DEBUG_HANDLES=1 lists what is left open.)
  forceExit: true,
  // Test files run one after another in a worker process (not in Jest's own process), replaced
  // once it holds more than this after a file. In one process the memory of 129 files grew past
  // 3 GB and the heaviest suite (fault's retention-memory, 14,000 runs) ran 15 times slower than
  // alone, garbage collection taking most of its time.
  workerIdleMemoryLimit: '1GB',
  projects: [
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/tests/*/jest.config.js',
    '<rootDir>/tools/bench/jest.config.js',
  ],
};

export default config;
