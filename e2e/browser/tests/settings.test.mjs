// The settings page: each card saves on its own; a value the server refuses shows the server's
// message under the field it names; saved values survive a reload (and reach the API).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot } from '../harness.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 0, name: 'settings' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const card = (page, name) => page.getByRole('region', { name });

/** Clicks the card's Save and waits for its outcome (`Saved` or `Not saved`). */
async function save(page, name, outcome = /Saved at/) {
  const c = card(page, name);
  await c.getByRole('button', { name: 'Save', exact: true }).click();
  await c.getByRole('status').filter({ hasText: outcome }).waitFor();
}

test('settings: refusals shown at the field, values persisted across a reload', async () => {
  const page = await openConsole(browser, stack);
  await goTo(page, 'settings');
  const traffic = card(page, 'Traffic controls');
  const ip = traffic.getByLabel('Requests per minute per client IP');

  // A bad value: the server's 400 message appears under the field, which is marked invalid.
  await ip.fill('0');
  await traffic.getByRole('status').filter({ hasText: 'Unsaved changes' }).waitFor();
  await save(page, 'Traffic controls', 'Not saved');
  await traffic.locator('.field', { hasText: 'Requests per minute per client IP' })
    .getByText('`ipRateLimitPerMinute` must be at least 1, or null for no limit').waitFor();
  assert.equal(await ip.getAttribute('aria-invalid'), 'true');
  await traffic.getByLabel('Blocked IPs').fill('203.0.113.7\nnot-an-address');
  await ip.fill('120');
  await save(page, 'Traffic controls', 'Not saved');
  await traffic.locator('.field', { hasText: 'Blocked IPs' }).getByText('is not an IP address or CIDR range').waitFor();
  assert.equal(await ip.getAttribute('aria-invalid'), null, 'the earlier error is cleared');
  await traffic.getByLabel('Blocked IPs').fill('203.0.113.7\n198.51.100.0/24');
  await save(page, 'Traffic controls');

  // Thinking format: <think> tags.
  const thinking = card(page, 'Thinking for OpenAI clients');
  await thinking.getByRole('radio', { name: '<think> tags' }).check();
  await save(page, 'Thinking for OpenAI clients');

  // Notice: enabling it without a text is refused at the text; then a text, previewed as text.
  const notice = card(page, 'Operator notice');
  await notice.getByLabel('Show the notice').check();
  await save(page, 'Operator notice', 'Not saved');
  await notice.locator('.field', { hasText: 'Message (Markdown)' }).getByText('must be set when the notice is enabled').waitFor();
  await notice.getByLabel('Message (Markdown)').fill('Keys rotate on **Monday**: <b>ask</b> the platform team.');
  await notice.getByLabel('Preview').getByText('<b>ask</b>', { exact: false }).waitFor();
  await save(page, 'Operator notice');

  // Pool: a threshold out of range names `pool.circuitFailures`, then a good one.
  const pool = card(page, 'Pool thresholds');
  const failures = pool.getByLabel('Failures that open the circuit');
  await failures.fill('0');
  await save(page, 'Pool thresholds', 'Not saved');
  await pool.locator('.field', { hasText: 'Failures that open the circuit' }).getByText('`pool.circuitFailures` must be a whole number').waitFor();
  await failures.fill('7');
  await save(page, 'Pool thresholds');

  // Body capture cap below the minimum; log level; retention.
  const capture = card(page, 'Body capture');
  await capture.getByLabel('Cap per body (bytes)').fill('100');
  await save(page, 'Body capture', 'Not saved');
  await capture.getByText('`bodyCapture.maxBytes` must be a whole number from 256').waitFor();
  await capture.getByLabel('Cap per body (bytes)').fill('4096');
  await save(page, 'Body capture');
  const log = card(page, 'Log level');
  await log.getByLabel('Filter').fill('nope');
  await save(page, 'Log level', 'Not saved');
  await log.getByText('the level must be one of').waitFor();
  await log.getByLabel('Filter').fill('debug');
  await save(page, 'Log level');
  await card(page, 'Retention').getByLabel('Detail retention (days)').fill('14');
  await save(page, 'Retention');

  // Reload: everything is as saved.
  await page.reload();
  await page.locator('.page[data-page="settings"] [data-section="pool"]').waitFor();
  assert.equal(await card(page, 'Traffic controls').getByLabel('Requests per minute per client IP').inputValue(), '120');
  assert.equal(await card(page, 'Traffic controls').getByLabel('Blocked IPs').inputValue(), '203.0.113.7\n198.51.100.0/24');
  assert.ok(await card(page, 'Thinking for OpenAI clients').getByRole('radio', { name: '<think> tags' }).isChecked());
  assert.ok(await card(page, 'Operator notice').getByLabel('Show the notice').isChecked());
  assert.equal(await card(page, 'Pool thresholds').getByLabel('Failures that open the circuit').inputValue(), '7');
  assert.equal(await card(page, 'Body capture').getByLabel('Cap per body (bytes)').inputValue(), '4096');
  assert.equal(await card(page, 'Log level').getByLabel('Filter').inputValue(), 'debug');
  assert.equal(await card(page, 'Retention').getByLabel('Detail retention (days)').inputValue(), '14');

  const s = await stack.admin('GET', '/api/settings');
  assert.equal(s.thinkingFormat, 'think');
  assert.equal(s.pool.circuitFailures, 7);
  assert.equal(s.notice.enabled, true);
  assert.equal((await stack.admin('GET', '/api/traffic')).ipRateLimitPerMinute, 120);
  await shoot(page, 'settings');

  // Pool reset: back to the configured values.
  await card(page, 'Pool thresholds').getByRole('button', { name: 'Reset all to configured' }).click();
  await page.getByRole('dialog', { name: 'Reset the pool thresholds?' }).getByRole('button', { name: 'Reset' }).click();
  await card(page, 'Pool thresholds').getByText('Back to the configured values').waitFor();
  assert.equal((await stack.admin('GET', '/api/settings')).pool.circuitFailures, 5);

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
