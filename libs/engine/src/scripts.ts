import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from 'ioredis';
import type { Redis } from 'ioredis';

/**
 * The engine's Lua transitions: one file per atomic transition in `./lua`,
 * `<name>-<numberOfKeys>.lua`, with shared parts in `./lua/includes` pulled in by
 * `--- @include "<name>"`.
 *
 * They run as one Redis Functions library (Redis 7+). FUNCTION LOAD runs the shared parts (the
 * run state machine: some sixty functions) once, where EVALSHA runs a script's whole chunk, and so
 * defines every shared function again, on each call: 5-6 µs of Redis CPU per call on the
 * benchmark machine, about a tenth of what Redis spends on a workflow. On a Redis without Redis
 * Functions the same sources run as EVALSHA scripts instead.
 */
const LUA_DIR = join(__dirname, 'lua');

export interface ScriptSource {
  name: string;
  numberOfKeys: number;
  /** Includes this script needs, each once, in dependency order. */
  includes: string[];
  /** The script's own code, without its include directives. */
  body: string;
  /** The script as one EVAL chunk: its includes, then its body. */
  lua: string;
}

const INCLUDE = /^--- @include "([\w-]+)"\n?/gm;

function readInclude(name: string): string {
  return readFileSync(join(LUA_DIR, 'includes', `${name}.lua`), 'utf8');
}

/** Adds the includes `source` names, and theirs first, to `into` (in dependency order, once each). */
function collectIncludes(source: string, into: string[]): string[] {
  for (const [, name] of source.matchAll(INCLUDE)) {
    if (into.includes(name!)) continue;
    collectIncludes(readInclude(name!), into);
    into.push(name!);
  }
  return into;
}

const withoutIncludes = (source: string) => source.replace(INCLUDE, '');

/** A script's first statement: the globals its code calls, bound as locals (includes/globals.lua). */
const BIND_GLOBALS = 'bind_globals()';

let sources: ScriptSource[] | undefined;

/** Every script of the engine. */
export function scriptSources(): ScriptSource[] {
  sources ??= readdirSync(LUA_DIR)
    .filter((file) => file.endsWith('.lua'))
    .map((file) => {
      const match = /^(\w+)-(\d+)\.lua$/.exec(file);
      if (!match) throw new Error(`Lua script file name must be <name>-<numberOfKeys>.lua: ${file}`);
      const source = readFileSync(join(LUA_DIR, file), 'utf8');
      const includes = collectIncludes(source, []);
      if (!includes.includes('globals')) throw new Error(`Lua script ${file} must include "globals" (through clock or json)`);
      const body = withoutIncludes(source);
      return {
        name: match[1]!,
        numberOfKeys: Number(match[2]),
        includes,
        body,
        lua: [...includes.map((name) => withoutIncludes(readInclude(name))), BIND_GLOBALS, body].join('\n'),
      };
    });
  return sources;
}

/** The scripts as one Redis Functions library. */
export interface ScriptLibrary {
  /** `durabull_<hash of the code>`: versions of Durabull sharing a Redis each load their own. */
  name: string;
  /** The FUNCTION LOAD source. */
  code: string;
  /** The registered name of a script's function. */
  functionName(script: string): string;
}

let library: ScriptLibrary | undefined;

/**
 * Builds the library: the includes once at its top level, then each script's body as the
 * function `<library>_<script>(KEYS, ARGV)`, so a body reads as it does as an EVAL chunk.
 */
export function scriptLibrary(): ScriptLibrary {
  if (library) return library;
  const all = scriptSources();
  const includes = all.reduce((names, script) => {
    for (const name of script.includes) if (!names.includes(name)) names.push(name);
    return names;
  }, [] as string[]);
  const shared = includes.map((name) => withoutIncludes(readInclude(name))).join('\n');
  const hash = createHash('sha1')
    .update(shared)
    .update(all.map((script) => `${script.name}\n${script.body}`).join('\n'))
    .digest('hex')
    .slice(0, 12);
  const name = `durabull_${hash}`;
  const functionName = (script: string) => `${name}_${script}`;
  const functions = all.map(
    (script) => `redis.register_function('${functionName(script.name)}', function(KEYS, ARGV)\n${BIND_GLOBALS}\n${script.body}\nend)`,
  );
  library = { name, code: [`#!lua name=${name}`, shared, ...functions].join('\n'), functionName };
  return library;
}

