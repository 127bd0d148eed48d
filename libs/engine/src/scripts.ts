import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';

/**
 * Loads the Lua scripts of `./lua` (one file per atomic transition, `<name>-<numberOfKeys>.lua`,
 * shared parts in `./lua/includes` pulled in by `--- @include "<name>"`) and registers each as an
 * ioredis command, so it runs by EVALSHA and is re-sent only when Redis lost its script cache.
 */
const LUA_DIR = join(__dirname, 'lua');

export interface ScriptSource {
  name: string;
  numberOfKeys: number;
  lua: string;
}

function expandIncludes(source: string, seen: Set<string>): string {
  return source.replace(/^--- @include "([\w-]+)"$/gm, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    return expandIncludes(readFileSync(join(LUA_DIR, 'includes', `${name}.lua`), 'utf8'), seen);
  });
}

let sources: ScriptSource[] | undefined;

/** Every script of the engine, with its includes expanded. */
export function scriptSources(): ScriptSource[] {
  sources ??= readdirSync(LUA_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => {
      const match = /^(\w+)-(\d+)\.lua$/.exec(file);
      if (!match) throw new Error(`Lua script file name must be <name>-<numberOfKeys>.lua: ${file}`);
      return {
        name: match[1]!,
        numberOfKeys: Number(match[2]),
        lua: expandIncludes(readFileSync(join(LUA_DIR, file), 'utf8'), new Set()),
      };
    });
  return sources;
}

const REGISTERED = Symbol.for('durabull.scriptsRegistered');

/** Registers the engine's scripts on a connection (once per connection). */
export function registerScripts(redis: Redis | Cluster): void {
  const target = redis as unknown as Record<symbol, boolean>;
  if (target[REGISTERED]) return;
  for (const script of scriptSources()) {
    redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
  }
  target[REGISTERED] = true;
}

/** Reply codes of the run scripts (`includes/run.lua`). */
export enum ReplyCode {
  Ok = 1,
  Noop = 0,
  NotFound = -1,
  NotRunning = -2,
  Stale = -3,
  AlreadyStarted = -4,
  UnhandledCommand = -5,
  Early = -6,
}

/** What every run script returns: `{ code, now, dispatch, withdraw, ...extra }`. */
export interface RunReply {
  code: ReplyCode;
  /** Redis server time (ms) when the script ran. */
  now: number;
  /** Outbox descriptors to dispatch, with their due times (ms). */
  dispatch: Array<{ member: string; due: number }>;
  /** Task descriptors whose queued jobs should be withdrawn. */
  withdraw: string[];
  extra: unknown[];
}

export function parseRunReply(raw: unknown): RunReply {
  const [code, now, dispatch, withdraw, ...extra] = raw as [number, string, string[], string[], ...unknown[]];
  const pairs: RunReply['dispatch'] = [];
  for (let i = 0; i < dispatch.length; i += 2) pairs.push({ member: dispatch[i]!, due: Number(dispatch[i + 1]) });
  return { code, now: Number(now), dispatch: pairs, withdraw, extra };
}

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

/** Calls a registered script by name: `KEYS` then `ARGV`. */
export function callScript(redis: Redis | Cluster, name: string, keys: string[], args: Array<string | number>): Promise<unknown> {
  const fn = (redis as unknown as Record<string, ScriptFn>)[name];
  if (!fn) throw new Error(`Lua script ${name} is not registered`);
  return fn.call(redis, ...keys, ...args);
}
