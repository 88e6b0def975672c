// The console's shell: login, navigation between pages (in the URL fragment, so back and forward
// work), the theme and privacy toggles, and logout.
//
// A page is a module in ./pages/ whose default export is
//   { title, async render(root, ctx) → optional cleanup function }
// `root` is the page's container; `ctx.setActions(...nodes)` fills the top bar's action area;
// `ctx.every(ms, fn)` runs fn periodically while the page is shown (cleared on leaving it);
// `ctx.navigate(hash)` moves to another page; `ctx.params` is the fragment's query as an object.

import { h, mount, toast, errorText } from './lib/dom.js';
import { api } from './lib/api.js';

const PAGES = [
  { id: 'overview', label: 'Overview', icon: '◎' },
  { id: 'accounts', label: 'Accounts', icon: '◉' },
  { id: 'keys', label: 'API keys', icon: '◈' },
  { id: 'requests', label: 'Requests', icon: '☰' },
  { id: 'models', label: 'Models', icon: '◇' },
  { id: 'playground', label: 'Playground', icon: '▷' },
  { id: 'tools', label: 'Tools', icon: '⌕' },
  { id: 'settings', label: 'Settings', icon: '⚙' },
];

const app = document.getElementById('app');
const state = { cleanup: [], renderId: 0 };

// ---- theme and privacy (remembered in localStorage; nothing secret is stored there) ----
function applyTheme(theme) {
  const dark = theme === 'dark' || (theme !== 'light' && window.matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}
function currentTheme() { return localStorage.getItem('kp.theme') || 'auto'; }
applyTheme(currentTheme());
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => applyTheme(currentTheme()));

function setPrivacy(on) {
  document.body.classList.toggle('privacy', on);
  localStorage.setItem('kp.privacy', on ? '1' : '0');
}
setPrivacy(localStorage.getItem('kp.privacy') === '1');

// ---- login ----
function showLogin(message) {
  stopPage();
  const input = h('input', { type: 'password', name: 'token', autocomplete: 'current-password', placeholder: 'kpa_…', 'aria-label': 'Admin token', required: true });
  const error = h('p', { class: 'error-text', role: 'alert' }, message || '');
  const button = h('button', { class: 'primary', type: 'submit' }, 'Log in');
  const form = h('form', { class: 'stack' },
    h('label', { class: 'field' }, h('span', {}, 'Admin token'), input,
      h('span', { class: 'hint' }, 'KIRO_ADMIN_TOKEN, or the token printed at first start (reset it with `kiro-proxy admin-token --reset`).')),
    error, button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    error.textContent = '';
    try {
      await api('/api/session', { method: 'POST', body: { token: input.value } });
      input.value = '';
      await showShell();
    } catch (err) {
      error.textContent = errorText(err);
      input.select();
    } finally {
      button.disabled = false;
    }
  });
  mount(app, h('div', { class: 'login' }, h('div', { class: 'card' },
    h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, 'K'), h('span', {}, 'kiro-proxy console')),
    form)));
  input.focus();
}

window.addEventListener('kiro:logout', (e) => {
  if (document.querySelector('.shell')) showLogin(`Logged out: ${e.detail}`);
});

async function logout() {
  try { await api('/api/session', { method: 'DELETE' }); } catch { /* the cookie is cleared anyway */ }
  showLogin('Logged out.');
}

// ---- shell ----
let els = null;

