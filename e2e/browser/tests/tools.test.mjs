// The tools page: a web search shows result cards (links open in a new tab without an opener),
// the MCP tool list loads, a tool's arguments are prefilled from its schema and a call shows
// its result; upstream failures and markup in results stay text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, goTo, shoot } from '../harness.mjs';

let stack;
let browser;
let page;

before(async () => {
  stack = await startStack({ accounts: 1, name: 'tools' });
  browser = await launchBrowser();
  page = await openConsole(browser, stack);
});

after(async () => {
  if (process.exitCode && stack) console.error(stack.logs());
  await page?.context().close();
  await browser?.close();
  await stack?.stop();
});

const searchCard = () => page.getByRole('region', { name: 'Web search' });
const mcpCard = () => page.getByRole('region', { name: 'MCP tools' });

async function search(query, max) {
  await searchCard().getByLabel('Query').fill(query);
  if (max !== undefined) await searchCard().getByLabel('Max results').fill(String(max));
  await searchCard().getByRole('button', { name: 'Search' }).click();
  await searchCard().getByRole('button', { name: 'Search' }).and(page.locator(':enabled')).waitFor();
}

test('a search shows result cards; the tool list loads, a template is prefilled and a call shows its result', async () => {
  await goTo(page, 'tools');
  await searchCard().getByText(/web_search tool/).waitFor();

  await search('rust tokio select', 3);
  const hits = searchCard().locator('article.tools-hit');
  await hits.first().waitFor();
  assert.equal(await hits.count(), 3);
  const link = hits.first().getByRole('link');
  assert.match(await link.textContent(), /^rust tokio select — /);
  assert.match(await link.getAttribute('href'), /^https:\/\/site\d+\.example\.com\/rust-tokio-select\/1$/);
  assert.equal(await link.getAttribute('target'), '_blank');
  assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
  await hits.first().locator('.tools-hit-domain').filter({ hasText: /\.example\.com$/ }).waitFor();
  await searchCard().getByText('3 results').waitFor();
  // The account that served it, by its label.
  await searchCard().locator('.tools-served').filter({ hasText: 'served by sim acct-' }).waitFor();

  // The tool list loads by itself; picking a tool prefills its arguments, required ones first.
  const tool = mcpCard().getByRole('button', { name: /web_search/ });
  await tool.waitFor();
  await tool.click();
  assert.equal(await tool.getAttribute('aria-pressed'), 'true');
  const args = mcpCard().getByLabel('Arguments (JSON)');
  const template = JSON.parse(await args.inputValue());
  assert.deepEqual(Object.keys(template), ['query', 'maxResults']);
  assert.equal(template.query, '');
  assert.equal(template.maxResults, 1);

  await args.fill(JSON.stringify({ query: 'axum router', maxResults: 2 }, null, 2));
  await mcpCard().getByRole('button', { name: 'Execute' }).click();
  const result = mcpCard().getByLabel('Result');
  await result.waitFor();
  const shown = JSON.parse(await result.textContent());
  assert.equal(shown.results.length, 2);
  assert.match(await result.textContent(), /\n {2}"results": \[/, 'pretty-printed');
  await mcpCard().locator('.badge.ok').waitFor();

  await shoot(page, 'tools');
  assert.deepEqual(page.problems, []);
});

test('upstream failures show the message as text; markup in a result stays text', async () => {
  await goTo(page, 'tools');

  // The simulator's titles repeat the query: markup in it must come back as text.
  const markup = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
  await search(markup, 2);
  const title = searchCard().locator('article.tools-hit').first().getByRole('link');
  await title.waitFor();
  assert.ok((await title.textContent()).startsWith(markup));
  assert.equal(await searchCard().locator('.tools-results img, .tools-results b').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);

  // An HTTP refusal from the upstream, quoted.
  await stack.sim.queue({ type: 'error', kind: 'improperly_formed', path: '/mcp' });
  await search('refused');
  await searchCard().getByRole('alert').filter({ hasText: 'Improperly formed request' }).waitFor();

  // The page refuses an out-of-range size before asking.
  await search('fine', 51);
  await searchCard().getByRole('alert').filter({ hasText: 'from 1 to 50' }).waitFor();

  // A tool's own error is shown as its (text) result; invalid JSON never leaves the page.
  await mcpCard().getByRole('button', { name: /web_search/ }).click();
  const args = mcpCard().getByLabel('Arguments (JSON)');
  await args.fill('{"query": ');
  await mcpCard().getByRole('button', { name: 'Execute' }).click();
  await mcpCard().getByRole('alert').filter({ hasText: 'not valid JSON' }).waitFor();
  await args.fill('{"query": "x sim:error"}');
  await mcpCard().getByRole('button', { name: 'Execute' }).click();
  await mcpCard().locator('.badge.bad').filter({ hasText: 'tool error' }).waitFor();
  await mcpCard().getByLabel('Result').filter({ hasText: 'the simulated provider is unavailable' }).waitFor();

  // A JSON-RPC error, quoted as text.
  await search('broken sim:rpc-error', 5);
  const alert = searchCard().getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /upstream MCP error: Internal error \(code -32603\)/);

  await shoot(page, 'tools-errors');
  assert.deepEqual(page.problems, []);
});
