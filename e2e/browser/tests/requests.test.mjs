// The request log: client requests appear, the filters work and are kept in the fragment, paging
// with "Load more", the detail dialog with every field and the captured bodies, and an upstream
// error text carrying markup shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot, http, CLIENT_KEY } from '../harness.mjs';

const XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';

let stack;
let browser;
const ids = {};

function chat(text) {
  return http('POST', `${stack.proxyUrl}/v1/messages`, {
    model: 'claude-sonnet-4.5',
    max_tokens: 64,
    messages: [{ role: 'user', content: text }],
  }, { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
}

before(async () => {
  // Body capture on, so the detail shows the bodies (and the hostile error text in them).
  stack = await startStack({ accounts: 1, name: 'requests', proxyEnv: { KIRO_CAPTURE_BODIES: '1' } });
  browser = await launchBrowser();
  for (const text of ['first question', 'second question']) {
    const r = await chat(text);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  // The upstream refuses one request with markup in its message.
  await stack.sim.queue({ type: 'http', status: 400, body: JSON.stringify({ __type: 'ValidationException', message: `bad request ${XSS}` }) });
  const bad = await chat('this one is refused');
  assert.equal(bad.status, 400);
  assert.ok(bad.body.error.message.includes('<script>'), 'the client sees the upstream text');
  ids.refused = bad.body.request_id;
  // And one is rate limited (last: it puts the only account in cooldown).
  await stack.sim.queue({ type: 'error', kind: 'throttling', count: 10 });
  const limited = await chat('this one is throttled');
  assert.equal(limited.status, 429);
  ids.limited = limited.body.request_id;
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const rows = (page) => page.locator('.page[data-page="requests"] tbody tr.clickable');

test('requests appear in the log; filters, paging and the shared fragment work', async () => {
  const page = await openConsole(browser, stack);
  await goTo(page, 'requests');
  // Stats are written off the request path: auto-refresh (on by default) brings all four in.
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 4, null, { timeout: 10000 });
  const first = rows(page).first();
  assert.match(await first.textContent(), /429/);
  assert.match(await first.textContent(), /claude-sonnet-4\.5/);
  assert.match(await first.textContent(), /throttled/);
  assert.match(await first.textContent(), /127\.0\.0\.1/);
  assert.match(await rows(page).nth(3).textContent(), /end_turn/);
  await shoot(page, 'requests');

  // Status filter: failed requests only; the fragment follows.
  await page.getByLabel('Status').selectOption('error');
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 2);
  assert.match(page.url(), /#\/requests\?status=error$/);
  await page.getByLabel('Status').selectOption('429');
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 1);
  assert.match(await rows(page).first().textContent(), /429/);
  await page.getByLabel('Status').selectOption('ok');
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 2);
  for (const text of await rows(page).allTextContents()) assert.match(text, /200/);

  // A model that never ran: the empty state says so.
  await page.getByLabel('Model').fill('claude-haiku-4.5');
  await page.getByLabel('Model').press('Enter');
  await page.getByText('No request matches these filters.').waitFor();
  assert.match(page.url(), /model=claude-haiku-4\.5/);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 4);
  assert.match(page.url(), /#\/requests$/);

  // A shared link opens with its filters applied and shown, and pages with "Load more".
  await page.evaluate(() => { location.hash = '#/requests?model=claude-sonnet-4.5&range=24h&limit=1'; });
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 1);
  assert.equal(await page.getByLabel('Model').inputValue(), 'claude-sonnet-4.5');
  assert.equal(await page.getByLabel('Time').inputValue(), '24h');
  const more = page.getByRole('button', { name: 'Load more' });
  for (let n = 2; n <= 4; n += 1) {
    await more.click();
    await page.waitForFunction((k) => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === k, n);
  }
  await more.waitFor({ state: 'hidden' });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('the detail dialog shows every field and the bodies; upstream markup stays text', async () => {
  const page = await openConsole(browser, stack);
  await page.evaluate(() => { location.hash = '#/requests?status=4xx'; });
  await page.locator('.page[data-page="requests"]').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('.page[data-page="requests"] tbody tr.clickable').length === 2, null, { timeout: 10000 });
  assert.equal(await page.getByLabel('Status').inputValue(), '4xx');

  // The refused request (status 400).
  await rows(page).filter({ hasText: 'improperly_formed' }).click();
  const dlg = page.getByRole('dialog', { name: 'Request details' });
  await dlg.locator('code.rq-id', { hasText: ids.refused }).waitFor();
  for (const label of ['Request id', 'Time', 'Key', 'Client IP', 'Dialect', 'Streaming', 'Model asked', 'Model used', 'Account',
    'Attempts', 'Status', 'Stop reason', 'Error class', 'Client disconnected', 'Input tokens', 'Output tokens', 'Cache read',
    'Cache write', 'Credits', 'Latency', 'Time to first token', 'Upstream time']) {
    await dlg.locator('dt', { hasText: new RegExp(`^${label}$`) }).waitFor();
  }
  await dlg.locator('dd', { hasText: /^anthropic$/ }).waitFor();
  await dlg.locator('dd', { hasText: /^improperly_formed$/ }).waitFor();
  // The message the client got is in the log itself (no capture needed), as literal text.
  const message = await dlg.locator('.rq-error-message').textContent();
  assert.ok(message.includes(XSS), `the error message is shown verbatim: ${message}`);
  // The captured bodies, with the upstream's markup as literal text.
  await dlg.getByLabel('Request body').getByText('this one is refused').waitFor();
  const response = dlg.getByLabel('Response body');
  assert.ok((await response.textContent()).includes(XSS.replace(/"/g, '\\"')), 'the error text is shown verbatim');
  assert.equal(await dlg.locator('script, img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await shoot(page, 'request-detail');
  await dlg.getByRole('button', { name: 'Close' }).first().click();
  await dlg.waitFor({ state: 'hidden' });

  // The rate-limited one.
  await rows(page).filter({ hasText: '429' }).click();
  await dlg.locator('code.rq-id', { hasText: ids.limited }).waitFor();
  await dlg.locator('dd', { hasText: /^throttled$/ }).waitFor();
  await page.keyboard.press('Escape');
  await dlg.waitFor({ state: 'hidden' });

  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
