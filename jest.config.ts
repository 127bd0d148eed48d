import type { Config } from 'jest';

/** Every project's tests; `npm test` runs them all against a real Redis. */
const config: Config = {
  projects: ['<rootDir>/libs/*/jest.config.js', '<rootDir>/apps/*/jest.config.js', '<rootDir>/tests/integration/jest.config.js', '<rootDir>/tests/fault/jest.config.js'],
};

export default config;
