// The slow suite: real processes killed and restarted, so each test gets minutes, not seconds.
const preset = require('../../jest.preset.js');

module.exports = {
  ...preset,
  displayName: 'fault',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/jest.setup.ts'],
};
