// The web UI (durabull ui) in a real browser: Debian's chromium driven by playwright-core.
module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'ui',
  rootDir: __dirname,
  setupFilesAfterEnv: ['<rootDir>/jest.setup.ts'],
};
