// A throwaway redis-server with TLS only (certificates made with openssl in a temp dir) and an ACL
// user limited to one namespace's keys and channels: a worker, a client and the CLI work on it
// with rediss://user:password@127.0.0.1:<port> (the CLI trusts the test CA through --tls-ca).
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Client, Worker, WorkflowDefn, WorkflowRun } from '@durabull/sdk';
import { cli } from '../test-support/run-cli';
import { freePort, which } from './redis-rule';

jest.setTimeout(30_000);

@WorkflowDefn({ name: 'TlsGreet' })
class TlsGreet {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    return `Hello, ${name}!`;
  }
}

/** Whether this redis-server was built with TLS (it refuses an unknown config option otherwise). */
function redisHasTls(redisServer: string): boolean {
  try {
    execFileSync(redisServer, ['--tls-port', '0', '--port', '0', '--test-memory', '1'], { stdio: 'pipe', timeout: 5_000 });
  } catch (error) {
    return !/tls-port/.test(String((error as { stderr?: Buffer }).stderr ?? ''));
  }
  return true;
}

const redisServer = which('redis-server');
const openssl = which('openssl');
const tls = redisServer !== undefined && openssl !== undefined && redisHasTls(redisServer);
const withTls = tls ? describe : describe.skip;

withTls('a TLS Redis with an ACL user limited to the namespace', () => {
  const namespace = `tls${process.pid}${Date.now().toString(36)}`;
  let dir: string;
  let server: ChildProcess;
  let url: string;
  let caFile: string;
  let ca: Buffer;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'durabull-tls-'));
    const file = (name: string) => path.join(dir, name);
    const ssl = (...args: string[]) => execFileSync(openssl!, args, { cwd: dir, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=durabull test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(file('san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.crt');
    caFile = file('ca.crt');
    ca = readFileSync(caFile);
    const port = await freePort();
    writeFileSync(
      file('redis.conf'),
      [
        'port 0',
        `tls-port ${port}`,
        'bind 127.0.0.1',
        `tls-cert-file ${file('server.crt')}`,
        `tls-key-file ${file('server.key')}`,
        `tls-ca-cert-file ${caFile}`,
        'tls-auth-clients no',
        'save ""',
        'appendonly no',
        `dir ${dir}`,
        'user default off',
        // The namespace's keys (`durabull:{ns}...`, `durabull:{ns:shard}...`) and channels (`durabull:ns:...`) only:
        // `~durabull:{ns*` alone would also grant the namespaces whose names start with ns.
        `user worker on >s3cret ~durabull:{${namespace}}* ~durabull:{${namespace}:* &durabull:${namespace}:* +@all`,
      ].join('\n'),
    );
    server = spawn(redisServer!, [file('redis.conf')], { stdio: 'ignore' });
    url = `rediss://worker:s3cret@127.0.0.1:${port}`;
    const start = Date.now();
    for (;;) {
      const probe = new Redis(url, { tls: { ca }, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        await probe.ping();
        probe.disconnect();
        break;
      } catch (error) {
        probe.disconnect();
        if (Date.now() - start > 10_000) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  });

  afterAll(async () => {
    server?.kill('SIGKILL');
    if (server && server.exitCode === null) await new Promise((resolve) => server.once('exit', resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('runs a worker, a client and the CLI; the user cannot touch another namespace', async () => {
    // The SDK takes an ioredis instance (or options) with the CA; its further connections copy it.
    const redis = new Redis(url, { tls: { ca } });
    const client = await Client.connect({ redis, namespace });
    const worker = new Worker(client, { taskQueue: 'tls', workflows: [TlsGreet] });
    try {
      const durabull = (...args: string[]) => cli([...args, '-n', namespace, '--redis', url, '--tls-ca', caFile]);
      await worker.runUntil(async () => {
        const handle = await client.startWorkflow(TlsGreet, { id: 'tls-1', taskQueue: 'tls', args: ['TLS'] });
        expect(await handle.result()).toBe('Hello, TLS!');
        const executed = await durabull('workflow', 'execute', '--type', 'TlsGreet', '-t', 'tls', '-w', 'tls-2', '-i', '"CLI"', '-o', 'json');
        expect(executed).toMatchObject({ code: 0, stderr: '' });
        expect(JSON.parse(executed.stdout)).toMatchObject({ workflowId: 'tls-2', status: 'COMPLETED', result: 'Hello, CLI!' });
        expect(await durabull('workflow', 'count')).toEqual({ code: 0, stdout: '2\n', stderr: '' });
        const described = await durabull('task-queue', 'describe', '-t', 'tls', '-o', 'json');
        expect(JSON.parse(described.stdout)).toMatchObject({ taskQueue: 'tls', pollers: [{ workerId: worker.workerId, state: 'live' }] });
      });
      // Without the CA the certificate is refused; the password is never printed.
      const untrusted = await cli(['workflow', 'count', '-n', namespace, '--redis', url], { env: { PATH: process.env['PATH'] } });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/^durabull: Redis is unreachable at rediss:\/\/worker:\*\*\*@127\.0\.0\.1:\d+: [^\n]+\n$/);
      // The ACL user is limited to its namespace's keys.
      const other = await cli(['workflow', 'start', '--type', 'TlsGreet', '-t', 'tls', '-n', `${namespace}x`, '--redis', url, '--tls-ca', caFile]);
      expect(other.code).toBe(1);
      expect(other.stderr).toMatch(/NOPERM/);
    } finally {
      await client.close();
      redis.disconnect();
    }
  });
});