function buildShell() {
  const nav = h('nav', { class: 'nav', 'aria-label': 'Pages' },
    PAGES.map((p) => h('a', { href: `#/${p.id}`, dataset: { page: p.id } }, h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, p.icon), h('span', {}, p.label))));
  const themeBtn = h('button', { class: 'ghost small', type: 'button', title: 'Theme: light, dark or follow the system', 'aria-label': 'Theme' });
  const themeLabel = () => { themeBtn.textContent = { auto: '◐ Auto', light: '☀ Light', dark: '☾ Dark' }[currentTheme()]; };
  themeLabel();
  themeBtn.addEventListener('click', () => {
    const next = { auto: 'light', light: 'dark', dark: 'auto' }[currentTheme()];
    localStorage.setItem('kp.theme', next);
    applyTheme(next);
    themeLabel();
  });
  const privacyBtn = h('button', { class: 'ghost small', type: 'button', 'aria-pressed': String(document.body.classList.contains('privacy')), title: 'Blur e-mails and ids (for screen sharing)' }, '◌ Privacy');
  privacyBtn.addEventListener('click', () => {
    const on = !document.body.classList.contains('privacy');
    setPrivacy(on);
    privacyBtn.setAttribute('aria-pressed', String(on));
  });
  const logoutBtn = h('button', { class: 'ghost small', type: 'button', onclick: logout }, '⎋ Log out');
  const title = h('h1', { class: 'grow' });
  const actions = h('div', { class: 'row' });
  const content = h('div', { class: 'content' });
  const shell = h('div', { class: 'shell' },
    h('aside', { class: 'sidebar' },
      h('div', { class: 'brand' }, h('span', { class: 'brand-mark' }, 'K'), h('span', { class: 'brand-name' }, 'kiro-proxy')),
      nav,
      h('div', { class: 'sidebar-foot' }, themeBtn, privacyBtn, logoutBtn)),
    h('div', { class: 'main' },
      h('header', { class: 'topbar' }, title, actions),
      h('main', { id: 'content', class: 'content-host' }, content)));
  els = { shell, nav, title, actions, content };
  mount(app, shell);
}

async function showShell() {
  buildShell();
  await route();
}

function stopPage() {
  for (const fn of state.cleanup.splice(0)) {
    try { fn(); } catch { /* a page's cleanup must not break navigation */ }
  }
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, q] = raw.split('?');
  const id = PAGES.some((p) => p.id === path) ? path : 'overview';
  return { id, params: Object.fromEntries(new URLSearchParams(q || '')) };
}

async function route() {
  if (!els || !els.shell.isConnected) return;
  stopPage();
  const renderId = ++state.renderId;
  const { id, params } = parseHash();
  const meta = PAGES.find((p) => p.id === id);
  for (const a of els.nav.querySelectorAll('a')) {
    if (a.dataset.page === id) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  els.title.textContent = meta.label;
  document.title = `${meta.label} · kiro-proxy`;
  mount(els.actions);
  const root = h('div', { class: 'stack page', dataset: { page: id } });
  mount(els.content, root);
  const ctx = {
    params,
    navigate: (hash) => { location.hash = hash; },
    setActions: (...nodes) => { if (renderId === state.renderId) mount(els.actions, ...nodes); },
    every: (ms, fn) => {
      const timer = setInterval(() => { if (renderId === state.renderId) fn(); }, ms);
      state.cleanup.push(() => clearInterval(timer));
    },
    onLeave: (fn) => state.cleanup.push(fn),
    isCurrent: () => renderId === state.renderId,
  };
  try {
    const mod = await import(`./pages/${id}.js`);
    if (renderId !== state.renderId) return;
    const cleanup = await mod.default.render(root, ctx);
    if (typeof cleanup === 'function') state.cleanup.push(cleanup);
  } catch (err) {
    if (renderId !== state.renderId) return;
    if (err && err.status === 401) return;
    // Also in the browser's console (and so in the browser tests' problem list).
    console.error(`page ${id} failed:`, err);
    mount(root, h('div', { class: 'card' }, h('p', { class: 'error-text' }, `This page failed to load: ${errorText(err)}`)));
    toast(errorText(err), 'bad');
  }
}

window.addEventListener('hashchange', route);

async function start() {
  try {
    const s = await api('/api/session');
    if (s && s.authenticated) {
      await showShell();
      return;
    }
  } catch { /* fall through to the login form */ }
  showLogin();
}

start();
