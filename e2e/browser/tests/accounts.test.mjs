// The accounts page: cards, device login against the simulator, cooldown, enable/disable,
// reset, delete, import by paste, and hostile text (a label, an upstream error) shown as text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot, http, CLIENT_KEY } from '../harness.mjs';

const XSS_LABEL = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
const XSS_ERROR = '<img src=x onerror="window.__xss=3"><b>Slow down</b> & retry';

let stack;
let browser;
let page;

const card = (name) => page.getByRole('article', { name, exact: true });
// Toasts of earlier steps would cover the screenshots.
const clearToasts = () => page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));

before(async () => {
  stack = await startStack({ accounts: 2, name: 'accounts' });
  await stack.addAccount({ kind: 'social', tier: 'free' }, XSS_LABEL);
  // Device logins wait for the test's approval instead of approving themselves.
  await stack.sim.patch('/_sim/settings', { device_auto_approve: false });
  browser = await launchBrowser();
  page = await openConsole(browser, stack);
  await goTo(page, 'accounts');
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('cards show plan, quota, token and state; hostile labels stay text', async () => {
  const first = card('sim acct-0001');
  await first.getByText('usable', { exact: true }).waitFor();
  await first.getByText(/^KIRO /).waitFor();
  await first.getByText(/credits$/).waitFor();
  await first.getByText(/min left$/).waitFor();
  await first.getByText('closed', { exact: true }).waitFor();

  // Sorted by name; the label with markup is one literal text, and nothing ran.
  const names = await page.locator('.acct-name').allTextContents();
  assert.deepEqual(names, [...names].sort((a, b) => a.localeCompare(b, undefined, { sensitivity: 'base', numeric: true })));
  const hostile = card(XSS_LABEL);
  await hostile.waitFor();
  assert.equal(await hostile.locator('.acct-name').textContent(), XSS_LABEL);
  assert.equal(await hostile.locator('script, img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  // The filter box.
  const filter = page.getByRole('searchbox', { name: 'Filter accounts' });
  await filter.fill('acct-0002');
  await page.locator('.acct-card').first().waitFor();
  assert.equal(await page.locator('.acct-card').count(), 1);
  await filter.fill('');
  await hostile.waitFor();
});

test('an account forced into cooldown shows as cooling with the upstream error as text', async () => {
  // The next chat call is throttled with a hostile message: that account cools down for 60 s and
  // the request fails over to another one.
  await stack.sim.queue({
    type: 'http', status: 429, headers: { 'retry-after': '60' },
    body: JSON.stringify({ message: XSS_ERROR, reason: 'SERVICE_REQUEST_RATE_EXCEEDED' }),
  });
  const r = await http('POST', `${stack.proxyUrl}/v1/messages`,
    { model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] },
    { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // Auto-refresh picks it up (every 10 s); the header's reload is quicker to wait on.
  await page.evaluate(() => { location.hash = '#/accounts?r=1'; });
  const cooling = page.locator('.acct-card[data-state="cooldown"]');
  await cooling.waitFor();
  await cooling.getByText(/^cooling · \d+ s left$/).waitFor();
  await cooling.locator('.acct-error-text').filter({ hasText: XSS_ERROR }).waitFor();
  assert.equal(await cooling.locator('.acct-error-text').textContent(), XSS_ERROR);
  assert.equal(await cooling.locator('.acct-error-text img, .acct-error-text b').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await clearToasts();
  await shoot(page, 'accounts');

  // Reset clears the cooldown and the circuit.
  const name = await cooling.getAttribute('aria-label');
  await card(name).getByRole('button', { name: 'Reset' }).click();
  await page.locator('.toast', { hasText: 'circuit and status reset' }).waitFor();
  await card(name).getByText('usable', { exact: true }).waitFor();
});

test('edit, refresh now, and a refused refresh shows the account needs a login', async () => {
  await card('sim acct-0001').getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit sim acct-0001' });
  await edit.getByLabel('Label').fill('primary');
  await edit.getByLabel('Weight').fill('3');
  await edit.getByRole('button', { name: 'Save' }).click();
  const primary = card('primary');
  await primary.locator('.acct-fact', { hasText: 'Weight' }).getByText('3', { exact: true }).waitFor();

  await primary.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('.toast', { hasText: 'primary: token and quota refreshed' }).waitFor();

  // The upstream refuses the refresh token: the reason is shown and the account needs a login.
  await stack.sim.queue({ type: 'error', kind: 'social_invalid_refresh_token', path: '/refreshToken', account: 'acct-0001' });
  await primary.getByRole('button', { name: 'Refresh' }).click();
  await page.locator('.toast.bad', { hasText: 'Invalid refresh token provided' }).waitFor();
  await primary.getByText('needs login', { exact: true }).waitFor();
  await primary.locator('.acct-note', { hasText: 'invalid_refresh_token' }).waitFor();
  // The operator's reset lets the pool try it again.
  await primary.getByRole('button', { name: 'Reset' }).click();
  await primary.getByText('usable', { exact: true }).waitFor();
});

test('trip a circuit, reset it; refresh every account at once', async () => {
  const second = card('sim acct-0002');
  await second.getByRole('button', { name: 'Trip' }).click();
  await second.getByText(/^circuit open/).first().waitFor();
  await second.getByRole('button', { name: 'Trip' }).waitFor({ state: 'detached' });
  await second.getByRole('button', { name: 'Reset' }).click();
  await second.getByText('usable', { exact: true }).waitFor();

  // One account's refresh token is refused: the others refresh, and the toast names the one that
  // failed and why.
  await stack.sim.queue({ type: 'error', kind: 'social_invalid_refresh_token', path: '/refreshToken', account: 'acct-0002' });
  await page.getByRole('button', { name: 'Refresh all' }).click();
  await page.locator('.toast.bad', { hasText: /^\d+ refreshed, \d+ failed — .*sim acct-0002: token refresh failed.*Invalid refresh token provided/ }).waitFor();
  await second.getByText('needs login', { exact: true }).waitFor();
  await second.getByRole('button', { name: 'Reset' }).click();
});

test('disable, enable and delete with confirmation', async () => {
  const second = card('sim acct-0002');
  await second.getByRole('button', { name: 'Disable' }).click();
  await second.getByText('disabled', { exact: true }).waitFor();
  await second.getByRole('button', { name: 'Enable' }).click();
  await second.getByText('usable', { exact: true }).waitFor();

  const hostile = card(XSS_LABEL);
  await hostile.getByRole('button', { name: 'Delete' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete account' });
  await confirm.getByText(XSS_LABEL, { exact: false }).waitFor();
  await confirm.getByRole('button', { name: 'Delete account' }).click();
  await hostile.waitFor({ state: 'detached' });
  const { accounts } = await stack.admin('GET', '/api/accounts');
  assert.equal(accounts.some((a) => a.label === XSS_LABEL), false);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
});

test('add an account by device login, approved in the simulator', async () => {
  const before = await page.locator('.acct-card').count();
  await page.getByRole('button', { name: 'Add account' }).click();
  const dlg = page.getByRole('dialog', { name: 'Add account' });
  await dlg.getByRole('button', { name: 'Start device login' }).click();
  const code = dlg.getByLabel('User code');
  await code.waitFor();
  const userCode = (await code.textContent()).trim();
  assert.match(userCode, /^[A-Z0-9]{4}-[A-Z0-9]{4}$/);
  await dlg.getByRole('link', { name: /Open verification page/ }).waitFor();
  await dlg.getByRole('progressbar', { name: 'Time left to approve' }).waitFor();
  await clearToasts();
  await shoot(page, 'accounts-device-login');

  await stack.sim.post(`/_sim/device/${userCode}/approve`, { tier: 'power' });
  const toastEl = page.locator('.toast', { hasText: 'Account added:' });
  await toastEl.waitFor();
  await dlg.waitFor({ state: 'detached' });
  const name = (await toastEl.first().textContent()).replace('Account added: ', '');
  await card(name).waitFor();
  assert.equal(await page.locator('.acct-card').count(), before + 1);
  // The pool fetches its quota: the plan shows up by itself.
  await card(name).getByText('KIRO POWER').waitFor({ timeout: 15000 });
});

test('import by paste shows what was imported and skipped', async () => {
  const created = await stack.sim.createAccount({ kind: 'social', tier: 'pro' });
  const file = {
    accounts: [
      {
        label: 'pasted account', authMethod: 'social', profileArn: created.account.profile_arn,
        token: { accessToken: created.access_token, refreshToken: created.refresh_token, expiresAt: new Date(created.expires_at * 1000).toISOString() },
      },
      { label: 'truncated copy', authMethod: 'social', token: { refreshToken: 'aor-too-short...' } },
    ],
  };
  await page.getByRole('button', { name: 'Add account' }).click();
  const dlg = page.getByRole('dialog', { name: 'Add account' });
  await dlg.getByRole('tab', { name: 'Import' }).click();
  await dlg.getByLabel('Account JSON').fill(JSON.stringify(file, null, 2));
  await dlg.getByRole('button', { name: 'Import', exact: true }).click();
  await dlg.getByText('1 imported').waitFor();
  await dlg.getByText('1 skipped').waitFor();
  await dlg.locator('.import-list li', { hasText: 'truncated copy' }).getByText(/refresh token/).waitFor();
  await clearToasts();
  await shoot(page, 'accounts-import');
  await dlg.getByRole('button', { name: 'Close' }).click();
  await card('pasted account').waitFor();
  assert.deepEqual(page.problems, []);
});
