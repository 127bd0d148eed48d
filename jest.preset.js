// Shared Jest settings for every project: TypeScript through ts-jest (transpile only, the
// type check is `npm run typecheck`), and `@durabull/*` imports resolved to sources so tests
// never run against a stale build.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.spec.json') }],
  },
  moduleNameMapper: {
    '^@durabull/hello-worker$': path.join(__dirname, 'apps/hello-worker/src/index.ts'),
    '^@durabull/([a-z-]+)$': path.join(__dirname, 'libs/$1/src/index.ts'),
    '^@durabull/([a-z-]+)/internal$': path.join(__dirname, 'libs/$1/src/internal.ts'),
  },
  testMatch: ['<rootDir>/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: [path.join(__dirname, 'tools/jest/setup.ts')],
};