/** How the scripts run: as a function library (Redis 7+) or as EVALSHA scripts. */
export type ScriptMode = 'functions' | 'eval';

type ScriptFn = (...args: Array<string | number>) => Promise<unknown>;

const errorMessage = (error: unknown) => (error instanceof Error ? error.message : String(error));
/** Redis lost the library (a restart without persistence, FUNCTION FLUSH) or never had it. */
const isFunctionNotFound = (error: unknown) => /^ERR Function not found/i.test(errorMessage(error));
/** A Redis older than 7 (or one that disabled FCALL or FUNCTION) has no Redis Functions. */
const isUnknownCommand = (error: unknown) => /unknown command/i.test(errorMessage(error));

/** A reply saying the script ran nowhere because its slot is served elsewhere or not at all. */
const isRedirection = (error: unknown) => /^(MOVED|ASK|TRYAGAIN|CLUSTERDOWN) /.test(errorMessage(error));
/** As ioredis retries a redirected command: 16 times, 100 ms apart. */
const MAX_REDIRECTIONS = 16;
const REDIRECTION_DELAY_MS = 100;

/** Loads the library at most this many times for one call, however often Redis loses it meanwhile. */
const MAX_LOADS_PER_CALL = 3;

/**
 * Runs the engine's scripts on one connection. Without a fixed mode it tries the function
 * library first and falls back to EVALSHA for good on a Redis that knows no FCALL or FUNCTION.
 * The library is loaded when Redis says it does not have it (first use, a restart, a flush), on
 * every primary of a cluster, and the call is sent again: a call that found no function ran
 * nothing.
 */
export class ScriptRunner {
  private loading?: Promise<void>;
  private evalDefined = false;
  /** Whether the scripts run as EVALSHA: by request, or because Redis has no Redis Functions. */
  private useEval: boolean;

  constructor(
    private readonly redis: Redis | Cluster,
    /** A fixed mode; without it, functions where Redis has them. */
    private readonly mode?: ScriptMode,
  ) {
    this.useEval = mode === 'eval';
  }

  /**
   * Runs a script by name: `KEYS` then `ARGV`. The usual call is one `FCALL` and one promise
   * derived from its reply, without an async frame: a worker pays for every promise it makes
   * (BENCHMARKS.md, "Two keys per transition, and fewer promises in the worker").
   */
  call(name: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (this.useEval) return this.callEval(name, keys, args);
    return this.redis
      .fcall(scriptLibrary().functionName(name), keys.length, ...keys, ...args)
      .catch((error: unknown) => this.callAgain(name, keys, args, error));
  }

  /**
   * After a call failed with `error`: the library is loaded and the call sent again while Redis
   * says it lacks the function (a call that found no function ran nothing), or the scripts fall
   * back to EVALSHA where Redis has no Redis Functions; any other error is the call's.
   */
  private async callAgain(name: string, keys: string[], args: Array<string | number>, error: unknown): Promise<unknown> {
    for (let loads = 0; ; loads++) {
      if (!isFunctionNotFound(error) || loads === MAX_LOADS_PER_CALL) this.fallBackOrThrow(error);
      if (!this.useEval) await this.load().catch((loadError: unknown) => this.fallBackOrThrow(loadError));
      if (this.useEval) return this.callEval(name, keys, args);
      try {
        return await this.redis.fcall(scriptLibrary().functionName(name), keys.length, ...keys, ...args);
      } catch (again) {
        error = again;
      }
    }
  }

  /** Runs a script as EVALSHA (ioredis sends the script itself when Redis lacks it: NOSCRIPT). */
  private callEval(name: string, keys: string[], args: Array<string | number>): Promise<unknown> {
    if (!this.evalDefined) {
      for (const script of scriptSources()) {
        this.redis.defineCommand(script.name, { numberOfKeys: script.numberOfKeys, lua: script.lua });
      }
      this.evalDefined = true;
    }
    const script = (this.redis as unknown as Record<string, ScriptFn>)[name];
    if (!script) return Promise.reject(new Error(`Unknown Lua script ${name}`));
    return script.call(this.redis, ...keys, ...args);
  }

