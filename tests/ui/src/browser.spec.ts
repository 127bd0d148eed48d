// The web UI end to end: a worker runs workflows (completed, failed, one left running), `durabull
// ui` serves them, and a real chromium opens the pages and checks what a person sees: the list
// with its filters and paging, the history table and timeline, the failure's cause chain, the
// pending activity, encrypted payloads, and an action (cancel) with its effect. Screenshots go to
// tests/ui/screenshots/.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import {
  Activity,
  AesGcmEncryptionCodec,
  ApplicationError,
  Client,
  EventType,
  Worker,
  WorkflowDefn,
  WorkflowExecutionStatus,
  WorkflowRun,
  activity,
  workflow,
} from '@durabull/sdk';
import type { Payload } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { REDIS, launchBrowser, screenshotPath, startRunningUi } from './support';
import type { RunningUi } from './support';

class UiActivities {
  @Activity({ name: 'ui-charge' })
  async charge(order: { id: string; amount: number }): Promise<string> {
    return `charged ${order.id} ${order.amount} EUR`;
  }

  @Activity({ name: 'ui-decline' })
  async decline(order: { id: string; amount: number }): Promise<string> {
    throw ApplicationError.create({
      message: `card declined for ${order.id}`,
      type: 'PaymentDeclined',
      nonRetryable: true,
      cause: new RangeError('issuer limit reached'),
    });
  }

  @Activity({ name: 'ui-reserve' })
  async reserve(sku: string): Promise<string> {
    activity.heartbeat({ sku, step: 'calling inventory' });
    throw new Error('inventory service unavailable');
  }
}

@WorkflowDefn({ name: 'UiOrder' })
class UiOrder {
  @WorkflowRun()
  async run(order: { id: string; amount: number }): Promise<string> {
    return workflow.executeActivity(UiActivities.prototype.charge, order, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'UiDeclined' })
class UiDeclined {
  @WorkflowRun()
  async run(order: { id: string; amount: number }): Promise<string> {
    return workflow.executeActivity(UiActivities.prototype.decline, order, { startToCloseTimeout: '5s' });
  }
}

@WorkflowDefn({ name: 'UiAwaiting' })
class UiAwaiting {
  @WorkflowRun()
  async run(sku: string): Promise<string> {
    const [reserved] = await Promise.all([
      workflow.executeActivity(UiActivities.prototype.reserve, sku, {
        startToCloseTimeout: '5s',
        heartbeatTimeout: '10s',
        retryPolicy: { initialInterval: '1m', backoffCoefficient: 1 },
      }),
      workflow.sleep('1h'),
    ]);
    return reserved;
  }
}

const ORDER = { id: 'o-1', amount: 42 };

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: last ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function rowTexts(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).allInnerTexts();
}

