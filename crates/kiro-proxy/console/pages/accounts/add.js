// Getting accounts in and out: the "Add account" dialog (device login, import, API key) and the
// backup export.

import { h, mount, dialog, confirmDialog, copyButton, field, spinner, toast, errorText, badge, sensitive } from '../../lib/dom.js';
import { api, post } from '../../lib/api.js';
import { nowUnix } from '../../lib/format.js';
import { duration, nameOf } from './model.js';

/** Regions offered for logins (IAM Identity Center lives in any of them; Builder ID in us-east-1). */
const AUTH_REGIONS = ['us-east-1', 'us-east-2', 'us-west-2', 'eu-central-1', 'eu-west-1', 'eu-west-2',
  'eu-north-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-northeast-1', 'ap-south-1', 'ca-central-1', 'sa-east-1'];
/** Kiro's API regions (where an API key account sends requests). */
const API_REGIONS = ['us-east-1', 'eu-central-1'];

function select(name, options, value, label) {
  return h('select', { name, 'aria-label': label }, options.map((o) => h('option', { value: o, selected: o === value }, o)));
}

/**
 * Opens the dialog. `tab`: 'device', 'import' or 'apikey'. `onAdded(accountView?)` runs after
 * each change so the page reloads its list.
 */
export function openAddDialog({ tab = 'device', onAdded }) {
  const stops = [];
  const panels = {
    device: devicePanel(onAdded, stops, () => d.close()),
    import: importPanel(onAdded),
    apikey: apiKeyPanel(onAdded, () => d.close()),
  };
  const labels = { device: 'Device login', import: 'Import', apikey: 'API key' };
  const tabs = h('div', { class: 'tabs', role: 'tablist' });
  const host = h('div', { class: 'stack' });
  const show = (id) => {
    for (const b of tabs.children) b.setAttribute('aria-selected', String(b.dataset.tab === id));
    mount(host, panels[id]);
    const first = panels[id].querySelector('input, select, textarea, button');
    if (first) first.focus();
  };
  for (const id of Object.keys(panels)) {
    tabs.append(h('button', { type: 'button', role: 'tab', dataset: { tab: id }, onclick: () => show(id) }, labels[id]));
  }
  const d = dialog({
    title: 'Add account',
    body: [tabs, host],
    onClose: () => stops.splice(0).forEach((fn) => fn()),
  });
  d.el.classList.add('acct-add');
  show(tab);
  return d;
}

// ---- device login ----

function devicePanel(onAdded, stops, close) {
  const kind = h('select', { name: 'kind', 'aria-label': 'Identity provider' },
    h('option', { value: 'builder' }, 'AWS Builder ID (personal)'),
    h('option', { value: 'idc' }, 'IAM Identity Center (organisation)'));
  const region = select('region', AUTH_REGIONS, 'us-east-1', 'Region');
  const startUrl = h('input', { type: 'url', name: 'startUrl', placeholder: 'https://d-xxxxxxxxxx.awsapps.com/start', 'aria-label': 'Start URL' });
  const startField = field('Start URL', startUrl, 'Your organisation\'s AWS access portal URL.');
  const sync = () => startField.classList.toggle('hidden', kind.value !== 'idc');
  kind.addEventListener('change', sync);
  sync();
  const error = h('p', { class: 'error-text', role: 'alert' });
  const startBtn = h('button', { class: 'primary', type: 'submit' }, 'Start device login');
  const form = h('form', { class: 'stack' },
    h('p', { class: 'muted' }, 'The proxy asks AWS for a one-time code; you confirm it in a browser where you are signed in. The account appears here by itself once you approve.'),
    h('div', { class: 'form-grid' }, field('Identity provider', kind), field('Region', region, 'Where your identity provider lives.')),
    startField, error, h('div', { class: 'row' }, startBtn));
  const panel = h('div', { class: 'stack' }, form);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const body = { region: region.value };
    if (kind.value === 'idc') {
      if (!startUrl.value.trim()) { error.textContent = 'Enter the start URL of your IAM Identity Center.'; startUrl.focus(); return; }
      body.startUrl = startUrl.value.trim();
    }
    startBtn.disabled = true;
    mount(startBtn, spinner(), 'Starting…');
    try {
      const started = await post('/api/auth/device', body);
      mount(panel, pendingView(started, onAdded, stops, close, () => mount(panel, form)));
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      startBtn.disabled = false;
      mount(startBtn, 'Start device login');
    }
  });
  return panel;
}