  /**
   * Runs a script, then `WAIT replicas timeoutMs` right behind it in one pipeline: on a single
   * Redis the same connection, on a cluster the connection of the node that serves the script's
   * slot (a pipeline goes to one node; WAIT has no key of its own), so the WAIT covers the script's
   * writes. Resolves the script's reply and how many replicas confirmed it. In eval mode the script
   * goes as EVALSHA, and as EVAL when that node's script cache lacks it: ioredis' own NOSCRIPT
   * retry would resend it outside the pipeline, after the WAIT.
   */
  async callAndWait(
    name: string,
    keys: string[],
    args: Array<string | number>,
    replicas: number,
    timeoutMs: number,
  ): Promise<{ reply: unknown; acknowledged: number }> {
    let sendSource = false;
    let redirections = 0;
    for (let loads = 0; ; ) {
      // Lower-case names: ioredis finds a command's keys, and so a cluster pipeline's node, by them.
      const pipeline = this.redis.pipeline();
      if (!this.useEval) {
        pipeline.call('fcall', scriptLibrary().functionName(name), keys.length, ...keys, ...args);
      } else {
        const script = scriptSources().find((source) => source.name === name);
        if (!script) throw new Error(`Unknown Lua script ${name}`);
        if (sendSource) pipeline.call('eval', script.lua, keys.length, ...keys, ...args);
        else pipeline.call('evalsha', scriptSha(script), keys.length, ...keys, ...args);
      }
      pipeline.call('wait', replicas, timeoutMs);
      const [[scriptError, reply], [waitError, acknowledged]] = (await pipeline.exec()) as Array<[Error | null, unknown]> as [
        [Error | null, unknown],
        [Error | null, unknown],
      ];
      if (scriptError && isRedirection(scriptError) && this.redis instanceof Cluster && redirections < MAX_REDIRECTIONS) {
        // The slot moved (a failover, a resharding) and nothing ran; ioredis retries a pipeline
        // only when all its replies failed alike, and WAIT's did not: route again and resend.
        redirections++;
        this.redis.refreshSlotsCache();
        await new Promise((resolve) => setTimeout(resolve, REDIRECTION_DELAY_MS));
        continue;
      }
      if (scriptError) {
        if (this.useEval) {
          if (sendSource || !/NOSCRIPT/.test(scriptError.message)) throw scriptError;
          sendSource = true;
        } else if (isFunctionNotFound(scriptError) && loads < MAX_LOADS_PER_CALL) {
          loads++;
          await this.load().catch((error: unknown) => this.fallBackOrThrow(error));
        } else {
          this.fallBackOrThrow(scriptError);
        }
        continue;
      }
      if (waitError) throw waitError;
      return { reply, acknowledged: Number(acknowledged) };
    }
  }

  /** Switches to EVALSHA when `error` says Redis has no Redis Functions (and no mode was fixed); else throws it. */
  private fallBackOrThrow(error: unknown): void {
    if (this.mode !== undefined || !isUnknownCommand(error)) throw error;
    this.useEval = true;
  }

  /** Loads the library on every primary (once at a time; a copy loaded meanwhile is fine). */
  private load(): Promise<void> {
    this.loading ??= (async () => {
      const { code } = scriptLibrary();
      const nodes = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
      await Promise.all(
        nodes.map((node) =>
          node.call('FUNCTION', 'LOAD', code).catch((error: unknown) => {
            if (!/already exists/i.test(errorMessage(error))) throw error;
          }),
        ),
      );
    })().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }
}

const shas = new WeakMap<ScriptSource, string>();

/** The SHA1 of a script's EVAL chunk (its EVALSHA name). */
function scriptSha(script: ScriptSource): string {
  let sha = shas.get(script);
  if (!sha) shas.set(script, (sha = createHash('sha1').update(script.lua).digest('hex')));
  return sha;
}

/** Reply codes of the run scripts (`includes/state.lua`). */
export enum ReplyCode {
  Ok = 1,
  Noop = 0,
  NotFound = -1,
  NotRunning = -2,
  Stale = -3,
  AlreadyStarted = -4,
  UnhandledCommand = -5,
  Early = -6,
  /** A workflow task completion named a command type `completeWorkflowTask` does not accept (extra: that type); nothing was written. */
  UnknownCommand = -7,
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
  // An empty dispatch or withdraw list comes as nil (lifecycle.lua's reply says why).
  const [code, now, dispatch, withdraw, ...extra] = raw as [number, string, string[] | null, string[] | null, ...unknown[]];
  const pairs: RunReply['dispatch'] = [];
  if (dispatch) for (let i = 0; i < dispatch.length; i += 2) pairs.push({ member: dispatch[i]!, due: Number(dispatch[i + 1]) });
  return { code, now: Number(now), dispatch: pairs, withdraw: withdraw ?? [], extra };
}

