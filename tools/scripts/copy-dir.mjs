// Copies a folder of non-TypeScript assets (the engine's Lua scripts) beside the compiled output.
import { cpSync, rmSync } from 'node:fs';

const [from, to] = process.argv.slice(2);
if (!from || !to) {
  console.error('usage: node tools/scripts/copy-dir.mjs <from> <to>');
  process.exit(2);
}
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
