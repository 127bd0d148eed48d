import type { Config } from 'jest';

/**
 * Every project's tests; `npm test` runs them all against a real Redis: unit tests beside the
 * code in libs/ and apps/, the suites in tests/ (integration, fault, cluster, docs) and the
 * benchmark at its tiny size.
 */
const config: Config = {
  projects: [
    '<rootDir>/libs/*/jest.config.js',
    '<rootDir>/apps/*/jest.config.js',
    '<rootDir>/tests/*/jest.config.js',
    '<rootDir>/tools/bench/jest.config.js',
  ],
};

export default config;
