#!/usr/bin/env node
// A throwaway Redis Cluster on loopback: 3 primaries, no persistence, and optionally replicas.
//
//   As a module:  const cluster = await start();  cluster.nodes  // [{ host, port }, ...]
//                 await cluster.stop();
//                 With replicas (3 primaries + 3 replicas, failover in about 1-2 s):
//                 const cluster = await start({ replicas: 1 });
//                 const [victim] = (await cluster.roles()).filter((n) => n.role === 'primary');
//                 await cluster.kill(victim.port);                    // SIGKILL by PID
//                 const promoted = await cluster.waitForFailover(victim.port);
//   From a shell: node tools/scripts/redis-cluster.mjs [--replicas N] [--json]
//                 prints the nodes (and a DURABULL_TEST_REDIS_CLUSTER=... line), runs until
//                 Ctrl-C (SIGINT) or SIGTERM, then stops the servers. With --json it prints one
//                 JSON line instead ({ nodes: [{ host, port, pid, role }] }) and answers commands
//                 on stdin, one JSON line each: `roles`, `kill <port>`, `wait-failover <port>`
//                 (errors as { error }); for tests that cannot import this module.
//
// Each node is `redis-server --cluster-enabled yes` on a free loopback port whose cluster bus
// port (port + 10000) is free too, with its nodes.conf in a temporary directory; the slots are
// assigned by `redis-cli --cluster create ... --cluster-replicas N --cluster-yes`. start()
// resolves once CLUSTER INFO says `cluster_state:ok` on every node (and every replica is in sync
// with its primary). With replicas the nodes run with a short `cluster-node-timeout` (1 s), so a
// killed primary is replaced by its replica within about two seconds. stop() kills the servers by
// PID (SIGTERM, then SIGKILL) and removes the directory; servers still alive when this process
// exits are killed as a last resort.
//
// Needs redis-server and redis-cli (5.0 or later) on PATH. Node 20 built-ins only.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { HOST, portIsFree, sleep, which } from './local-redis.mjs';

const TAG = 'redis-cluster:';
const PRIMARIES = 3;
const START_TIMEOUT_MS = 10_000;
const CLUSTER_OK_TIMEOUT_MS = 20_000;
/** cluster-node-timeout without replicas (nothing to fail over to), and with them (fast failover). */
const NODE_TIMEOUT_MS = 2_000;
const FAILOVER_NODE_TIMEOUT_MS = 1_000;
const FAILOVER_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 3_000;
/** A node's cluster bus listens on its port + 10000 (the default of every Redis version). */
const BUS_OFFSET = 10_000;

/** Every redis-server child not yet exited, killed (SIGKILL) when this process exits. */
const liveServers = new Set();
let exitHookInstalled = false;

/** The redis-server and redis-cli executables, or an Error saying how to install them. */
function findExecutables() {
  const server = which('redis-server');
  const cli = which('redis-cli');
  if (server && cli) return { server, cli };
  const missing = [!server && 'redis-server', !cli && 'redis-cli'].filter(Boolean).join(' and ');
  throw new Error(
    [
      `${TAG} ${missing} not found on PATH; a Redis Cluster for the tests needs both (Redis 5.0 or later).`,
      'Install them and run again:',
      '  Debian/Ubuntu: sudo apt-get install redis-server   (includes redis-cli)',
      '  macOS:         brew install redis',
    ].join('\n'),
  );
}

/** A port that is free, with port + BUS_OFFSET free as well (both were, a moment ago). */
async function freeNodePort(taken) {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 25_000);
    if (taken.has(port) || taken.has(port + BUS_OFFSET) || taken.has(port - BUS_OFFSET)) continue;
    if ((await portIsFree(port)) && (await portIsFree(port + BUS_OFFSET))) return port;
  }
  throw new Error(`${TAG} found no free loopback port pair (port and port + ${BUS_OFFSET}) between 20000 and 55000`);
}

/**
 * Sends one command (an array of strings) to HOST:port and resolves its reply as text: the
 * status/bulk/integer payload, or `-ERR ...` for an error reply (arrays are not parsed). Rejects
 * when nothing answers.
 */
