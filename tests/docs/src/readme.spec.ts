import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { YourActivities, YourWorkflow } from '@durabull/hello-worker';
import { TestEnvironment } from '@durabull/testing';
import { codeBlocks } from './markdown';

/**
 * Every example of the README, run as a reader would run it: the TypeScript ones compiled
 * (type-checked against the built packages) and run, the CLI ones run in order. A README that
 * drifts from the code fails here. They run in a namespace of their own (DURABULL_NAMESPACE).
 */
const ROOT = join(__dirname, '..', '..', '..');
const SNIPPETS = join(__dirname, '..', '.snippets');
const exec = promisify(execFile);

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const typescript = codeBlocks(readme).filter((b) => b.language === 'ts');
const cliLines = codeBlocks(readme)
  .filter((b) => b.language === 'sh')
  .flatMap((b) => b.code.split('\n'))
  .filter((line) => line.startsWith('npx durabull '));

/** What the `// comment` after each `console.log(...)` of an example says it prints. */
function printedPerComments(code: string): string[] {
  return [...code.matchAll(/console\.log\(.*\); \/\/ (.+)$/gm)].map((match) => match[1]!.trim());
}

/** File name of a TypeScript example: Jest-style examples (calling Jest's `describe`, not a method `x.describe()`) are specs. */
const fileOf = (index: number) => (/(^|[^.\w])describe\(/m.test(typescript[index]!.code) ? `example-${index}.spec.ts` : `example-${index}.ts`);

describe('README examples', () => {
  let env: TestEnvironment;
  let childEnv: NodeJS.ProcessEnv;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    childEnv = { ...process.env, DURABULL_NAMESPACE: env.namespace, DURABULL_LOG_LEVEL: 'error', TS_NODE_PROJECT: join(ROOT, 'tsconfig.spec.json') };
    rmSync(SNIPPETS, { recursive: true, force: true });
    mkdirSync(SNIPPETS, { recursive: true });
    typescript.forEach((block, i) => writeFileSync(join(SNIPPETS, fileOf(i)), block.code));
    writeFileSync(
      join(SNIPPETS, 'tsconfig.json'),
      JSON.stringify({ extends: '../../../tsconfig.spec.json', compilerOptions: { noEmit: true, isolatedModules: false }, include: ['*.ts'] }),
    );
  });
  afterAll(async () => {
    rmSync(SNIPPETS, { recursive: true, force: true });
    await env.teardown();
  });

  it('has TypeScript and CLI examples', () => {
    expect(typescript.length).toBeGreaterThanOrEqual(5);
    expect(cliLines.length).toBeGreaterThanOrEqual(10);
  });

  it('type-checks every TypeScript example against the built packages', async () => {
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const outcome = await exec(process.execPath, [tsc, '-p', join(SNIPPETS, 'tsconfig.json')], { cwd: ROOT }).catch(
      (error: { stdout: string }) => error,
    );
    expect(outcome.stdout).toBe(''); // tsc prints its errors on stdout
  });

  it.each(typescript.map((block, i) => [`${block.heading} (line ${block.line})`, i]))('runs the example of "%s"', async (_name, index) => {
    const file = join(SNIPPETS, fileOf(index));
    if (file.endsWith('.spec.ts')) {
      const config = {
        rootDir: ROOT,
        testEnvironment: 'node',
        transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: join(ROOT, 'tsconfig.spec.json') }] },
        setupFiles: [join(ROOT, 'tools/jest/setup.ts')],
        testMatch: [file],
        testPathIgnorePatterns: [],
      };
      await exec(process.execPath, [join(ROOT, 'node_modules/jest/bin/jest.js'), '--config', JSON.stringify(config), '--runTestsByPath', file], {
        cwd: ROOT,
        env: childEnv,
      });
    } else {
      const { stdout } = await exec(process.execPath, ['-r', 'ts-node/register/transpile-only', file], { cwd: ROOT, env: childEnv, timeout: 60_000 });
      // `console.log(...); // what it prints`: the example prints what its comment says.
      for (const expected of printedPerComments(typescript[index]!.code)) expect(stdout).toContain(expected);
    }
  });

  it('runs the CLI examples in order, each exiting 0', async () => {
    const cli = join(ROOT, 'apps/cli/bin/durabull.js');
    // The examples that wait for a worker come after those that need the run still open.
    const worker = env.newWorker({ taskQueue: 'hello', workflows: [YourWorkflow], activities: [new YourActivities()] });
    let running: Promise<void> | undefined;
    const outputs: string[] = [];
    for (const line of cliLines) {
      if (line.includes('workflow execute') && !running) running = worker.run();
      const command = line.replace(/^npx durabull /, `"${process.execPath}" "${cli}" `);
      const { stdout } = await exec('bash', ['-c', command], { cwd: SNIPPETS, env: childEnv, timeout: 30_000 });
      outputs.push(stdout);
    }
    await worker.shutdown();
    await running;
    // `workflow show --output json > greet-1.json` wrote a history the Replayer accepts.
    const history = JSON.parse(readFileSync(join(SNIPPETS, 'greet-1.json'), 'utf8')) as { workflowId: string; events: unknown[] };
    expect(history.workflowId).toBe('greet-1');
    expect(history.events.length).toBeGreaterThan(1);
    expect(outputs.join('\n')).toContain('Hello, World!');
  });
});

