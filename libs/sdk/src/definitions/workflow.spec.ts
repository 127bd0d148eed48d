import 'reflect-metadata';
import { DYNAMIC, WorkflowDefn, WorkflowQuery, WorkflowRun, WorkflowSignal, WorkflowUpdate, messageName, requireWorkflowDefinition } from './workflow';

@WorkflowDefn()
class Cart {
  items: string[] = [];

  @WorkflowRun()
  async run(): Promise<string[]> {
    return this.items;
  }

  @WorkflowSignal()
  addItem(item: string): void {
    this.items.push(item);
  }

  @WorkflowSignal({ name: 'checkout' })
  checkOut(): void {}

  @WorkflowSignal({ dynamic: true })
  anySignal(name: string, ...args: unknown[]): void {
    this.items.push(`${name}:${args.length}`);
  }

  @WorkflowQuery()
  count(): number {
    return this.items.length;
  }

  @WorkflowUpdate({ validator: 'validateRemove' })
  async removeItem(item: string): Promise<number> {
    this.items = this.items.filter((i) => i !== item);
    return this.items.length;
  }

  validateRemove(item: string): void {
    if (!this.items.includes(item)) throw new Error(`no item ${item}`);
  }
}

describe('message handler decorators', () => {
  it('records signals, queries and updates by name, the dynamic one apart', () => {
    const definition = requireWorkflowDefinition(Cart);
    expect([...definition.signals.keys()]).toEqual(['addItem', 'checkout', DYNAMIC]);
    expect(definition.signals.get('checkout')).toMatchObject({ kind: 'signal', name: 'checkout', method: 'checkOut', dynamic: false });
    expect(definition.signals.get(DYNAMIC)).toMatchObject({ kind: 'signal', method: 'anySignal', dynamic: true });
    expect(definition.queries.get('count')).toMatchObject({ kind: 'query', method: 'count' });
    expect(definition.updates.get('removeItem')).toMatchObject({ kind: 'update', method: 'removeItem', validator: 'validateRemove', paramTypes: [String] });
  });

  it('names a message by its decorated method or by its name', () => {
    expect(messageName('signal', Cart.prototype.addItem)).toBe('addItem');
    expect(messageName('signal', Cart.prototype.checkOut)).toBe('checkout');
    expect(messageName('signal', 'anything')).toBe('anything');
    expect(messageName('update', Cart.prototype.removeItem)).toBe('removeItem');
    expect(() => messageName('query', Cart.prototype.addItem)).toThrow(
      new TypeError('Invalid query: method addItem is not a @WorkflowQuery method (pass the decorated method or the query name)'),
    );
    expect(() => messageName('signal', '')).toThrow(new TypeError('Invalid signal name: "" (a non-empty string or a decorated method)'));
  });

  it('reports every problem of a class in one error', () => {
    expect(() => {
      @WorkflowDefn()
      class Broken {
        @WorkflowRun()
        async run(): Promise<void> {}

        @WorkflowSignal({ name: 'x', dynamic: true })
        both(): void {}

        @WorkflowSignal({ name: 'same' })
        one(): void {}

        @WorkflowSignal({ name: 'same' })
        two(): void {}

        @WorkflowUpdate({ validator: 'missing' })
        async update(): Promise<void> {}
      }
      return Broken;
    }).toThrow(
      new TypeError(
        'Invalid workflow class Broken: @WorkflowSignal on both: cannot provide name and dynamic; one and two both handle the signal "same"; the validator "missing" of update update is not a method of the class',
      ),
    );
  });
});
