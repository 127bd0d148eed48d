/**
 * Preloaded (`node -r ts-node/register/transpile-only -r source-aliases.ts`) into worker processes
 * started from TypeScript sources (the Jest spec): resolves `@durabull/<lib>` to
 * `libs/<lib>/src/index.ts`, as the Jest preset's moduleNameMapper does, so worker processes run
 * the same code as the test and never a stale build.
 */
import Module from 'node:module';
import path from 'node:path';

const libs = path.resolve(__dirname, '../../../libs');
const internals = Module as unknown as {
  _resolveFilename(request: string, parent: unknown, ...rest: unknown[]): string;
};
const resolve = internals._resolveFilename;

internals._resolveFilename = function (request: string, parent: unknown, ...rest: unknown[]): string {
  const match = /^@durabull\/([a-z-]+)(\/internal)?$/.exec(request);
  if (match) request = path.join(libs, match[1]!, 'src', match[2] ? 'internal.ts' : 'index.ts');
  return resolve.call(this, request, parent, ...rest);
};