function pendingView(started, onAdded, stops, close, restart) {
  const link = started.verificationUriComplete || started.verificationUri;
  const total = Math.max(1, started.expiresAt - nowUnix());
  const fill = h('span', {});
  const left = h('span', { class: 'muted small' });
  const status = h('div', { class: 'row device-status', role: 'status' }, spinner('Waiting for you to approve the code…'));
  const view = h('div', { class: 'stack device-login' },
    h('ol', { class: 'device-steps' },
      h('li', {}, h('span', {}, 'Open the verification page and sign in:'),
        h('div', { class: 'row' },
          h('a', { class: 'btn primary', href: link, target: '_blank', rel: 'noopener noreferrer' }, 'Open verification page ↗'),
          copyButton(link, 'Copy link')),
        h('span', { class: 'muted small device-link' }, link)),
      h('li', {}, h('span', {}, 'Check that it shows this code, then approve:'),
        h('div', { class: 'device-code-row' },
          h('output', { class: 'device-code', 'aria-label': 'User code' }, started.userCode),
          copyButton(started.userCode, 'Copy code')))),
    h('div', { class: 'stack device-wait' }, status,
      h('div', { class: 'bar device-timer', role: 'progressbar', 'aria-label': 'Time left to approve' }, fill), left));

  let stopped = false;
  let timer = null;
  const stop = () => { stopped = true; clearTimeout(timer); clearInterval(tick); };
  stops.push(stop);
  const updateTimer = () => {
    const rest = Math.max(0, started.expiresAt - nowUnix());
    fill.style.setProperty('width', `${((rest / total) * 100).toFixed(1)}%`);
    left.textContent = rest > 0 ? `The code expires in ${duration(rest)}.` : 'The code has expired.';
  };
  const tick = setInterval(updateTimer, 1000);
  updateTimer();

  const fail = (title, message) => {
    stop();
    mount(status, h('div', { class: 'stack device-failed' },
      h('strong', { class: 'error-text' }, title),
      message ? h('p', { class: 'error-text', role: 'alert' }, message) : null,
      h('div', { class: 'row' }, h('button', { class: 'primary', type: 'button', onclick: restart }, 'Start again'))));
  };
  const every = Math.min(5, Math.max(1, Number(started.interval) || 2)) * 1000;
  const poll = async () => {
    if (stopped) return;
    try {
      const s = await api(`/api/auth/device/${encodeURIComponent(started.sessionId)}`);
      if (stopped) return;
      if (s.status === 'success') {
        stop();
        const name = s.account ? nameOf(s.account).text : 'new account';
        toast(`Account added: ${name}`, 'ok');
        onAdded(s.account);
        close();
        return;
      }
      if (s.status === 'expired') return fail('The code expired before it was approved.', s.error);
      if (s.status === 'denied') return fail('The login was denied.', s.error);
      if (s.status === 'error') return fail('The login failed.', s.error);
    } catch (err) {
      if (stopped) return;
      if (err.status === 404) return fail('This login session is over.', errorText(err));
      // A network blip: keep polling until the code expires.
    }
    if (started.expiresAt + 5 < nowUnix()) return fail('The code expired before it was approved.');
    timer = setTimeout(poll, every);
  };
  timer = setTimeout(poll, every);
  return view;
}

// ---- import ----

function importPanel(onAdded) {
  const file = h('input', { type: 'file', accept: '.json,application/json', 'aria-label': 'Account file' });
  const text = h('textarea', { name: 'document', class: 'sensitive', spellcheck: 'false', 'aria-label': 'Account JSON', placeholder: '{ "accessToken": "…", "refreshToken": "…", … }' });
  const reg = h('textarea', { name: 'clientRegistration', class: 'sensitive short', spellcheck: 'false', 'aria-label': 'Client registration JSON', placeholder: '{ "clientId": "…", "clientSecret": "…", … }' });
  const error = h('p', { class: 'error-text', role: 'alert' });
  const result = h('div', { class: 'stack' });
  const go = h('button', { class: 'primary', type: 'submit' }, 'Import');
  file.addEventListener('change', async () => {
    const f = file.files && file.files[0];
    if (!f) return;
    if (f.size > 5 * 1024 * 1024) { error.textContent = 'That file is too large to be an account file.'; return; }
    text.value = await f.text();
    error.textContent = '';
  });
  const form = h('form', { class: 'stack' },
    h('p', { class: 'muted' }, 'A Kiro IDE token (~/.aws/sso/cache/kiro-auth-token.json), a kiro-accounts.json, or a backup exported here. Accounts that already exist are updated.'),
    field('Choose a file', file),
    field('…or paste it', text),
    h('details', { class: 'import-reg' },
      h('summary', {}, 'IdC token? Add its client registration'),
      field('Client registration', reg, 'The IDE keeps it in ~/.aws/sso/cache/<clientIdHash>.json, next to the token.')),
    error, h('div', { class: 'row' }, go), result);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    let body;
    try {
      const doc = JSON.parse(text.value);
      body = reg.value.trim() ? JSON.stringify({ token: doc, clientRegistration: JSON.parse(reg.value) }) : text.value;
    } catch (err) {
      error.textContent = text.value.trim() ? `That is not valid JSON (${err.message}).` : 'Choose a file or paste its content first.';
      return;
    }
    go.disabled = true;
    try {
      const report = await api('/api/accounts/import', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      mount(result, importReport(report));
      result.scrollIntoView({ block: 'nearest' });
      const changed = report.imported.length + report.updated.length;
      toast(`Import: ${report.imported.length} imported, ${report.updated.length} updated, ${report.skipped.length} skipped`, changed ? 'ok' : 'warn');
      if (changed) {
        text.value = '';
        reg.value = '';
        file.value = '';
        onAdded();
      }
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      go.disabled = false;
    }
  });
  return form;
}

