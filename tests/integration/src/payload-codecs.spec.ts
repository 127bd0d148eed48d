import { randomBytes } from 'node:crypto';
import {
  Activity,
  ActivityError,
  AesGcmEncryptionCodec,
  ApplicationError,
  Worker,
  WorkflowDefn,
  WorkflowFailureError,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { Client } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';

const SECRET = 'card-4111-1111-1111-1111';

class Vault {
  @Activity({ name: 'store' })
  async store(secret: string): Promise<string> {
    if (activity.info().attempt === 1) {
      activity.heartbeat(`progress on ${secret}`);
      throw ApplicationError.retryable(`could not store ${secret} yet`, 'Busy', secret);
    }
    return `stored ${secret}`;
  }

  @Activity({ name: 'refuse' })
  async refuse(secret: string): Promise<string> {
    throw ApplicationError.nonRetryable(`refused ${secret}`, 'Refused', secret);
  }
}

@WorkflowDefn()
class Sensitive {
  @WorkflowRun()
  async run(secret: string, refuse: boolean): Promise<string> {
    const name = refuse ? 'refuse' : 'store';
    return workflow.executeActivity<string>(name, secret, { startToCloseTimeout: '5s', retryPolicy: { initialInterval: 10 } });
  }
}

const key = () => randomBytes(32);

describe('payload codecs: AES-256-GCM encryption at rest', () => {
  let env: TestEnvironment;
  afterEach(() => env.teardown());

  /** Everything Redis holds for the namespace, as text. */
  async function rawNamespace(client: Client): Promise<string> {
    // Every primary of a Redis Cluster holds part of the namespace.
    const nodes = 'nodes' in client.redis ? client.redis.nodes('master') : [client.redis];
    const pattern = `${client.engine.keys.prefix}:{${client.namespace}*`;
    const keys = (await Promise.all(nodes.map((node) => node.keys(pattern)))).flat();
    const parts: string[] = [];
    for (const k of keys) {
      const type = await client.redis.type(k);
      if (type === 'stream') parts.push(JSON.stringify(await client.redis.xrange(k, '-', '+')));
      else if (type === 'hash') parts.push(JSON.stringify(await client.redis.hgetall(k)));
      else if (type === 'string') parts.push(String(await client.redis.get(k)));
    }
    return parts.join('\n');
  }

  it('encrypts inputs, results, failures and heartbeat details in Redis while code sees plain values', async () => {
    const codec = new AesGcmEncryptionCodec({ keys: { k1: key() }, encryptWith: 'k1' });
    env = await TestEnvironment.create({ dataConverter: { payloadCodecs: [codec] } });
    const worker = env.newWorker({ taskQueue: 'vault', workflows: [Sensitive], activities: [new Vault()] });
    const stored = await env.client.startWorkflow(Sensitive, { args: [SECRET, false], id: 'stored', taskQueue: 'vault' });
    const refused = await env.client.startWorkflow(Sensitive, { args: [SECRET, true], id: 'refused', taskQueue: 'vault' });
    const [result, failure] = await worker.runUntil(Promise.all([stored.result(), refused.result().catch((e: unknown) => e)]));

    expect(result).toBe(`stored ${SECRET}`);
    const cause = ((failure as WorkflowFailureError).cause as ActivityError).cause as ApplicationError;
    expect(cause.message).toBe(`refused ${SECRET}`);
    expect(cause.details).toEqual([SECRET]);

    const raw = await rawNamespace(env.client);
    expect(raw).not.toContain('card-4111');
    expect(raw).toContain('binary/encrypted');
    expect(raw).toContain('Encoded failure');
    // History as stored holds ciphertext; the workflow's own view (replay) decodes it.
    const history = await stored.fetchHistory();
    expect((history[0]!.attributes as { input: Array<{ metadata: { encoding: string } }> }).input[0]!.metadata.encoding).toBe('binary/encrypted');
  });

  it('rotates keys: new payloads use the new key, old ones still decrypt, a missing key is a clear error', async () => {
    const k1 = key();
    const k2 = key();
    env = await TestEnvironment.create({ dataConverter: { payloadCodecs: [new AesGcmEncryptionCodec({ keys: { k1 }, encryptWith: 'k1' })] } });
    const worker = env.newWorker({ taskQueue: 'vault', workflows: [Sensitive], activities: [new Vault()] });
    const before = await env.client.startWorkflow(Sensitive, { args: [SECRET, false], id: 'before', taskQueue: 'vault' });
    await worker.runUntil(before.result());

    const rotated = await env.newClient({ dataConverter: { payloadCodecs: [new AesGcmEncryptionCodec({ keys: { k1, k2 }, encryptWith: 'k2' })] } });
    expect(await rotated.getWorkflowHandle<string>('before').result()).toBe(`stored ${SECRET}`);
    const after = await rotated.startWorkflow(Sensitive, { args: [SECRET, false], id: 'after', taskQueue: 'rotated' });
    const rotatedWorker = new Worker(rotated, { taskQueue: 'rotated', workflows: [Sensitive], activities: [new Vault()] });
    expect(await rotatedWorker.runUntil(after.result())).toBe(`stored ${SECRET}`);
    const [started] = await after.fetchHistory();
    expect((started!.attributes as { input: Array<{ metadata: Record<string, string> }> }).input[0]!.metadata['encryption-key-id']).toBe('k2');

    const stale = await env.newClient({ dataConverter: { payloadCodecs: [new AesGcmEncryptionCodec({ keys: { k1 }, encryptWith: 'k1' })] } });
    await expect(stale.getWorkflowHandle('after').result()).rejects.toThrow(
      'Payload was encrypted with key "k2", which this codec does not have',
    );
  });
});
