#!/usr/bin/env node
'use strict';
// The `durabull` command: compiled TypeScript in ../dist, built by `npm run build` (which the
// root `prepare` script runs on `npm ci` / `npm install`).
const path = require('node:path');
const main = path.join(__dirname, '..', 'dist', 'main.js');
try {
  require.resolve(main);
} catch {
  process.stderr.write(`durabull: the CLI is not built (${main} is missing); run \`npm run build\` at the repository root\n`);
  process.exit(1);
}
require(main).main();
