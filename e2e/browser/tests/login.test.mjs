// Login, logout, the session cookie and the page's security headers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, launchBrowser, openConsole, logIn, shoot, http, ADMIN_TOKEN } from '../harness.mjs';

let stack;
let browser;

before(async () => {
  stack = await startStack({ accounts: 0, name: 'login' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop();
});

test('the page is served with a strict CSP and no inline script', async () => {
  const r = await fetch(`${stack.proxyUrl}/`, { headers: { accept: 'text/html' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  const csp = r.headers.get('content-security-policy');
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  const html = await r.text();
  assert.doesNotMatch(html, /<script>/);
  // API clients and probes still get JSON at the base URL.
  const j = await http('GET', `${stack.proxyUrl}/`);
  assert.equal(j.body.status, 'ok');
  const head = await fetch(`${stack.proxyUrl}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
});

test('a wrong token is refused with a message; the right one opens the console', async () => {
  const page = await openConsole(browser, stack, { login: false });
  await page.getByLabel('Admin token').fill('wrong-token');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'wrong admin token' }).waitFor();
  await shoot(page, 'login');
  await logIn(page, ADMIN_TOKEN);
  await page.getByRole('navigation', { name: 'Pages' }).waitFor();

  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'kp_session');
  assert.ok(session, 'a session cookie is set');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session');

  // A reload keeps the session; logging out ends it on the server too.
  await page.reload();
  await page.locator('.shell').waitFor();
  await page.getByRole('button', { name: /Log out/ }).click();
  await page.getByLabel('Admin token').waitFor();
  const replay = await http('GET', `${stack.proxyUrl}/api/accounts`, undefined, { cookie: `kp_session=${session.value}` });
  assert.equal(replay.status, 401, 'a logged-out session is revoked');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('a cookie-authenticated change needs the console header (CSRF wall)', async () => {
  const login = await http('POST', `${stack.proxyUrl}/api/session`, { token: ADMIN_TOKEN });
  assert.equal(login.status, 200);
  const cookie = login.headers.get('set-cookie').split(';')[0];
  const without = await http('POST', `${stack.proxyUrl}/api/keys`, { name: 'x' }, { cookie });
  assert.equal(without.status, 403);
  const withHeader = await http('POST', `${stack.proxyUrl}/api/keys`, { name: 'x' }, { cookie, 'x-kiro-console': '1' });
  assert.equal(withHeader.status, 201);
  const read = await http('GET', `${stack.proxyUrl}/api/keys`, undefined, { cookie });
  assert.equal(read.status, 200);
});
