// Every page passes axe-core's WCAG 2 A and AA rules (contrast, names, roles, labels), in the light
// and the dark theme, with data on it. axe runs through the DevTools protocol, not as a page
// script, so the page's CSP stays as strict as in production.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startStack, launchBrowser, openConsole, logIn, goTo, http, CLIENT_KEY } from '../harness.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PAGES = ['overview', 'accounts', 'keys', 'requests', 'models', 'playground', 'tools', 'settings'];

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 2, name: 'a11y' });
  browser = await launchBrowser();
  await stack.admin('POST', '/api/keys', { name: 'laptop', rpm: 60, monthlyTokens: 1000000 });
  await stack.admin('PUT', '/api/model-mapping', { mapping: { 'team-default': 'claude-sonnet-4.5' } });
  await stack.admin('PUT', '/api/settings', { notice: { enabled: true, markdown: 'Keys rotate on Monday.' } });
  for (const text of ['hello', 'again']) {
    const r = await http('POST', `${stack.proxyUrl}/v1/messages`,
      { model: 'claude-sonnet-4.5', max_tokens: 64, messages: [{ role: 'user', content: text }] },
      { 'x-api-key': CLIENT_KEY, 'anthropic-version': '2023-06-01' });
    assert.equal(r.status, 200);
  }
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

async function violations(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const result = await axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
  });
}

for (const scheme of ['light', 'dark']) {
  test(`every page meets WCAG 2 AA in the ${scheme} theme`, async () => {
    const page = await openConsole(browser, stack, { login: false, colorScheme: scheme });
    assert.deepEqual(await violations(page), [], 'login page');
    await logIn(page);
    const found = {};
    for (const id of PAGES) {
      await goTo(page, id);
      // Let the page's first load finish (its data arrives asynchronously).
      await page.waitForLoadState('networkidle');
      const v = await violations(page);
      if (v.length) found[id] = v;
    }
    assert.deepEqual(found, {});
    assert.deepEqual(page.problems, []);
    await page.context().close();
  });
}