export function sendCommand(port, args, timeoutMs = 1_000) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let data = Buffer.alloc(0);
    const done = (error, value) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(value);
    };
    const timer = setTimeout(() => done(new Error(`no reply from ${HOST}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      data = Buffer.concat([data, chunk]);
      const lineEnd = data.indexOf('\r\n');
      if (lineEnd < 0) return;
      const type = String.fromCharCode(data[0]);
      const head = data.subarray(1, lineEnd).toString();
      if (type === '$') {
        const length = Number(head);
        if (length < 0) return done(null, null);
        if (data.length >= lineEnd + 2 + length + 2) done(null, data.subarray(lineEnd + 2, lineEnd + 2 + length).toString());
      } else if (type === '-') {
        done(null, `-${head}`);
      } else {
        done(null, head);
      }
    });
    socket.on('error', (error) => done(error));
    socket.on('close', () => done(new Error(`${HOST}:${port} closed the connection`)));
  });
}

/** Runs a program to completion; resolves { code, output }. */
function run(file, args) {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const output = [];
    child.stdout.on('data', (chunk) => output.push(chunk));
    child.stderr.on('data', (chunk) => output.push(chunk));
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('exit', (code, signal) => resolve({ code: signal ? -1 : code, output: Buffer.concat(output).toString() }));
  });
}

/** True when this file runs as the CLI, whose own signal handlers stop the cluster gracefully. */
let cliMode = false;

function killAllNow() {
  for (const child of liveServers) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Last resorts against stray servers: kill them when this process exits, and when it is told to
 * stop by a signal nobody else handles (Node's default action would skip the exit hook), after
 * which the signal is raised again so the process still ends the way it would have.
 */
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllNow);
  if (cliMode) return;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      killAllNow();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Starts one cluster-enabled redis-server and waits for its PING. */
async function startNode(executable, port, dir, nodeTimeoutMs) {
  const output = [];
  const child = spawn(
    executable,
    [
      '--port', String(port),
      '--bind', HOST,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', path.join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', String(nodeTimeoutMs),
      // A replica takes over however long it was cut off from its primary.
      '--cluster-replica-validity-factor', '0',
      // A replica's first sync streams straight from memory, without waiting for others.
      '--repl-diskless-sync-delay', '0',
      '--dir', dir,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      '--protected-mode', 'yes',
    ],
    // Same process group as this one: a terminal's Ctrl-C reaches the servers too.
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Keep the pipes drained, but let this process exit (and its exit hook kill the servers).
  child.unref();
  // Only the start-up output is kept, for the error message when a server does not come up.
  const collect = (chunk) => output.length < 200 && output.push(chunk);
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  child.stdout.unref?.();
  child.stderr.unref?.();
  liveServers.add(child);
  let gone = null;
  child.on('exit', (code, signal) => {
    liveServers.delete(child);
    gone = signal ?? `exit code ${code}`;
  });
  child.on('error', (error) => {
    liveServers.delete(child);
    gone = error.message;
  });
  const node = { host: HOST, port, child, output };
  const started = Date.now();
  while (!gone && Date.now() - started < START_TIMEOUT_MS) {
    if ((await sendCommand(port, ['PING'], 250).catch(() => null)) === 'PONG') return node;
    await sleep(50);
  }
  const text = Buffer.concat(output).toString().trim();
  const error = new Error(
    `${TAG} redis-server on ${HOST}:${port} ${gone ? `exited (${gone})` : `did not answer PING within ${START_TIMEOUT_MS / 1000} s`}` +
      (text ? `; its output:\n${text}` : ''),
  );
  error.node = node;
  throw error;
}

/** Kills servers by PID: SIGTERM, then SIGKILL after STOP_GRACE_MS; resolves when all exited. */
async function killNodes(nodes) {
  await Promise.all(
    nodes.map(async ({ child }) => {
      if (!liveServers.has(child)) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      const signal = (name) => {
        try {
          process.kill(child.pid, name);
        } catch {
          // exited meanwhile; its 'exit' event is on its way
        }
      };
      signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * Resolves once CLUSTER INFO reports cluster_state:ok (all 16384 slots, every node known) on
 * every node, and every replica's link to its primary is up.
 */
async function waitForClusterOk(nodes) {
  const started = Date.now();
  let last = '';
  for (;;) {
    const infos = await Promise.all(nodes.map(({ port }) => sendCommand(port, ['CLUSTER', 'INFO']).catch((e) => `error: ${e.message}`)));
    const ok = infos.every(
      (info) =>
        /^cluster_state:ok\r?$/m.test(info) &&
        /^cluster_slots_ok:16384\r?$/m.test(info) &&
        new RegExp(`^cluster_known_nodes:${nodes.length}\\r?$`, 'm').test(info),
    );
    if (ok && (await replicasInSync(nodes))) return;
    last = infos.map((info, i) => `${nodes[i].port}: ${(/^cluster_state:\w+/m.exec(info) ?? [info])[0]}`).join(', ');
    if (Date.now() - started > CLUSTER_OK_TIMEOUT_MS) {
      throw new Error(`${TAG} the cluster did not reach cluster_state:ok within ${CLUSTER_OK_TIMEOUT_MS / 1000} s (${last})`);
    }
    await sleep(100);
  }
}

/** True when every replica among `nodes` has its link to its primary up (INFO replication). */
async function replicasInSync(nodes) {
  const infos = await Promise.all(nodes.map(({ port }) => sendCommand(port, ['INFO', 'replication']).catch(() => '')));
  return infos.every((info) => !/^role:slave\r?$/m.test(info) || /^master_link_status:up\r?$/m.test(info));
}

/**
 * The cluster as one node sees it (CLUSTER NODES): `[{ id, host, port, role, primaryId, failed,
 * slots }]`, `role` 'primary' or 'replica', `failed` when the node is flagged `fail` (or `fail?`,
 * suspected), `slots` the number of slots it serves.
 */
export async function clusterNodes(port) {
  const text = await sendCommand(port, ['CLUSTER', 'NODES']);
  if (typeof text !== 'string' || text.startsWith('-')) throw new Error(`${TAG} CLUSTER NODES on ${HOST}:${port} answered ${text}`);
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const [id, address, flags, primaryId, , , , , ...ranges] = line.trim().split(' ');
      const [, host, nodePort] = /^([^:]*):(\d+)@/.exec(address) ?? [];
      const flagList = flags.split(',');
      let slots = 0;
      for (const range of ranges) {
        const match = /^(\d+)(?:-(\d+))?$/.exec(range);
        if (match) slots += (match[2] === undefined ? Number(match[1]) : Number(match[2])) - Number(match[1]) + 1;
      }
      return {
        id,
        host,
        port: Number(nodePort),
        role: flagList.includes('master') ? 'primary' : 'replica',
        primaryId: primaryId === '-' ? undefined : primaryId,
        failed: flagList.includes('fail') || flagList.includes('fail?'),
        slots,
      };
    });
}

/**
 * Starts a cluster on loopback: 3 primaries, each with `replicas` replicas (default 0).
 * Resolves `{ nodes: [{ host, port }], pids, dir, stop(), roles(), kill(port),
 * waitForFailover(port) }`; throws (after stopping whatever it started) when redis-server or
 * redis-cli is missing or the cluster does not come up.
 */
export async function start({ replicas = 0 } = {}) {
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 5) {
    throw new TypeError(`${TAG} invalid replicas: ${JSON.stringify(replicas)} (an integer from 0 to 5)`);
  }
  const { server, cli } = findExecutables();
  installExitHook();
  const dir = mkdtempSync(path.join(tmpdir(), 'durabull-redis-cluster-'));
  const nodes = [];
  const stop = async () => {
    await killNodes(nodes.splice(0));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const taken = new Set();
    const nodeTimeoutMs = replicas > 0 ? FAILOVER_NODE_TIMEOUT_MS : NODE_TIMEOUT_MS;
    for (let i = 0; i < PRIMARIES * (1 + replicas); i++) {
      // A port taken between the probe and redis-server's bind makes the server exit: try another.
      for (let attempt = 1; ; attempt++) {
        const port = await freeNodePort(taken);
        taken.add(port);
        try {
          nodes.push(await startNode(server, port, dir, nodeTimeoutMs));
          break;
        } catch (error) {
          if (error.node) await killNodes([error.node]);
          if (attempt >= 3) throw error;
        }
      }
    }
    const create = await run(cli, [
      '--cluster', 'create',
      ...nodes.map(({ host, port }) => `${host}:${port}`),
      '--cluster-replicas', String(replicas),
      '--cluster-yes',
    ]);
    if (create.code !== 0) {
      throw new Error(`${TAG} redis-cli --cluster create failed (exit code ${create.code}):\n${create.output.trim()}`);
    }
    await waitForClusterOk(nodes);
  } catch (error) {
    await stop();
    throw error;
  }
  const all = [...nodes];
  const nodeAt = (port) => {
    const node = all.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`${TAG} no node of this cluster listens on port ${port}`);
    return node;
  };
  const alive = () => all.filter(({ child }) => liveServers.has(child));
  /** CLUSTER NODES from the first live node that answers, with each node's PID. */
  const roles = async () => {
    let lastError;
    for (const { port } of alive()) {
      try {
        return (await clusterNodes(port)).map((node) => ({ ...node, pid: all.find((n) => n.port === node.port)?.child.pid }));
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError ?? new Error(`${TAG} no node is alive`);
  };
  /** Each killed primary's replicas at the time it was killed, by port. */
  const replicasOfKilled = new Map();
  /** SIGKILLs one node by PID (no shutdown, as a crash); resolves once it exited. */
  const kill = async (port) => {
    const node = nodeAt(port);
    const known = await roles();
    const self = known.find((n) => n.port === port);
    replicasOfKilled.set(port, known.filter((n) => self && n.primaryId === self.id).map((n) => n.port));
    if (!liveServers.has(node.child)) return;
    const exited = new Promise((resolve) => node.child.once('exit', resolve));
    process.kill(node.child.pid, 'SIGKILL');
    await exited;
  };
  /**
   * After kill(port) of a primary: resolves `{ port, elapsedMs }` of the replica promoted in its
   * place once every live node reports cluster_state:ok with all slots served, the killed node
   * flagged failed and the promoted one a primary with slots.
   */
  const waitForFailover = async (port, timeoutMs = FAILOVER_TIMEOUT_MS) => {
    const started = Date.now();
    const candidates = replicasOfKilled.get(port) ?? [];
    let last = '';
    for (;;) {
      try {
        const known = await roles();
        const promoted = known.find((n) => candidates.includes(n.port) && n.role === 'primary' && n.slots > 0 && !n.failed);
        const victim = known.find((n) => n.port === port);
        const infos = await Promise.all(alive().map(({ port: p }) => sendCommand(p, ['CLUSTER', 'INFO'])));
        const ok = infos.every((info) => /^cluster_state:ok\r?$/m.test(info) && /^cluster_slots_ok:16384\r?$/m.test(info));
        if (promoted && victim?.failed && ok) return { port: promoted.port, elapsedMs: Date.now() - started };
        last = `killed node ${victim?.failed ? 'flagged failed' : 'not flagged failed yet'}, ${promoted ? `replica ${promoted.port} promoted` : 'no replica promoted yet'}, cluster ${ok ? 'ok' : 'not ok'}`;
      } catch (error) {
        last = error.message;
      }
      if (Date.now() - started > timeoutMs) {
        throw new Error(`${TAG} no replica took over from ${HOST}:${port} within ${timeoutMs / 1000} s (${last})`);
      }
      await sleep(50);
    }
  };
  return {
    nodes: all.map(({ host, port }) => ({ host, port })),
    pids: all.map(({ child }) => child.pid),
    dir,
    stop,
    roles,
    kill,
    waitForFailover,
  };
}

/** `host:port,host:port,...`: the form of DURABULL_TEST_REDIS_CLUSTER. */
export function formatNodes(nodes) {
  return nodes.map(({ host, port }) => `${host}:${port}`).join(',');
}

/** The command line: `[--replicas N] [--json]`. */
function parseArgs(args) {
  const options = { replicas: 0, json: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--json') options.json = true;
    else if (arg === '--replicas' || arg.startsWith('--replicas=')) {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      options.replicas = Number(value);
      if (!/^\d+$/.test(value ?? '')) throw new Error(`${TAG} --replicas needs a whole number, got ${JSON.stringify(value)}`);
    } else {
      throw new Error(`${TAG} unknown argument ${JSON.stringify(arg)} (usage: redis-cluster.mjs [--replicas N] [--json])`);
    }
  }
  return options;
}

/**
 * --json mode: answers `roles`, `kill <port>` and `wait-failover <port>` lines on stdin with one
 * JSON line each, and stops the cluster when stdin closes (the parent went away).
 */
function serveCommands(cluster, stop) {
  const lines = createInterface({ input: process.stdin });
  const reply = (value) => process.stdout.write(`${JSON.stringify(value)}\n`);
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    const [command, argument] = line.trim().split(/\s+/);
    queue = queue.then(async () => {
      try {
        if (command === 'roles') reply({ roles: await cluster.roles() });
        else if (command === 'kill') reply({ killed: (await cluster.kill(Number(argument)), Number(argument)) });
        else if (command === 'wait-failover') reply({ failover: await cluster.waitForFailover(Number(argument)) });
        else reply({ error: `unknown command ${JSON.stringify(line)} (roles, kill <port>, wait-failover <port>)` });
      } catch (error) {
        reply({ error: error.message });
      }
    });
  });
  lines.on('close', () => void queue.then(() => stop('stdin closed')));
}

async function main() {
  cliMode = true;
  let cluster;
  let options;
  try {
    options = parseArgs(process.argv.slice(2));
    cluster = await start({ replicas: options.replicas });
  } catch (error) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const stop = async (why) => {
    if (!options.json) process.stdout.write(`${TAG} ${why}: stopping the cluster\n`);
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (options.json) {
    const roles = await cluster.roles();
    process.stdout.write(`${JSON.stringify({ nodes: roles.map(({ host, port, pid, role }) => ({ host, port, pid, role })) })}\n`);
    serveCommands(cluster, stop);
    return;
  }
  const primaries = cluster.nodes.length / (1 + options.replicas);
  process.stdout.write(
    [
      `${TAG} a ${primaries}-primary Redis Cluster${options.replicas ? ` with ${options.replicas} replica(s) each` : ''} is up (pids ${cluster.pids.join(', ')}):`,
      ...cluster.nodes.map(({ host, port }) => `  ${host}:${port}`),
      `DURABULL_TEST_REDIS_CLUSTER=${formatNodes(cluster.nodes)}`,
      'Press Ctrl-C to stop it.',
      '',
    ].join('\n'),
  );
  // Keep running until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  await main();
}
