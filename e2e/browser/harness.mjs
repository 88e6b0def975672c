// Starts the real kiro-sim and kiro-proxy binaries on loopback, and Debian's Chromium driven by
// Playwright, for the console's browser tests. Only 127.0.0.1 is contacted.
//
//   const stack = await startStack();             // sim + proxy, one social account
//   const browser = await launchBrowser();
//   const page = await openConsole(browser, stack); // logged in
//   await shoot(page, 'accounts');                  // desktop + narrow screenshots
//   await stack.stop(); await browser.close();
//
// Environment: E2E_BIN_DIR (default target/debug), CHROMIUM (default /usr/bin/chromium),
// CONSOLE_SCREENSHOTS (default target/console-screenshots), E2E_KEEP=1 keeps data dirs and logs.

import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
const TARGET = process.env.CARGO_TARGET_DIR || path.join(ROOT, 'target');
const BIN_DIR = process.env.E2E_BIN_DIR || path.join(TARGET, 'debug');
export const SCREENSHOTS = process.env.CONSOLE_SCREENSHOTS || path.join(TARGET, 'console-screenshots');
export const ADMIN_TOKEN = 'console-admin-token-0123456789abcdef';
export const CLIENT_KEY = 'console-client-key-0123456789';

export const DESKTOP = { width: 1440, height: 900 };
export const NARROW = { width: 390, height: 844 };

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function cleanEnv(extra = {}) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('KIRO_') || /^(HOST|PORT|RUST_LOG|https?_proxy|all_proxy|HTTPS?_PROXY|ALL_PROXY)$/.test(k)) continue;
    env[k] = v;
  }
  env.NO_PROXY = env.no_proxy = '127.0.0.1,localhost';
  env.NO_COLOR = '1';
  return { ...env, ...extra };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** fetch with a JSON body; returns { status, headers, body } (body parsed when JSON). */
export async function http(method, url, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['content-type'] = 'application/json';
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed = text;
  try { parsed = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed };
}

async function ok(method, url, body, headers) {
  const r = await http(method, url, body, headers);
  if (r.status >= 300) throw new Error(`${method} ${url} -> ${r.status}: ${JSON.stringify(r.body)}`);
  return r.body;
}

class Proc {
  constructor(name, argv, env, logPath, cwd) {
    this.name = name;
    this.logPath = logPath;
    const fd = openSync(logPath, 'w');
    this.child = spawn(argv[0], argv.slice(1), { env, cwd, stdio: ['ignore', fd, fd] });
    this.exited = null;
    this.child.on('exit', (code, signal) => { this.exited = code ?? signal; });
  }

  log() {
    try { return readFileSync(this.logPath, 'utf8'); } catch { return ''; }
  }

  async stop() {
    if (this.exited !== null) return;
    const done = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(t);
  }

  async waitHealthy(url, seconds) {
    const end = Date.now() + seconds * 1000;
    let last = 'no answer';
    while (Date.now() < end) {
      if (this.exited !== null) throw new Error(`${this.name} exited (${this.exited}) before ${url} answered:\n${this.log().slice(-4000)}`);
      try {
        const r = await fetch(url);
        if (r.status === 200) return;
        last = `${r.status}`;
      } catch (e) { last = e.message; }
      await sleep(50);
    }
    throw new Error(`${this.name}: ${url} not healthy after ${seconds}s (${last}):\n${this.log().slice(-4000)}`);
  }
}

/** The simulator's control API. */
export class Sim {
  constructor(url) { this.url = url; }
  get(p) { return ok('GET', this.url + p); }
  post(p, body = {}) { return ok('POST', this.url + p, body); }
  patch(p, body) { return ok('PATCH', this.url + p, body); }
  del(p) { return ok('DELETE', this.url + p); }
  createAccount(fields = { kind: 'social' }) { return this.post('/_sim/accounts', fields); }
  queue(behaviour) { return this.post('/_sim/behaviours', behaviour); }
}

/**
 * Starts kiro-sim and kiro-proxy. `accounts`: how many social accounts to register through the
 * admin API. `proxyEnv`: extra environment for the proxy.
 */