describe('durabull ui in a browser', () => {
  let env: TestEnvironment;
  let ui: RunningUi;
  let browser: BrowserContext;
  let closeBrowser: () => Promise<void>;
  let page: Page;
  let awaitingRunId: string;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    const worker = env.newWorker({ taskQueue: 'ui-orders', workflows: [UiOrder, UiDeclined, UiAwaiting], activities: [new UiActivities()] });
    void worker.run();
    const client = env.client;
    await client.executeWorkflow(UiOrder, { ...ORDER, id: 'o-1' }, { id: 'order-1', taskQueue: 'ui-orders' });
    await client.executeWorkflow(UiOrder, { id: 'o-2', amount: 7 }, { id: 'order-2', taskQueue: 'ui-orders' });
    await expect(client.executeWorkflow(UiDeclined, { id: 'o-3', amount: 99 }, { id: 'order-3', taskQueue: 'ui-orders' })).rejects.toThrow(
      'Workflow execution failed',
    );
    const awaiting = await client.startWorkflow(UiAwaiting, 'sku-17', { id: 'order-4', taskQueue: 'ui-orders' });
    awaitingRunId = awaiting.runId!;
    // Its activity failed once and waits a minute for its second attempt.
    await until('the second attempt', () => awaiting.describe(), (d) => d.pendingActivities[0]?.attempt === 2);

    ui = await startRunningUi(['ui', '--redis', REDIS, '--namespace', env.namespace, '--port', '0']);
    ({ browser, close: closeBrowser } = await launchBrowser());
    page = await browser.newPage();
  });

  afterAll(async () => {
    await closeBrowser?.();
    expect(await ui?.stop()).toBe(0);
    await env?.teardown();
  });

  it('lists the workflows with their status, type and task queue', async () => {
    await page.goto(ui.url);
    expect(new URL(page.url()).pathname).toBe(`/namespaces/${env.namespace}/workflows`);
    await page.locator('table.runs tbody tr').nth(3).waitFor();
    expect(await page.locator('p.count').innerText()).toBe('4 workflows');
    const rows = await rowTexts(page, 'table.runs tbody tr');
    // Newest first.
    expect(rows.map((row) => row.split('\t').slice(0, 2).concat(row.split('\t').slice(3, 5)))).toEqual([
      ['RUNNING', 'order-4', 'UiAwaiting', 'ui-orders'],
      ['FAILED', 'order-3', 'UiDeclined', 'ui-orders'],
      ['COMPLETED', 'order-2', 'UiOrder', 'ui-orders'],
      ['COMPLETED', 'order-1', 'UiOrder', 'ui-orders'],
    ]);
    // The namespace list is fetched apart from the table (a scan of Redis, slower under load).
    await page.locator('#namespace option').first().waitFor({ state: 'attached' });
    expect(await page.locator('#namespace').inputValue()).toBe(env.namespace);
    await page.screenshot({ path: screenshotPath('01-workflow-list'), fullPage: true });
  });

  it('filters by status, type and task queue, and pages', async () => {
    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows`);
    await page.selectOption('select[name=status]', 'COMPLETED');
    await page.click('form.filters button[type=submit]');
    await page.waitForURL(/status=COMPLETED/);
    await page.locator('p.count', { hasText: '2 workflows match' }).waitFor();
    expect((await rowTexts(page, 'table.runs tbody tr td:nth-child(2)')).sort()).toEqual(['order-1', 'order-2']);

    await page.click('form.filters button.secondary'); // Clear
    await page.locator('p.count', { hasText: /^4 workflows$/ }).waitFor();
    await page.fill('input[name=type]', 'UiDeclined');
    await page.click('form.filters button[type=submit]');
    await page.locator('p.count', { hasText: '1 workflow match' }).waitFor();
    expect(await rowTexts(page, 'table.runs tbody tr td:nth-child(2)')).toEqual(['order-3']);
    await page.screenshot({ path: screenshotPath('02-filtered-by-type'), fullPage: true });

    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows?taskQueue=elsewhere`);
    await page.locator('p.empty', { hasText: 'No workflows match.' }).waitFor();

    // A time filter: everything started before the first run is none of them.
    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows?startedBefore=2000-01-01T00:00:00.000Z`);
    await page.locator('p.empty', { hasText: 'No workflows match.' }).waitFor();

    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows?pageSize=3`);
    await page.locator('.paging', { hasText: 'Page 1' }).waitFor();
    expect(await rowTexts(page, 'table.runs tbody tr td:nth-child(2)')).toEqual(['order-4', 'order-3', 'order-2']);
    await page.click('.paging a:has-text("Next")');
    await page.locator('.paging', { hasText: 'Page 2' }).waitFor();
    expect(await rowTexts(page, 'table.runs tbody tr td:nth-child(2)')).toEqual(['order-1']);
    expect(await page.locator('.paging a:has-text("Next")').count()).toBe(0);
    await page.click('.paging a:has-text("Previous")');
    await page.locator('.paging', { hasText: 'Page 1' }).waitFor();
    expect(await rowTexts(page, 'table.runs tbody tr td:nth-child(2)')).toEqual(['order-4', 'order-3', 'order-2']);
  });

  it('shows a completed run: input, result, history table and timeline', async () => {
    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows`);
    await page.click('a:text-is("order-1")');
    await page.locator('#history').waitFor();
    expect(await page.locator('#run-status').innerText()).toBe('COMPLETED');
    expect(await page.locator('#result pre').innerText()).toBe('"charged o-1 42 EUR"');
    expect(JSON.parse(await page.locator('#input pre').innerText())).toEqual([{ id: 'o-1', amount: 42 }]);
    expect(await rowTexts(page, 'table.history tbody tr td:nth-child(3)')).toEqual([
      EventType.WorkflowExecutionStarted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.ActivityTaskScheduled,
      EventType.ActivityTaskStarted,
      EventType.ActivityTaskCompleted,
      EventType.WorkflowTaskScheduled,
      EventType.WorkflowTaskStarted,
      EventType.WorkflowTaskCompleted,
      EventType.WorkflowExecutionCompleted,
    ]);
    expect(await page.locator('table.history tbody tr').nth(6).locator('summary').innerText()).toBe('scheduled=5 result="charged o-1 42 EUR"');
    const timeline = await rowTexts(page, '#timeline .timeline-label');
    expect(timeline).toHaveLength(1);
    expect(timeline[0]).toMatch(/^ui-charge #1 · attempt 1 · completed · \d+(\.\d+)?m?s$/);
    // An event's attributes open in place.
    await page.locator('table.history tbody tr').first().locator('summary').click();
    expect(JSON.parse(await page.locator('table.history tbody tr').first().locator('pre').innerText())).toMatchObject({ workflowType: 'UiOrder', taskQueue: 'ui-orders' });
    await page.screenshot({ path: screenshotPath('03-completed-run'), fullPage: true });
  });

  it("shows a failed run's failure with its cause chain", async () => {
    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows/order-3`);
    await page.locator('#failure').waitFor();
    expect(await page.locator('#run-status').innerText()).toBe('FAILED');
    const chain = await rowTexts(page, '#failure ol.cause-chain > li');
    expect(chain.map((item) => item.split('\n')[0])).toEqual([
      'ActivityError: Activity task failed — activity ui-decline (id 1), retry state NON_RETRYABLE_FAILURE',
      'caused by PaymentDeclined: card declined for o-3 — non-retryable',
      'caused by RangeError: issuer limit reached',
    ]);
    const timeline = await rowTexts(page, '#timeline .timeline-label');
    expect(timeline[0]).toMatch(/^ui-decline #1 · attempt 1 · failed · .+\ncard declined for o-3$/);
    await page.screenshot({ path: screenshotPath('04-failed-run'), fullPage: true });
  });

  it('shows a running run live, with its pending activity, and cancels it from the page', async () => {
    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows/order-4/${awaitingRunId}`);
    await page.locator('#pending-activities').waitFor();
    expect(await page.locator('#run-status').innerText()).toBe('RUNNING');
    expect(await page.locator('.live').innerText()).toBe('● live');
    const cells = await rowTexts(page, '#pending-activities tbody tr td');
    expect(cells[0]).toBe('ui-reserve #1');
    expect(cells[1]).toBe('SCHEDULED');
    expect(cells[2]).toBe('2');
    expect(await page.locator('#pending-activities li.failure .failure-kind').innerText()).toBe('Error');
    expect(await page.locator('#pending-activities li.failure .failure-message').innerText()).toBe('inventory service unavailable');
    expect(cells[4]).toContain('"step": "calling inventory"');
    expect(cells[5]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    const timeline = await rowTexts(page, '#timeline .timeline-label');
    expect(timeline).toHaveLength(2);
    expect(timeline[0]).toMatch(/^ui-reserve #1 · attempt 2 · pending · [\d.]+m?s\nnext attempt \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(timeline[1]).toMatch(/^timer 1 \(1h\) · pending · [\d.]+m?s$/);
    await page.screenshot({ path: screenshotPath('05-running-run'), fullPage: true });

    await page.click('.actions button:text-is("Cancel")');
    await page.fill('.action-panel input[name=reason]', 'customer changed their mind');
    await page.screenshot({ path: screenshotPath('06-cancel-confirm'), fullPage: true });
    await page.click('.action-panel button:text-is("Request cancellation")');
    await page.locator('.action-result', { hasText: 'Cancellation requested.' }).waitFor();
    // The live refresh shows the run close.
    await page.locator('#run-status', { hasText: 'CANCELED' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('.live').innerText()).toBe('');
    const types = await rowTexts(page, 'table.history tbody tr td:nth-child(3)');
    expect(types).toContain(EventType.WorkflowExecutionCancelRequested);
    expect(types[types.length - 1]).toBe(EventType.WorkflowExecutionCanceled);
    const requested = page.locator('table.history tbody tr', { hasText: EventType.WorkflowExecutionCancelRequested }).locator('summary');
    expect(await requested.innerText()).toMatch(/^reason="customer changed their mind" identity=/);
    expect(await page.locator('.actions button:text-is("Cancel")').isDisabled()).toBe(true);
    await page.screenshot({ path: screenshotPath('07-cancelled-run'), fullPage: true });
    expect((await env.client.getWorkflowHandle('order-4').describe()).status).toBe(WorkflowExecutionStatus.CANCELED);
  });

  it('lists schedules (spec, next run, state, recent actions) and shows one', async () => {
    const nightly = await env.client.createSchedule('nightly-orders', {
      action: { workflow: UiOrder, args: [{ id: 'o-9', amount: 9 }], id: 'nightly-order', taskQueue: 'ui-orders' },
      spec: { cronExpressions: ['0 2 * * *'] },
    });
    await nightly.trigger();
    const workflowId = (await nightly.describe()).info.recentActions[0]!.action.workflow.workflowId;
    await env.client.getWorkflowHandle(workflowId).result();
    await env.client.createSchedule('hourly-report', {
      action: { workflow: UiOrder, args: [{ id: 'o-10', amount: 10 }], id: 'report', taskQueue: 'ui-orders' },
      spec: { intervals: [{ every: '1h', offset: '15m' }] },
      state: { paused: true, note: 'quiet week' },
    });

    await page.goto(`${ui.url}namespaces/${env.namespace}/workflows`);
    await page.click('#nav-schedules');
    await page.locator('h1', { hasText: 'Schedules' }).waitFor();
    await page.locator('table.schedules').waitFor();
    expect(await rowTexts(page, 'table.schedules tbody td:nth-child(1)')).toEqual(['hourly-report', 'nightly-orders']);
    expect(await rowTexts(page, 'table.schedules tbody td:nth-child(3)')).toEqual(['every 3600s offset 900s', '0 2 * * *']);
    const nextRuns = await rowTexts(page, 'table.schedules tbody td:nth-child(4)');
    expect(nextRuns[0]).toBe('—');
    expect(nextRuns[1]).toMatch(/^\d{4}-\d\d-\d\d 02:00:00 UTC$/);
    expect(await rowTexts(page, 'table.schedules tbody td:nth-child(5)')).toEqual(['paused', 'active']);
    const recent = await rowTexts(page, 'table.schedules tbody td:nth-child(6)');
    expect(recent[0]).toBe('none yet');
    expect(recent[1]).toBe(`COMPLETED ${workflowId}`);
    await page.screenshot({ path: screenshotPath('10-schedules'), fullPage: true });

    await page.click('table.schedules a:text-is("nightly-orders")');
    await page.locator('h1', { hasText: 'Schedule nightly-orders' }).waitFor();
    const facts = await page.locator('#schedule dl').innerText();
    expect(facts).toContain('UiOrder');
    expect(facts).toContain('nightly-order-<scheduled time>');
    expect(facts).toContain('SKIP');
    expect(await page.locator('#next-runs li').count()).toBe(10);
    expect(await rowTexts(page, '#recent-actions tbody td:nth-child(2)')).toEqual([workflowId]);
    await page.screenshot({ path: screenshotPath('11-schedule'), fullPage: true });

    // Pause with a note, then trigger: the page shows both after its refresh.
    await page.click('.actions button:text-is("Pause")');
    await page.fill('.action-panel input[name=note]', 'maintenance window');
    await page.click('.action-panel button:text-is("Pause schedule")');
    await page.locator('.action-result', { hasText: 'Paused.' }).waitFor();
    await page.locator('h1 .badge', { hasText: 'paused' }).waitFor();
    expect(await page.locator('#schedule dl').innerText()).toContain('maintenance window');
    expect((await env.client.getScheduleHandle('nightly-orders').describe()).state).toEqual({ paused: true, note: 'maintenance window' });
    await page.click('.actions button:text-is("Trigger now")');
    await page.locator('.action-result', { hasText: 'Triggered' }).waitFor();
    await until('two recent actions', () => rowTexts(page, '#recent-actions tbody td:nth-child(2)'), (ids) => ids.length === 2);
    await page.screenshot({ path: screenshotPath('12-schedule-paused-triggered'), fullPage: true });
    await page.click(`#recent-actions a:text-is("${workflowId}")`);
    await page.waitForURL((url) => url.pathname.startsWith(`/namespaces/${env.namespace}/workflows/${encodeURIComponent(workflowId)}/`));
  });
});

