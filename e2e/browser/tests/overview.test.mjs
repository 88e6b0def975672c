// The overview page: the fresh-install empty state, pool health, today's counters, the activity
// charts and rankings updating after client requests, and the operator notice shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot, http, CLIENT_KEY } from '../harness.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 0, name: 'overview' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

function chat(text) {
  return http('POST', `${stack.proxyUrl}/v1/messages`, {
    model: 'claude-sonnet-4.5',
    max_tokens: 64,
    messages: [{ role: 'user', content: text }],
  }, { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
}

/** The value shown on one of the "today" tiles. */
function statValue(page, id) {
  return page.locator(`[data-stat="${id}"] .stat-value`);
}

test('a fresh install shows a call to action; traffic then fills counters, charts and rankings', async () => {
  const page = await openConsole(browser, stack);
  await goTo(page, 'overview');

  // Fresh install: no accounts yet.
  const cta = page.getByRole('link', { name: /Add an account/ });
  await cta.waitFor();
  assert.equal(await cta.getAttribute('href'), '#/accounts');
  assert.equal(await statValue(page, 'requests').textContent(), '0');
  await page.getByRole('region', { name: 'Top models' }).getByText('No requests today.').waitFor();
  await shoot(page, 'overview-empty');

  // An account and some traffic, one request failing upstream.
  await stack.addAccount({ kind: 'social' }, 'Primary sim account');
  for (const text of ['hello', 'second question']) {
    const r = await chat(text);
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  await stack.sim.queue({ type: 'error', kind: 'improperly_formed', count: 1 });
  const failed = await chat('this one fails');
  assert.equal(failed.status, 400, JSON.stringify(failed.body));

  // The page polls every 10 s: the pool card replaces the call to action by itself.
  const pool = page.getByRole('region', { name: 'Pool health' });
  await pool.waitFor({ timeout: 15000 });
  assert.equal(await cta.count(), 0);
  await page.locator('[data-bucket="usable"] .stat-value').filter({ hasText: /^1$/ }).waitFor();

  // Stats are written off the request path; refresh until all three requests are counted.
  const refresh = page.getByRole('button', { name: /Refresh/ });
  const counted = async (n) => {
    for (let i = 0; i < 20; i += 1) {
      await refresh.click();
      await page.waitForFunction(() => !document.querySelector('.topbar button[disabled]'));
      if ((await statValue(page, 'requests').textContent()) === String(n)) return;
      await page.waitForTimeout(250);
    }
    assert.fail(`requests today never reached ${n}: ${await statValue(page, 'requests').textContent()}`);
  };
  await counted(3);
  const tokensBefore = await statValue(page, 'tokens').textContent();
  assert.notEqual(tokensBefore, '0');
  const errorRate = await statValue(page, 'errors').textContent();
  assert.match(errorRate, /%/);
  assert.notEqual(errorRate, '0.0 %', 'the failed request counts');

  // The 24-hour chart has a non-zero bar; the rankings name the model and the account.
  const requestsChart = page.getByRole('img', { name: /Requests per hour/ });
  assert.ok(await requestsChart.locator('rect.series-0').count() > 0, 'a bar for the succeeded requests');
  await page.getByRole('region', { name: 'Top models' }).getByRole('link', { name: 'claude-sonnet-4.5' }).waitFor();
  await page.getByRole('region', { name: 'Top accounts' }).getByRole('link', { name: 'Primary sim account' }).waitFor();

  // More traffic changes the counters.
  for (const text of ['third', 'fourth']) assert.equal((await chat(text)).status, 200);
  await counted(5);
  assert.notEqual(await statValue(page, 'tokens').textContent(), tokensBefore);

  // The 30-day view has today's bar too.
  await page.getByRole('tab', { name: 'Last 30 days' }).click();
  const daysChart = page.getByRole('img', { name: /Requests per day/ });
  await daysChart.waitFor();
  assert.ok(await daysChart.locator('rect.series-0').count() > 0, 'a bar for today');
  await page.getByRole('tab', { name: 'Last 24 hours' }).click();

  // The operator notice is shown, as text.
  await stack.admin('PUT', '/api/settings', { notice: { enabled: true, markdown: 'Maintenance tonight <b>22:00</b> <img src=x onerror="window.__xss=3">' } });
  // An account cooling down after a throttle moves to "Cooling down".
  await stack.sim.queue({ type: 'error', kind: 'throttling', count: 10 });
  await chat('throttled');
  await refresh.click();
  const notice = page.getByRole('region', { name: 'Operator notice' });
  await notice.getByText('Maintenance tonight <b>22:00</b>', { exact: false }).waitFor();
  await page.locator('[data-bucket="cooling"] .stat-value').filter({ hasText: /^1$/ }).waitFor();
  await pool.getByText('Primary sim account').waitFor();
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('.content img').count(), 0);

  await shoot(page, 'overview');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.getByRole('button', { name: 'Theme' }).click(); // auto → light
  await page.getByRole('button', { name: 'Theme' }).click(); // light → dark
  await shoot(page, 'overview-dark');

  // A ranking links to the request log, filtered.
  await page.getByRole('region', { name: 'Top models' }).getByRole('link', { name: 'claude-sonnet-4.5' }).click();
  await page.locator('.page[data-page="requests"]').waitFor();
  assert.match(page.url(), /#\/requests\?model=claude-sonnet-4\.5&range=today/);
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