function importReport(r) {
  const names = (list) => h('ul', { class: 'import-list' }, list.map((a) => h('li', {}, nameOf(a).identifying ? sensitive(nameOf(a).text) : nameOf(a).text)));
  return h('div', { class: 'stack import-result', role: 'status' },
    h('div', { class: 'row' },
      badge(`${r.imported.length} imported`, r.imported.length ? 'ok' : ''),
      badge(`${r.updated.length} updated`, r.updated.length ? 'info' : ''),
      badge(`${r.skipped.length} skipped`, r.skipped.length ? 'warn' : '')),
    r.imported.length ? h('div', {}, h('h3', {}, 'Imported'), names(r.imported)) : null,
    r.updated.length ? h('div', {}, h('h3', {}, 'Updated'), names(r.updated)) : null,
    r.skipped.length ? h('div', {}, h('h3', {}, 'Skipped'), h('ul', { class: 'import-list' },
      r.skipped.map(skippedLine))) : null);
}

/** A skipped account: its name (identifying, so blurred in privacy mode) and the reason. */
function skippedLine(s) {
  const who = s.account || '(unnamed)';
  // The server's reasons usually start with the account's name already.
  const reason = s.reason.startsWith(`${who}: `) ? s.reason.slice(who.length + 2) : s.reason;
  return h('li', {}, sensitive(who), h('span', { class: 'muted' }, ': '), reason);
}

// ---- API key ----

function apiKeyPanel(onAdded, close) {
  const key = h('input', { type: 'password', name: 'apiKey', autocomplete: 'off', placeholder: 'ksk_…', required: true, 'aria-label': 'API key' });
  const label = h('input', { type: 'text', name: 'label', maxlength: '200', placeholder: 'e.g. team key', 'aria-label': 'Label' });
  const region = select('region', API_REGIONS, 'us-east-1', 'API region');
  const error = h('p', { class: 'error-text', role: 'alert' });
  const go = h('button', { class: 'primary', type: 'submit' }, 'Add API key account');
  const form = h('form', { class: 'stack' },
    h('p', { class: 'muted' }, 'A Kiro API key (ksk_…) is used as is: it has no token to refresh and no profile.'),
    field('API key', key), h('div', { class: 'form-grid' }, field('Label', label), field('Region', region)),
    error, h('div', { class: 'row' }, go));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    const body = { authMethod: 'apiKey', apiKey: key.value.trim(), region: region.value };
    if (label.value.trim()) body.label = label.value.trim();
    go.disabled = true;
    try {
      const view = await post('/api/accounts', body);
      key.value = '';
      toast(`Account added: ${nameOf(view).text}`, 'ok');
      onAdded(view);
      close();
    } catch (err) {
      error.textContent = errorText(err);
    } finally {
      go.disabled = false;
    }
  });
  return form;
}

// ---- export ----

/** Asks, then downloads the backup (every secret included). */
export async function exportBackup() {
  const ok = await confirmDialog('Export a backup',
    'The file holds every account\'s refresh token, client secret and API key, unencrypted. Anyone who has it can use your accounts: store it like a password, and delete it when you no longer need it.',
    { confirmLabel: 'Download backup' });
  if (!ok) return;
  try {
    const res = await api('/api/accounts/export', { raw: true });
    if (!res.ok) throw new Error(`export failed: HTTP ${res.status}`);
    const blob = await res.blob();
    const disposition = res.headers.get('content-disposition') || '';
    const match = /filename="([^"]+)"/.exec(disposition);
    const a = document.createElement('a');
    // Set as a property: `h` only accepts web links, and this is a local blob.
    a.href = URL.createObjectURL(blob);
    a.download = match ? match[1] : `kiro-proxy-accounts-${nowUnix()}.json`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
    toast('Backup downloaded. It contains secrets: keep it safe.', 'warn');
  } catch (err) {
    toast(errorText(err), 'bad');
  }
}
