import * as ts from 'typescript';
import * as sdk from '../index';
import { checkWorkerOptions } from '../worker/options';

/** Compiles `source` with the given decorator settings and runs it, as a user's build would. */
function compileAndRun(source: string, settings: { experimentalDecorators: boolean; emitDecoratorMetadata: boolean }): Record<string, unknown> {
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { ...settings, module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  const module = { exports: {} as Record<string, unknown> };
  const load = (name: string) => {
    if (name === '@durabull/sdk') return sdk;
    if (name === 'reflect-metadata') return {};
    throw new Error(`unexpected import ${name}`);
  };
  new Function('require', 'module', 'exports', outputText)(load, module, module.exports);
  return module.exports;
}

const SOURCE = `
import { Activity, WorkflowDefn, WorkflowRun, WorkflowSignal } from '@durabull/sdk';
export class Order { id!: string; }
export class Payments {
  @Activity()
  async charge(order: Order): Promise<void> {}
  @Activity()
  async ping(): Promise<string> { return 'pong'; }
}
@WorkflowDefn()
export class Checkout {
  @WorkflowRun()
  async run(order: Order): Promise<void> {}
  @WorkflowSignal()
  addCoupon(code: string): void {}
}
`;

describe('decorator settings', () => {
  it('lets a worker start when the decorators recorded their parameter types', () => {
    const { Payments, Checkout } = compileAndRun(SOURCE, { experimentalDecorators: true, emitDecoratorMetadata: true });
    const checked = checkWorkerOptions(
      { taskQueue: 'q', workflows: [Checkout as new () => object], activities: [new (Payments as new () => object)()] },
      'tester',
    );
    expect([...checked.workflows.keys()]).toEqual(['Checkout']);
  });

  it('refuses to start a worker whose decorated methods have no parameter types (no emitDecoratorMetadata), naming the setting', () => {
    const { Payments, Checkout } = compileAndRun(SOURCE, { experimentalDecorators: true, emitDecoratorMetadata: false });
    expect(() =>
      checkWorkerOptions({ taskQueue: 'q', workflows: [Checkout as new () => object], activities: [new (Payments as new () => object)()] }, 'tester'),
    ).toThrow(
      new TypeError(
        'No parameter types were recorded for Checkout.run, Checkout.addCoupon, Payments.charge: compile with "experimentalDecorators": true and ' +
          '"emitDecoratorMetadata": true in tsconfig.json, so that class-typed arguments are restored and validated ' +
          '(or name them: registerWorkflow, defineActivity({ paramTypes }))',
      ),
    );
  });

  it('refuses standard (TC39) decorators, which TypeScript emits without experimentalDecorators, naming the setting', () => {
    expect(() => compileAndRun(SOURCE, { experimentalDecorators: false, emitDecoratorMetadata: false })).toThrow(
      new TypeError(
        '@Activity on charge was applied as a standard decorator: Durabull\'s decorators need "experimentalDecorators": true and "emitDecoratorMetadata": true in tsconfig.json',
      ),
    );
  });
});
