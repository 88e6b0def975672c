// The models page: the catalogue, the alias mapping editor (edited, saved and seen applied to a
// client request at the simulator), server validation shown on the row, the default model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot, http, CLIENT_KEY } from '../harness.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 1, name: 'models' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The model ids the simulator received for /generateAssistantResponse, oldest first. */
async function upstreamModels() {
  const log = await stack.sim.get('/_sim/requests?path=/generateAssistantResponse');
  return log.map((r) => r.body_json?.conversationState?.currentMessage?.userInputMessage?.modelId);
}

test('edit the mapping in the UI and see it applied upstream', async () => {
  const page = await openConsole(browser, stack);
  await goTo(page, 'models');
  const catalogue = page.getByRole('region', { name: 'Upstream models' });
  const sonnet = catalogue.locator('tbody tr', { hasText: 'claude-sonnet-4.5' });
  await sonnet.waitFor();
  assert.match(await sonnet.textContent(), /200K/);
  assert.match(await sonnet.textContent(), /× 1\.3/);

  const mapping = page.getByRole('region', { name: 'Alias mapping' });
  await mapping.getByText('No aliases').waitFor();

  // A server-side refusal is shown on the row it concerns.
  await mapping.getByRole('button', { name: '+ Add alias' }).click();
  await mapping.getByLabel('Alias', { exact: true }).last().fill('team-default');
  await mapping.getByLabel('Upstream model').last().fill('x'.repeat(201));
  await mapping.getByRole('button', { name: 'Save mapping' }).click();
  await mapping.locator('.models-row', { hasText: 'limited to 200 characters' }).waitFor();
  await mapping.getByText('Not saved.').waitFor();

  // The real alias, and one for a hidden id (free text, flagged as not in the catalogue).
  await mapping.getByLabel('Upstream model').last().fill('claude-sonnet-4.5');
  await mapping.getByRole('button', { name: '+ Add alias' }).click();
  await mapping.getByLabel('Alias', { exact: true }).last().fill('preview');
  await mapping.getByLabel('Upstream model').last().fill('claude-experimental-9');
  await mapping.getByText('not in the catalogue').waitFor();
  await mapping.getByText('Unsaved changes').waitFor();
  await mapping.getByRole('button', { name: 'Save mapping' }).click();
  await mapping.getByText('Saved 2 aliases.').waitFor();
  await sonnet.getByText('team-default').waitFor();
  assert.deepEqual((await stack.admin('GET', '/api/model-mapping')).mapping,
    { 'team-default': 'claude-sonnet-4.5', preview: 'claude-experimental-9' });

  // Applied: a client asking for team-default reaches the upstream as claude-sonnet-4.5.
  const before = (await upstreamModels()).length;
  let r;
  for (let i = 0; i < 50; i += 1) {
    r = await http('POST', `${stack.proxyUrl}/v1/messages`,
      { model: 'team-default', max_tokens: 32, messages: [{ role: 'user', content: 'which model?' }] },
      { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
    if (r.status === 200) break;
    await new Promise((res) => setTimeout(res, 100)); // the router reloads the mapping asynchronously
  }
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const seen = await upstreamModels();
  assert.equal(seen.length, before + 1);
  assert.equal(seen.at(-1), 'claude-sonnet-4.5');

  // The default model: the alias is offered; a reload shows what was saved.
  const def = page.getByRole('region', { name: 'Default model' });
  await def.getByLabel('Default model').selectOption('team-default');
  await def.getByRole('button', { name: 'Save' }).click();
  await def.getByText('Saved: team-default.').waitFor();
  assert.equal((await stack.admin('GET', '/api/settings')).defaultModel, 'team-default');
  await page.reload();
  await page.locator('.page[data-page="models"]').waitFor();
  await page.getByRole('region', { name: 'Alias mapping' }).getByLabel('Alias', { exact: true }).first().waitFor();
  assert.equal(await page.getByRole('region', { name: 'Default model' }).getByLabel('Default model').inputValue(), 'team-default');
  await shoot(page, 'models');

  // Delete a row and save: the alias is gone.
  const rows = page.locator('.models-row');
  let removed = false;
  for (let i = 0; i < await rows.count(); i += 1) {
    if (await rows.nth(i).getByLabel('Alias', { exact: true }).inputValue() === 'preview') {
      await rows.nth(i).getByRole('button', { name: 'Remove alias' }).click();
      removed = true;
      break;
    }
  }
  assert.ok(removed, 'the preview row is listed');
  await page.getByRole('button', { name: 'Save mapping' }).click();
  await page.getByText('Saved 1 alias.').waitFor();
  assert.deepEqual((await stack.admin('GET', '/api/model-mapping')).mapping, { 'team-default': 'claude-sonnet-4.5' });

  assert.deepEqual(page.problems, []);
  await page.context().close();
});
