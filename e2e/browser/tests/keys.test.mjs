// The API keys page: create a key (shown once, copied, works against the client API, gone from
// the page after closing), snippets with the real base URL, disable (401), delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot, http } from '../harness.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 1, name: 'keys' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

const ask = (key) => http('POST', `${stack.proxyUrl}/v1/messages`,
  { model: 'claude-sonnet-4.5', max_tokens: 64, messages: [{ role: 'user', content: 'hello from the keys test' }] },
  { 'x-api-key': key, 'anthropic-version': '2023-06-01' });

test('create a key: shown once, copied, works; disable gives 401; delete', async () => {
  // A key made through the API, with limits and usage, so the table has something to show.
  const other = await stack.admin('POST', '/api/keys', { name: 'ci-bot', rpm: 60, monthlyTokens: 1000000, models: ['claude-sonnet-4.5', 'claude-haiku-4.5'] });
  assert.equal((await ask(other.key)).status, 200);
  await stack.admin('POST', '/api/keys', { name: 'old-laptop', expiresAt: 1000 });

  const page = await openConsole(browser, stack);
  await goTo(page, 'keys');
  // The harness configures one key through KIRO_API_KEYS: said, not listed.
  await page.getByText('1 more key from the configuration (KIRO_API_KEYS) also works').waitFor();
  const rows = page.locator('.page[data-page="keys"] tbody tr');
  await rows.filter({ hasText: 'ci-bot' }).waitFor();
  await rows.filter({ hasText: 'old-laptop' }).getByText('Expired', { exact: true }).waitFor();
  await shoot(page, 'keys');

  // Create with a name, a limit and an allow-list entry.
  await page.getByRole('button', { name: '+ New key' }).click();
  const form = page.getByRole('dialog', { name: 'New API key' });
  await form.getByLabel('Name').fill('alice-laptop');
  await form.getByLabel('Requests per minute').fill('120');
  await form.getByLabel('Add an allowed model').fill('claude-sonnet-4.5');
  await form.getByRole('button', { name: 'Add', exact: true }).click();
  await form.getByText('claude-sonnet-4.5').waitFor();
  await form.getByRole('button', { name: 'Create key' }).click();

  const shown = page.getByRole('dialog', { name: /Key created: alice-laptop/ });
  await shown.waitFor();
  const secret = (await shown.getByLabel('New API key').textContent()).trim();
  assert.match(secret, /^kp_[A-Za-z0-9]{40}$/);
  await shown.getByText('shown only this once').waitFor();

  // Copy button → clipboard → the copied value works against the client API.
  await shown.getByRole('button', { name: 'Copy key' }).click();
  await shown.getByRole('button', { name: 'Copied' }).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  assert.equal(copied, secret);
  const r = await ask(copied);
  assert.equal(r.status, 200, JSON.stringify(r.body));

  // Snippets: the real base URL and the key, for each client.
  const snippet = shown.locator('pre[data-snippet]');
  assert.match(await snippet.textContent(), new RegExp(`ANTHROPIC_BASE_URL=${stack.proxyUrl} ANTHROPIC_AUTH_TOKEN=${secret} claude`));
  for (const [tab, needle] of [['Cursor', `${stack.proxyUrl}/v1`], ['OpenAI SDK', `base_url="${stack.proxyUrl}/v1"`], ['Anthropic SDK', `base_url="${stack.proxyUrl}"`], ['curl', `curl ${stack.proxyUrl}/v1/messages`]]) {
    await shown.getByRole('tab', { name: tab }).click();
    const text = await snippet.textContent();
    assert.ok(text.includes(needle), `${tab} snippet has ${needle}: ${text}`);
    assert.ok(text.includes(secret), `${tab} snippet has the key`);
  }
  await shown.getByRole('tab', { name: 'Claude Code' }).click();
  await shoot(page, 'keys-created');

  // Closed: the key is nowhere on the page any more.
  await shown.getByRole('button', { name: 'Done' }).click();
  await shown.waitFor({ state: 'detached' });
  const row = rows.filter({ hasText: 'alice-laptop' });
  await row.waitFor();
  assert.ok(!(await page.content()).includes(secret), 'the key is gone from the page');
  assert.ok(await row.getByText(secret.slice(0, 8)).count() === 1, 'the row shows the prefix');

  // The detail view: a placeholder instead of the key, and the daily usage.
  await row.getByText('alice-laptop').click();
  const detail = page.getByRole('dialog', { name: 'alice-laptop' });
  await detail.locator('pre[data-snippet]').filter({ hasText: 'YOUR_API_KEY' }).waitFor();
  await detail.getByRole('button', { name: 'Close', exact: true }).last().click();
  await detail.waitFor({ state: 'detached' });

  // Edit a limit: a bad value is refused by the server, with its message next to the field.
  await row.getByRole('button', { name: 'Edit' }).click();
  const edit = page.getByRole('dialog', { name: 'Edit alice-laptop' });
  await edit.getByLabel('Tokens per month').fill('0');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.locator('.field', { hasText: 'Tokens per month' }).getByText('`monthlyTokens` must be at least 1').waitFor();
  await edit.getByLabel('Tokens per month').fill('500000');
  await edit.getByRole('button', { name: 'Save' }).click();
  await edit.waitFor({ state: 'detached' });
  await row.getByText('/ 500K', { exact: false }).waitFor();

  // Disable → 401; enable → 200 again.
  await row.getByRole('button', { name: 'Disable' }).click();
  await row.getByText('Disabled', { exact: true }).waitFor();
  const refused = await ask(secret);
  assert.equal(refused.status, 401, `${await row.textContent()} ${JSON.stringify(await stack.admin('GET', '/api/keys'))} ${JSON.stringify(refused.body)}`);
  await row.getByRole('button', { name: 'Enable' }).click();
  await row.getByText('Active', { exact: true }).waitFor();
  assert.equal((await ask(secret)).status, 200);

  // Delete, with confirmation.
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('dialog', { name: 'Delete alice-laptop?' }).getByRole('button', { name: 'Delete key' }).click();
  await row.waitFor({ state: 'detached' });
  assert.equal((await ask(secret)).status, 401);
  const left = await stack.admin('GET', '/api/keys');
  assert.deepEqual(left.keys.map((k) => k.name).sort(), ['ci-bot', 'old-laptop']);

  // "Use in playground" hands the new key to the playground (in memory) and goes there.
  await page.getByRole('button', { name: '+ New key' }).click();
  await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').fill('playground');
  await page.getByRole('dialog', { name: 'New API key' }).getByLabel('Name').press('Enter');
  const again = page.getByRole('dialog', { name: /Key created: playground/ });
  const second = (await again.getByLabel('New API key').textContent()).trim();
  await again.getByRole('button', { name: /Use in playground/ }).click();
  await page.waitForURL(/#\/playground/);
  const remembered = await page.evaluate(async () => (await import('/ui/lib/keystore.js')).rememberedKeys());
  assert.deepEqual(remembered, [{ name: 'playground', key: second }]);

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
