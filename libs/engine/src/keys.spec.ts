import { NamespaceKeys } from './keys';

describe('NamespaceKeys', () => {
  // Shards are where existing runs live: the mapping may never change between versions.
  it.each([
    ['order-1', 13, 365],
    ['order-2', 4, 180],
    ['a', 12, 300],
    ['wf-é-ü', 9, 297],
    ['日本語', 7, 231],
  ])('puts workflow id %j on shard %d of 16 and %d of 1024 (FNV-1a of its UTF-8 bytes)', (workflowId, of16, of1024) => {
    expect(new NamespaceKeys('durabull', 'ns', 16).shardOf(workflowId)).toBe(of16);
    expect(new NamespaceKeys('durabull', 'ns', 1024).shardOf(workflowId)).toBe(of1024);
  });

  it("names a run's keys under its shard's hash tag", () => {
    const keys = new NamespaceKeys('durabull', 'ns', 16).run('order-1', 'r1');
    expect(keys).toMatchObject({
      shard: 13,
      tag: 'durabull:{ns:13}',
      state: 'durabull:{ns:13}:run:r1',
      history: 'durabull:{ns:13}:hist:r1',
      buffer: 'durabull:{ns:13}:buf:r1',
      workflowId: 'durabull:{ns:13}:wid:order-1',
      outbox: 'durabull:{ns:13}:outbox',
    });
  });
});