describe('durabull ui with encrypted payloads', () => {
  const KEY = Buffer.alloc(32, 7).toString('base64');
  const codec = new AesGcmEncryptionCodec({ keys: { k1: KEY }, encryptWith: 'k1' });
  let env: TestEnvironment;
  let client: Client;
  let worker: Worker;
  let codecServer: Server;
  let codecUrl: string;
  const codecCalls: string[] = [];

  beforeAll(async () => {
    env = await TestEnvironment.create();
    client = await env.newClient({ dataConverter: { payloadCodecs: [codec] } });
    worker = new Worker(client, { taskQueue: 'ui-secret', workflows: [UiOrder, UiDeclined], activities: [new UiActivities()] });
    void worker.run();
    await client.executeWorkflow(UiOrder, { id: 'secret-1', amount: 5 }, { id: 'secret-order', taskQueue: 'ui-secret' });
    await expect(client.executeWorkflow(UiDeclined, { id: 'secret-2', amount: 6 }, { id: 'secret-declined', taskQueue: 'ui-secret' })).rejects.toThrow(
      'Workflow execution failed',
    );
    // A codec server as a user would run one: POST /decode with {"payloads": [...]}.
    codecServer = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        codecCalls.push(`${request.method} ${request.url} ${request.headers['x-namespace']}`);
        const { payloads } = JSON.parse(body) as { payloads: Payload[] };
        const operation = request.url === '/codec/decode' ? codec.decode(payloads) : codec.encode(payloads);
        void operation.then((result) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ payloads: result }));
        });
      });
    });
    await new Promise<void>((resolve) => codecServer.listen(0, '127.0.0.1', resolve));
    codecUrl = `http://127.0.0.1:${(codecServer.address() as { port: number }).port}/codec`;
  });

  afterAll(async () => {
    await worker?.shutdown();
    await new Promise((resolve) => codecServer?.close(resolve));
    await env?.teardown();
  });

  it('shows payloads as encrypted without the codec, and decoded through --codec-endpoint', async () => {
    const { browser: context, close } = await launchBrowser();
    const page = await context.newPage();
    const plain = await startRunningUi(['ui', '--redis', REDIS, '--namespace', env.namespace, '--port', '0']);
    try {
      await page.goto(`${plain.url}namespaces/${env.namespace}/workflows/secret-order`);
      await page.locator('#result').waitFor();
      expect(await page.locator('#result').innerText()).toBe(
        'Result\nEncrypted (binary/encrypted, AES-256-GCM, key k1) — start the UI with --codec-endpoint to decode it',
      );
      expect(await page.locator('#input').innerText()).toContain('Encrypted (binary/encrypted, AES-256-GCM, key k1)');
      expect(await page.locator('.warning-box').count()).toBe(0);
      await page.screenshot({ path: screenshotPath('08-encrypted-without-codec'), fullPage: true });
      await page.goto(`${plain.url}namespaces/${env.namespace}/workflows/secret-declined`);
      await page.locator('#failure').waitFor();
      expect((await rowTexts(page, '#failure ol.cause-chain > li')).map((item) => item.split('\n')[0])).toEqual([
        'ActivityError: Encrypted (binary/encrypted, AES-256-GCM, key k1) — start the UI with --codec-endpoint to decode it — activity ui-decline (id 1), retry state NON_RETRYABLE_FAILURE',
        'caused by PaymentDeclined: Encrypted (binary/encrypted, AES-256-GCM, key k1) — start the UI with --codec-endpoint to decode it — non-retryable',
        'caused by RangeError: Encrypted (binary/encrypted, AES-256-GCM, key k1) — start the UI with --codec-endpoint to decode it',
      ]);
    } finally {
      expect(await plain.stop()).toBe(0);
    }

    const decoding = await startRunningUi(['ui', '--redis', REDIS, '--namespace', env.namespace, '--port', '0', '--codec-endpoint', codecUrl]);
    try {
      await page.goto(`${decoding.url}namespaces/${env.namespace}/workflows/secret-order`);
      await page.locator('#result').waitFor();
      expect(await page.locator('#result pre').innerText()).toBe('"charged secret-1 5 EUR"');
      expect(JSON.parse(await page.locator('#input pre').innerText())).toEqual([{ id: 'secret-1', amount: 5 }]);
      expect(await page.locator('.warning-box').count()).toBe(0);
      expect(await page.locator('#mode').innerText()).toBe('codec');
      await page.screenshot({ path: screenshotPath('09-decoded-with-codec'), fullPage: true });
      await page.goto(`${decoding.url}namespaces/${env.namespace}/workflows/secret-declined`);
      await page.locator('#failure').waitFor();
      expect((await rowTexts(page, '#failure ol.cause-chain > li')).map((item) => item.split('\n')[0])).toEqual([
        'ActivityError: Activity task failed — activity ui-decline (id 1), retry state NON_RETRYABLE_FAILURE',
        'caused by PaymentDeclined: card declined for secret-2 — non-retryable',
        'caused by RangeError: issuer limit reached',
      ]);
      expect(codecCalls.length).toBeGreaterThan(0);
      expect(new Set(codecCalls)).toEqual(new Set([`POST /codec/decode ${env.namespace}`]));
    } finally {
      expect(await decoding.stop()).toBe(0);
      await close();
    }
  });
});
