// The web UI's security rules, over HTTP: where it may listen without a token, the token on every
// request (and never in its output), cross-site actions refused, read-only mode, loopback Host
// names only without a token, and no namespace created by looking at one.
import { request } from 'node:http';
import { WorkflowDefn, WorkflowExecutionStatus, WorkflowRun, workflow } from '@durabull/sdk';
import { TestEnvironment } from '@durabull/testing';
import { REDIS, launchBrowser, screenshotPath, startRunningUi, startUi } from './support';

@WorkflowDefn({ name: 'UiSecuritySleep' })
class UiSecuritySleep {
  @WorkflowRun()
  async run(): Promise<string> {
    await workflow.sleep('1h');
    return 'woke';
  }
}

const TOKEN = 'correct-horse-battery-staple-42';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with exactly the headers given (Host included), as a browser or a script sends it. */
function http(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = request(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: options.method ?? 'GET', headers: options.headers ?? {} },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const json = (answer: Answer) => JSON.parse(answer.body) as Record<string, unknown>;

describe('durabull ui security', () => {
  let env: TestEnvironment;
  let runId: string;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    env.newWorker({ taskQueue: 'ui-security', workflows: [UiSecuritySleep] }).run().catch(() => undefined);
    const handle = await env.client.startWorkflow(UiSecuritySleep, { id: 'sleeper', taskQueue: 'ui-security' });
    runId = handle.runId!;
    // Its first workflow task done: the timer started (5 events).
    for (let i = 0; (await handle.fetchHistory()).length < 5; i++) {
      if (i > 200) throw new Error('the sleeper never started its timer');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  });

  afterAll(async () => {
    await env?.teardown();
  });

  const ui = (...more: string[]) => ['ui', '--redis', REDIS, '--namespace', env.namespace, '--port', '0', ...more];
  const cancelPath = () => `api/namespaces/${env.namespace}/workflows/sleeper/runs/${runId}/cancel`;

  it('refuses to listen on a non-loopback address without a token (unless read-only)', async () => {
    const refused = await startUi(ui('--ip', '0.0.0.0'));
    expect(refused).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: listening on 0.0.0.0, which is not a loopback address, needs an access token (--token or DURABULL_UI_TOKEN) or --read-only\n',
    });
    expect(await startUi(ui('--host', '::'))).toMatchObject({ code: 2 });
    expect(await startUi(ui('--ip', '0.0.0.0', '--token', 'short'))).toEqual({
      code: 2,
      stdout: '',
      stderr: 'durabull: the access token (--token or DURABULL_UI_TOKEN) must be at least 16 characters long\n',
    });
    expect(await startUi(ui('--ip', '10.0.0.1', '--host', '10.0.0.2'))).toEqual({ code: 2, stdout: '', stderr: 'durabull: give --ip or --host, not both\n' });
    expect(await startUi(['ui', '--redis', REDIS, '--port', '70000'])).toMatchObject({ code: 2, stderr: 'durabull: --port must be an integer from 0 to 65535 (0 picks a free port), got "70000"\n' });
    expect(await startUi(ui('--codec-endpoint', 'ftp://codec'))).toMatchObject({
      code: 2,
      stderr: 'durabull: --codec-endpoint must be an http:// or https:// URL, got "ftp://codec"\n',
    });

    const readOnly = await startRunningUi(ui('--ip', '0.0.0.0', '--read-only'));
    try {
      expect(readOnly.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(json(await http(`${readOnly.url}api/config`, { headers: { Host: 'ui.example.com' } }))).toMatchObject({ readOnly: true });
    } finally {
      expect(await readOnly.stop()).toBe(0);
    }
  });

  it('requires the token on every request, from --token or DURABULL_UI_TOKEN, and never prints it', async () => {
    for (const [argv, environment] of [
      [ui('--ip', '0.0.0.0', '--token', TOKEN), {}],
      [ui('--ip', '0.0.0.0'), { DURABULL_UI_TOKEN: TOKEN }],
    ] as const) {
      const running = await startRunningUi([...argv], environment);
      try {
        const url = running.url;
        const denied = await http(`${url}api/config`);
        expect(denied.status).toBe(401);
        expect(json(denied)).toEqual({ error: 'access token required: log in at /login or send Authorization: Bearer <token>' });
        expect((await http(`${url}api/config`, { headers: { Authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
        expect((await http(`${url}api/config`, { headers: { Authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
        const page = await http(`${url}namespaces/${env.namespace}/workflows`);
        expect(page.status).toBe(303);
        expect(page.headers.location).toBe(`/login?next=${encodeURIComponent(`/namespaces/${env.namespace}/workflows`)}`);

        const wrong = await http(`${url}login?next=%2F`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: 'token=guess-guess-guess-guess',
        });
        expect(wrong.status).toBe(401);
        expect(wrong.body).toContain('That is not the access token.');
        const right = await http(`${url}login?next=%2Fapi%2Fconfig`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body: `token=${TOKEN}`,
        });
        expect(right.status).toBe(303);
        expect(right.headers.location).toBe('/api/config');
        const cookie = String(right.headers['set-cookie']).split(';')[0]!;
        expect(cookie).not.toContain(TOKEN);
        expect(String(right.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Strict; Path=\/$/);
        expect((await http(`${url}api/config`, { headers: { Cookie: cookie } })).status).toBe(200);
        expect((await http(`${url}api/config`, { headers: { Cookie: 'durabull_ui_session=forged' } })).status).toBe(401);
        expect(running.stderr()).not.toContain(TOKEN);
        expect(running.stderr()).toContain('access token required');
      } finally {
        expect(await running.stop()).toBe(0);
      }
    }
  });

  it('logs in through the browser and shows the page', async () => {
    const running = await startRunningUi(ui('--token', TOKEN));
    const { browser, close } = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${running.url}namespaces/${env.namespace}/workflows`);
      expect(new URL(page.url()).pathname).toBe('/login');
      await page.fill('input[name=token]', 'not the token, sorry');
      await page.click('button[type=submit]');
      await page.locator('p.error', { hasText: 'That is not the access token.' }).waitFor();
      await page.fill('input[name=token]', TOKEN);
      await page.click('button[type=submit]');
      await page.locator('table.runs').waitFor();
      expect(new URL(page.url()).pathname).toBe(`/namespaces/${env.namespace}/workflows`);
      expect(await page.locator('table.runs tbody tr td:nth-child(2)').allInnerTexts()).toEqual(['sleeper']);
      await page.screenshot({ path: screenshotPath('10-after-login'), fullPage: true });
    } finally {
      await close();
      expect(await running.stop()).toBe(0);
    }
  });

  it('refuses cross-site actions and foreign Host names', async () => {
    const running = await startRunningUi(ui());
    try {
      const url = running.url;
      const host = new URL(url).host;
      const config = json(await http(`${url}api/config`, { headers: { Host: host } }));
      const csrf = String(config['csrfToken']);
      const post = (headers: Record<string, string>) =>
        http(`${url}${cancelPath()}`, { method: 'POST', headers: { Host: host, 'Content-Type': 'application/json', ...headers }, body: '{}' });

      // DNS rebinding: another site's name pointed at 127.0.0.1.
      const rebound = await http(`${url}api/config`, { headers: { Host: `evil.example:${new URL(url).port}` } });
      expect(rebound.status).toBe(403);
      expect(json(rebound)).toEqual({ error: `unexpected Host header "evil.example:${new URL(url).port}": this UI answers on loopback names only` });

      expect(json(await post({}))).toEqual({ error: 'cross-site request refused (missing or wrong x-durabull-csrf header)' });
      expect(json(await post({ 'X-Durabull-Csrf': 'guessed' }))).toEqual({ error: 'cross-site request refused (missing or wrong x-durabull-csrf header)' });
      const foreign = await post({ 'X-Durabull-Csrf': csrf, Origin: 'http://evil.example' });
      expect(foreign.status).toBe(403);
      expect(json(foreign)).toEqual({ error: 'cross-site request refused (Origin http://evil.example)' });
      expect(json(await post({ 'X-Durabull-Csrf': csrf, 'Sec-Fetch-Site': 'cross-site' }))).toEqual({ error: 'cross-site request refused (Sec-Fetch-Site: cross-site)' });
      expect(json(await http(`${url}${cancelPath()}`, { method: 'POST', headers: { Host: host, 'X-Durabull-Csrf': csrf, 'Content-Type': 'text/plain' }, body: '{}' }))).toEqual({
        error: 'actions take a JSON body (Content-Type: application/json)',
      });
      expect((await env.client.getWorkflowHandle('sleeper').describe()).status).toBe(WorkflowExecutionStatus.RUNNING);
      expect(await env.client.getWorkflowHandle('sleeper').fetchHistory()).toHaveLength(5);

      // A page of another site cannot even send it: the browser refuses to read the CSRF token.
      const { browser, close } = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(`${url}assets/style.css`);
        const other = `http://localhost:${new URL(url).port}`;
        const attempt = await page.evaluate(async (target) => {
          try {
            const response = await fetch(`${target}/api/config`);
            return `read ${response.status}`;
          } catch (error) {
            return `refused: ${(error as Error).name}`;
          }
        }, other);
        expect(attempt).toBe('refused: TypeError');
      } finally {
        await close();
      }

      const done = await post({ 'X-Durabull-Csrf': csrf, Origin: `http://${host}`, 'Sec-Fetch-Site': 'same-origin' });
      expect([done.status, json(done)]).toEqual([200, { cancelRequested: true }]);
      // Its effect, awaited here so that the next test finds the run's history settled.
      await expect(env.client.getWorkflowHandle('sleeper').result()).rejects.toMatchObject({ cause: { name: 'CancelledError' } });
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });

  it('refuses every action in read-only mode, and shows none', async () => {
    const running = await startRunningUi(ui('--read-only'));
    const before = (await env.client.getWorkflowHandle('sleeper').fetchHistory()).length;
    try {
      const host = new URL(running.url).host;
      const config = json(await http(`${running.url}api/config`, { headers: { Host: host } }));
      expect(config).toMatchObject({ readOnly: true, namespace: env.namespace, codec: false });
      for (const action of ['cancel', 'terminate', 'signal', 'delete']) {
        const refused = await http(`${running.url}${cancelPath().replace(/cancel$/, action)}`, {
          method: 'POST',
          headers: { Host: host, 'Content-Type': 'application/json', 'X-Durabull-Csrf': String(config['csrfToken']) },
          body: '{"name":"x"}',
        });
        expect([refused.status, json(refused)]).toEqual([403, { error: 'the web UI is read-only (started with --read-only): actions are refused' }]);
      }
      const { browser, close } = await launchBrowser();
      try {
        const page = await browser.newPage();
        await page.goto(`${running.url}namespaces/${env.namespace}/workflows/sleeper/${runId}`);
        await page.locator('#history').waitFor();
        expect(await page.locator('.actions button').count()).toBe(0);
        expect(await page.locator('p', { hasText: 'Read-only: no actions.' }).count()).toBe(1);
        expect(await page.locator('#mode').innerText()).toBe('read-only');
        await page.screenshot({ path: screenshotPath('11-read-only'), fullPage: true });
      } finally {
        await close();
      }
      expect(await env.client.getWorkflowHandle('sleeper').fetchHistory()).toHaveLength(before);
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });

  it('signals, terminates and deletes a run through the API', async () => {
    const running = await startRunningUi(ui());
    try {
      const host = new URL(running.url).host;
      const csrf = String(json(await http(`${running.url}api/config`, { headers: { Host: host } }))['csrfToken']);
      const { runId: other } = await env.client.startWorkflow(UiSecuritySleep, { id: 'other-sleeper', taskQueue: 'ui-security' });
      const act = (action: string, body: unknown) =>
        http(`${running.url}api/namespaces/${env.namespace}/workflows/other-sleeper/runs/${other}/${action}`, {
          method: 'POST',
          headers: { Host: host, 'Content-Type': 'application/json', 'X-Durabull-Csrf': csrf },
          body: JSON.stringify(body),
        }).then((answer) => [answer.status, json(answer)]);
      expect(await act('signal', { args: [] })).toEqual([400, { error: 'name must be the signal name (a non-empty string)' }]);
      expect(await act('signal', { name: 'poke', args: 'no' })).toEqual([400, { error: 'args must be a JSON array, got "no"' }]);
      expect(await act('signal', { name: 'poke', args: [1, { two: 2 }] })).toEqual([200, { signalled: true }]);
      expect(await act('terminate', { reason: 'enough' })).toEqual([200, { terminated: true }]);
      expect(await act('cancel', {})).toEqual([409, { error: `workflow "other-sleeper" (run ${other}) is not running: it has already closed` }]);
      const history = await env.client.getWorkflowHandle('other-sleeper', other).fetchHistory();
      const signaled = history.find((event) => event.eventType === 'WorkflowExecutionSignaled');
      expect(signaled?.attributes).toMatchObject({ signalName: 'poke', input: [{ metadata: { encoding: 'json/plain' }, data: 1 }, { metadata: { encoding: 'json/plain' }, data: { two: 2 } }] });
      expect(history[history.length - 1]).toMatchObject({ eventType: 'WorkflowExecutionTerminated', attributes: { reason: 'enough' } });
      expect(await act('delete', {})).toEqual([200, { deleted: true }]);
      const gone = await http(`${running.url}api/namespaces/${env.namespace}/workflows/other-sleeper/runs/${other}`, { headers: { Host: host } });
      expect([gone.status, json(gone)]).toEqual([404, { error: `workflow "other-sleeper" run "${other}" not found in namespace "${env.namespace}"` }]);
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });

  it('durabull dev --ui serves the UI beside the Redis it found', async () => {
    const running = await startRunningUi(['dev', '--redis', REDIS, '--namespace', env.namespace, '--ui', '--ui-port', '0']);
    try {
      const host = new URL(running.url).host;
      expect(json(await http(`${running.url}api/config`, { headers: { Host: host } }))).toMatchObject({ namespace: env.namespace, readOnly: false });
      expect(running.stderr()).toContain('web UI on ');
    } finally {
      expect(await running.stop()).toBe(0);
    }
    expect(await startUi(['dev', '--redis', REDIS, '--ui-port', '0'])).toEqual({ code: 2, stdout: '', stderr: 'durabull: --ui-port goes with --ui\n' });
  });

  it('never creates a namespace by looking at it', async () => {
    const running = await startRunningUi(ui());
    const missing = `${env.namespace}-never`;
    try {
      const host = new URL(running.url).host;
      const list = await http(`${running.url}api/namespaces/${missing}/workflows`, { headers: { Host: host } });
      expect(json(list)).toEqual({ namespaceExists: false, count: 0, executions: [] });
      const run = await http(`${running.url}api/namespaces/${missing}/workflows/x/runs/y`, { headers: { Host: host } });
      expect([run.status, json(run)]).toEqual([404, { error: `namespace "${missing}" does not exist (no client or worker has opened it)` }]);
      const names = json(await http(`${running.url}api/namespaces`, { headers: { Host: host } }))['namespaces'] as string[];
      expect(names).toContain(env.namespace);
      expect(names).not.toContain(missing);
      expect(await env.client.redis.keys(`durabull:{${missing}}*`)).toEqual([]);
    } finally {
      expect(await running.stop()).toBe(0);
    }
  });
});
