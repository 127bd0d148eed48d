import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestEnvironment } from '@durabull/testing';

const exec = promisify(execFile);
const ROOT = join(__dirname, '..', '..', '..');
/** Every published package: the libraries and the CLI. */
const PACKAGES = ['@durabull/common', '@durabull/engine', '@durabull/sdk', '@durabull/testing', '@durabull/opentelemetry', '@durabull/cli'];

/** The tsconfig the README documents, in a strict project of a user's own. */
const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    module: 'commonjs',
    strict: true,
    outDir: 'dist',
    rootDir: 'src',
    esModuleInterop: true,
    skipLibCheck: false,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
  },
  include: ['src'],
};

const WORKFLOWS = `
import 'reflect-metadata';
import { IsString } from 'class-validator';
import { Activity, WorkflowDefn, WorkflowRun, workflow } from '@durabull/sdk';

export class Greeting {
  @IsString()
  name!: string;
}

export class Greeter {
  @Activity()
  async greet(greeting: Greeting): Promise<string> {
    return \`Hello, \${greeting.name}! (a \${greeting.constructor.name})\`;
  }
}

@WorkflowDefn()
export class GreetingWorkflow {
  @WorkflowRun()
  async run(name: string): Promise<string> {
    const greeting = Object.assign(new Greeting(), { name });
    return workflow.executeActivity(Greeter.prototype.greet, greeting, { startToCloseTimeout: '10s' });
  }
}
`;

const MAIN = `
import 'reflect-metadata';
import { Client, Worker } from '@durabull/sdk';
import { Greeter, GreetingWorkflow } from './workflows';

async function main(): Promise<void> {
  const client = await Client.connect({ redis: process.env.REDIS_URL, namespace: process.env.DURABULL_NAMESPACE });
  const worker = new Worker(client, { taskQueue: 'installed', workflows: [GreetingWorkflow], activities: [new Greeter()] });
  const result = await worker.runUntil(
    client.executeWorkflow(GreetingWorkflow, 'installed world', { id: 'installed-greeting', taskQueue: 'installed' }),
  );
  console.log(result);
  await client.close();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

/**
 * What a user does: `npm pack` every package, install the tarballs into a new project outside
 * the workspace (its other dependencies from the registry), compile a worker there with the
 * documented tsconfig, run a workflow, and use the installed `durabull` command on it.
 */
describe('the packages, installed from their tarballs in a project of its own', () => {
  let project: string;
  let env: TestEnvironment;
  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'durabull-installed-'));
    const packs = join(project, 'packs');
    mkdirSync(packs);
    await exec('npm', ['pack', '--silent', '--pack-destination', packs, ...PACKAGES.flatMap((name) => ['-w', name])], { cwd: ROOT });
    const tarballs = readdirSync(packs).map((file) => join(packs, file));
    expect(tarballs).toHaveLength(PACKAGES.length);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'installed-durabull', version: '1.0.0', private: true }));
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(TSCONFIG, null, 2));
    mkdirSync(join(project, 'src'));
    writeFileSync(join(project, 'src', 'workflows.ts'), WORKFLOWS);
    writeFileSync(join(project, 'src', 'main.ts'), MAIN);
    await exec('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, 'typescript@5.9.3', '@types/node@20'], {
      cwd: project,
      maxBuffer: 16 * 1024 * 1024,
    });
    env = await TestEnvironment.create();
  }, 300_000);
  afterAll(async () => {
    await env?.teardown();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('compiles a worker with the documented tsconfig and runs a workflow', async () => {
    await exec(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project });
    const { stdout } = await exec(process.execPath, [join(project, 'dist', 'main.js')], {
      cwd: project,
      env: { ...process.env, DURABULL_NAMESPACE: env.namespace },
    });
    expect(stdout.trim()).toBe('Hello, installed world! (a Greeting)');
  }, 120_000);

  it('runs the installed durabull command against that run', async () => {
    const durabull = join(project, 'node_modules', '.bin', 'durabull');
    const { stdout } = await exec(durabull, ['workflow', 'describe', '--id', 'installed-greeting', '--namespace', env.namespace, '--output', 'json'], {
      cwd: project,
    });
    expect(JSON.parse(stdout)).toMatchObject({ workflowId: 'installed-greeting', workflowType: 'GreetingWorkflow', status: 'COMPLETED' });
  }, 60_000);
});