export async function startStack({ accounts = 1, proxyEnv = {}, name = 'console' } = {}) {
  for (const bin of ['kiro-sim', 'kiro-proxy']) {
    if (!existsSync(path.join(BIN_DIR, bin))) {
      throw new Error(`${path.join(BIN_DIR, bin)} is missing: run \`cargo build -p kiro-proxy -p kiro-sim\``);
    }
  }
  const work = mkdtempSync(path.join(process.env.E2E_TMP || tmpdir(), `kiro-console-${name}-`));
  const simPort = await freePort();
  mkdirSync(path.join(work, 'sim'));
  const sim = new Proc('kiro-sim', [path.join(BIN_DIR, 'kiro-sim'), '--host', '127.0.0.1', '--port', String(simPort), '--seed', '7'],
    cleanEnv(), path.join(work, 'sim.log'), path.join(work, 'sim'));
  const simUrl = `http://127.0.0.1:${simPort}`;
  await sim.waitHealthy(`${simUrl}/_sim/health`, 20);

  const proxyPort = await freePort();
  const dataDir = path.join(work, 'proxy-data');
  mkdirSync(dataDir);
  const proxy = new Proc('kiro-proxy', [path.join(BIN_DIR, 'kiro-proxy'), 'serve', '--host', '127.0.0.1', '--port', String(proxyPort), '--data-dir', dataDir],
    cleanEnv({
      KIRO_Q_URL: simUrl,
      KIRO_CODEWHISPERER_URL: simUrl,
      KIRO_SOCIAL_AUTH_URL: simUrl,
      KIRO_OIDC_URL: simUrl,
      KIRO_API_KEYS: CLIENT_KEY,
      KIRO_ADMIN_TOKEN: ADMIN_TOKEN,
      KIRO_LOG: process.env.E2E_PROXY_LOG || 'info',
      ...proxyEnv,
    }), path.join(work, 'proxy.log'), work);
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  await proxy.waitHealthy(`${proxyUrl}/healthz`, 30);

  const stack = {
    work,
    simUrl,
    proxyUrl,
    sim: new Sim(simUrl),
    accounts: [],
    admin: (method, p, body) => ok(method, proxyUrl + p, body, { authorization: `Bearer ${ADMIN_TOKEN}` }),
    async addAccount(fields = { kind: 'social' }, label) {
      const created = await this.sim.createAccount(fields);
      const acct = created.account;
      const body = {
        authMethod: 'social',
        refreshToken: created.refresh_token,
        accessToken: created.access_token,
        expiresAt: created.expires_at,
        label: label ?? `sim ${acct.id}`,
      };
      if (acct.profile_arn) body.profileArn = acct.profile_arn;
      const registered = await this.admin('POST', '/api/accounts', body);
      this.accounts.push({ sim: created, proxy: registered });
      return registered;
    },
    logs() { return `--- kiro-proxy ---\n${proxy.log().slice(-6000)}\n--- kiro-sim ---\n${sim.log().slice(-3000)}`; },
    async stop() {
      await proxy.stop();
      await sim.stop();
      if (!process.env.E2E_KEEP) rmSync(work, { recursive: true, force: true });
    },
  };
  for (let i = 0; i < accounts; i += 1) await stack.addAccount();
  return stack;
}

/** Debian's Chromium, headless, with nothing that reaches outside this machine. */
export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  // Playwright gives each launch a new empty profile of its own.
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-default-apps', '--disable-extensions', '--disable-dev-shm-usage',
    ],
  });
}

/**
 * A new page on the console. Collects console errors and CSP violations into `page.problems`
 * (tests assert it stays empty). Logs in unless `login: false`.
 */
export async function openConsole(browser, stack, { viewport = DESKTOP, login = true, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, permissions: ['clipboard-read', 'clipboard-write'] });
  const page = await context.newPage();
  page.problems = [];
  page.on('console', (msg) => {
    // An API answer of 4xx is logged by Chromium as a failed resource; the page handles those.
    // Anything else (a script error, a CSP violation) is a problem.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) {
      page.problems.push(`console error: ${msg.text()}`);
    }
  });
  page.on('pageerror', (err) => page.problems.push(`page error: ${err.message}`));
  page.setDefaultTimeout(15000);
  await page.goto(stack.proxyUrl + '/');
  if (login) await logIn(page);
  return page;
}

/** Logs in through the form. */
export async function logIn(page, token = ADMIN_TOKEN) {
  await page.getByLabel('Admin token').fill(token);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('.shell').waitFor();
}

/** Goes to a page of the console by its id (overview, accounts, …) and waits for it. */
export async function goTo(page, id) {
  await page.evaluate((h) => { location.hash = h; }, `#/${id}`);
  await page.locator(`.page[data-page="${id}"]`).waitFor();
}

/**
 * Screenshots of the current page at desktop and narrow width:
 * <SCREENSHOTS>/<name>-desktop.png and <name>-narrow.png. Restores the viewport.
 */
export async function shoot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const before = page.viewportSize();
  // A full-page shot of a scrolled page draws the sticky sidebar out of place.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.setViewportSize(DESKTOP);
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(NARROW);
  await page.waitForTimeout(150);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-narrow.png`), fullPage: true });
  if (before) await page.setViewportSize(before);
}
