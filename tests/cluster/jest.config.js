// The integration suite (tests/integration/src, not a copy) run again on a Redis Cluster, plus the
// cluster's own checks (./src). global-setup.mjs starts a 3-primary cluster on loopback
// (tools/scripts/redis-cluster.mjs) and global-teardown.mjs stops it; setup.ts points each test
// at it through DURABULL_TEST_REDIS_CLUSTER (see redisFromEnvironment in @durabull/testing).
const path = require('node:path');
const preset = require('../../jest.preset.js');

const integration = path.join(__dirname, '..', 'integration', 'src');
const own = path.join(__dirname, 'src');

module.exports = {
  ...preset,
  displayName: 'cluster',
  rootDir: __dirname,
  roots: [integration, own],
  testMatch: [`${integration}/**/*.spec.ts`, `${own}/**/*.spec.ts`],
  setupFiles: [...preset.setupFiles, path.join(__dirname, 'setup.ts')],
  globalSetup: path.join(__dirname, 'global-setup.mjs'),
  globalTeardown: path.join(__dirname, 'global-teardown.mjs'),
};
