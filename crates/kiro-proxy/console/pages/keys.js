// The API keys page: the client keys with their limits and live usage; create a key (shown
// once, with ready-to-paste snippets for the usual clients), edit its limits, enable or disable
// it, delete it; per-key usage per day from the statistics API.
import { h, mount, sensitive, badge, toast, dialog, confirmDialog, copyButton, spinner, errorText, table } from '../lib/dom.js';
import { get, post, patch, del } from '../lib/api.js';
import { num, compact, credits, date, dateTime, relTime, nowUnix } from '../lib/format.js';
import { timeChart, quotaBar } from '../lib/chart.js';
import { rememberKey } from '../lib/keystore.js';
import { snippetModel, snippets } from './keys/snippets.js';

const DAY = 86400;
/** Stands for the key in snippets of an existing key (the proxy cannot show it again). */
const PLACEHOLDER = 'YOUR_API_KEY';
/** The `<datalist>` of model names the allow-list input offers. */
const DATALIST_ID = 'keys-model-names';

// ---- small helpers ----

/** The field a 400 names: "`rpm` must be…" → "rpm", "`models[2]` …" → "models". */
function errorField(err) {
  const m = /^`([^`]+)`/.exec((err && err.message) || '');
  return m ? m[1].replace(/\[\d+\]$/, '') : null;
}

let controlSeq = 0;

/**
 * A labelled input with a slot for its own error message. `content` defaults to `input`; when
 * it is a group of several controls the wrapper is a labelled group rather than a <label> (a
 * label would forward clicks on its text to the group's first button).
 */
function control(label, input, hint, content = input) {
  const error = h('span', { class: 'error-text small field-error', role: 'alert' });
  const hintEl = hint ? h('span', { class: 'hint' }, hint) : null;
  let el;
  if (content === input) {
    el = h('label', { class: 'field' }, h('span', {}, label), input, hintEl, error);
  } else {
    controlSeq += 1;
    const id = `keys-group-${controlSeq}`;
    el = h('div', { class: 'field', role: 'group', 'aria-labelledby': id }, h('span', { id }, label), content, hintEl, error);
  }
  return {
    el,
    input,
    setError(message) {
      error.textContent = message || '';
      input.classList.toggle('invalid', Boolean(message));
      if (message) input.setAttribute('aria-invalid', 'true'); else input.removeAttribute('aria-invalid');
    },
  };
}

/** A positive whole number from an input, `null` when empty, or an error text. */
function limitValue(input) {
  const raw = input.value.trim();
  if (raw === '') return { value: null };
  if (input.validity && input.validity.badInput) return { error: 'must be a whole number' };
  return { value: Number(raw) };
}

/** `YYYY-MM-DD` of a Unix time, in local time (what `<input type=date>` shows). */
function localDay(unix) {
  if (!unix) return '';
  const d = new Date(unix * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The end of a local day `YYYY-MM-DD` as Unix seconds. */
function endOfDay(day) {
  const [y, m, d] = day.split('-').map(Number);
  return Math.floor(new Date(y, m - 1, d, 23, 59, 59).getTime() / 1000);
}

function limitsText(k) {
  const parts = [];
  if (k.rpm) parts.push(`${num(k.rpm)} req/min`);
  if (k.tpm) parts.push(`${compact(k.tpm)} tok/min`);
  if (k.monthlyTokens) parts.push(`${compact(k.monthlyTokens)} tok/month`);
  return parts;
}

/** Items separated by middle dots. */
function dotted(items) {
  const out = [];
  for (const item of items.filter(Boolean)) {
    if (out.length) out.push(h('span', { class: 'keys-dot', 'aria-hidden': 'true' }, '·'));
    out.push(typeof item === 'string' ? h('span', {}, item) : item);
  }
  return out;
}

function statusBadge(k) {
  if (k.expired) return badge('Expired', 'bad');
  if (!k.enabled) return badge('Disabled', 'warn');
  return badge('Active', 'ok');
}

// ---- snippets ----

// ---- the create / edit form ----

function keyForm(catalogue, initial = {}) {
  const name = control('Name', h('input', { type: 'text', maxlength: '100', required: true, value: initial.name || '', placeholder: 'e.g. alice-laptop, ci-bot' }),
    'A label for people: who or what uses the key.');
  const initialDay = localDay(initial.expiresAt);
  const expires = control('Expires', h('input', { type: 'date', value: initialDay }),
    'Empty: never. The key stops working at the end of that day (local time).');
  const rpm = control('Requests per minute', h('input', { type: 'number', min: '1', step: '1', inputmode: 'numeric', placeholder: 'no limit', value: initial.rpm ?? '' }));
  const tpm = control('Tokens per minute', h('input', { type: 'number', min: '1', step: '1', inputmode: 'numeric', placeholder: 'no limit', value: initial.tpm ?? '' }));
  const monthly = control('Tokens per month', h('input', { type: 'number', min: '1', step: '1', inputmode: 'numeric', placeholder: 'no budget', value: initial.monthlyTokens ?? '' }),
    'Input plus output tokens, calendar month (UTC).');

  // The model allow-list: chips, added from the catalogue and aliases or typed freely.
  const models = [...(initial.models || [])];
  const chips = h('div', { class: 'row keys-chips', 'aria-live': 'polite' });
  const modelInput = h('input', { type: 'text', list: DATALIST_ID, placeholder: 'model or alias', 'aria-label': 'Add an allowed model' });
  const addModel = () => {
    const v = modelInput.value.trim();
    if (v && !models.includes(v)) models.push(v);
    modelInput.value = '';
    drawChips();
  };
  modelInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') { e.preventDefault(); addModel(); }
  });
  function drawChips() {
    mount(chips, models.length
      ? models.map((m) => h('span', { class: 'badge accent keys-chip' }, m,
        h('button', { type: 'button', class: 'ghost small', 'aria-label': `Remove ${m}`, onclick: () => { models.splice(models.indexOf(m), 1); drawChips(); } }, '×')))
      : h('span', { class: 'muted small' }, 'All models allowed.'));
  }
  drawChips();
  const datalist = h('datalist', { id: DATALIST_ID },
    catalogue.ids.map((id) => h('option', { value: id })),
    catalogue.aliases.map((a) => h('option', { value: a, label: `alias → ${catalogue.mapping[a]}` })));
  const modelsCtl = control('Allowed models', modelInput,
    'Empty: every model. Pick from the catalogue and your aliases, or type any name.',
    h('div', { class: 'stack keys-models' }, chips, h('div', { class: 'row' }, modelInput, h('button', { type: 'button', class: 'small', onclick: addModel }, 'Add'))));

  const controls = { name, expiresAt: expires, rpm, tpm, monthlyTokens: monthly, models: modelsCtl };
  const general = h('p', { class: 'error-text field-error keys-flush', role: 'alert' });
  const el = h('form', { class: 'stack', novalidate: true },
    h('div', { class: 'form-grid' }, name.el, expires.el),
    modelsCtl.el, datalist,
    h('div', { class: 'form-grid keys-limits' }, rpm.el, tpm.el, monthly.el),
    general);

  function clearErrors() {
    Object.values(controls).forEach((c) => c.setError(''));
    general.textContent = '';
  }

  /** The body to send (only changed fields when editing), or null after showing an error. */
  function read() {
    clearErrors();
    if (modelInput.value.trim()) addModel();
    const body = {};
    const n = name.input.value.trim();
    if (!n) { name.setError('A name is required.'); name.input.focus(); return null; }
    if (n !== initial.name) body.name = n;
    const day = expires.input.value;
    if (day !== initialDay) body.expiresAt = day ? endOfDay(day) : null;
    for (const [field, ctl] of [['rpm', rpm], ['tpm', tpm], ['monthlyTokens', monthly]]) {
      const r = limitValue(ctl.input);
      if (r.error) { ctl.setError(r.error); ctl.input.focus(); return null; }
      if (r.value !== (initial[field] ?? null)) body[field] = r.value;
    }
    if (JSON.stringify(models) !== JSON.stringify(initial.models || [])) body.models = models;
    return body;
  }

  /** Shows a server error next to the field it names. */
  function showError(err) {
    const ctl = controls[errorField(err)];
    if (ctl) { ctl.setError(errorText(err)); ctl.input.focus(); } else general.textContent = errorText(err);
  }

  return { el, read, showError, focus: () => name.input.focus() };
}

/** Opens a form dialog; `submit(body)` sends it. Enter in a field submits. */
function formDialog({ title, form, submitLabel, submit, onDone }) {
  let result = null;
  const d = dialog({
    title,
    body: form.el,
    actions: [
      { label: 'Cancel' },
      {
        label: submitLabel,
        kind: 'primary',
        onClick: async () => {
          const body = form.read();
          if (!body) return false;
          try {
            result = await submit(body);
          } catch (err) {
            form.showError(err);
            return false;
          }
          return true;
        },
      },
    ],
    onClose: () => { if (result) onDone(result); },
  });
  const submitNow = () => d.el.querySelector('.dialog-foot button.primary').click();
  form.el.addEventListener('submit', (e) => { e.preventDefault(); submitNow(); });
  // Enter in a field submits (the form has no submit button of its own for implicit submission;
  // the allow-list input handles its own Enter).
  form.el.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.defaultPrevented && e.target instanceof HTMLInputElement) {
      e.preventDefault();
      submitNow();
    }
  });
  form.focus();
  return d;
}

// ---- the page ----

export default {
  async render(root, ctx) {
    const state = { keys: [], stats: null, catalogue: { ids: [], aliases: [], mapping: {}, defaultModel: null } };
    const summary = h('div', { class: 'grid-stats keys-summary' });
    const listHost = h('div', {}, spinner('Loading keys…'));
    const statsNote = h('span', { class: 'muted small' });
    const configuredNote = h('span', { class: 'keys-configured' });

    ctx.setActions(
      h('button', { type: 'button', class: 'ghost small', onclick: () => refresh(true) }, '↻ Refresh'),
      h('button', { type: 'button', class: 'primary', onclick: () => openCreate() }, '+ New key'),
    );
    mount(root,
      summary,
      h('section', { class: 'card' },
        h('div', { class: 'card-head' }, h('h2', { class: 'grow' }, 'Client keys'), statsNote),
        h('p', { class: 'muted small keys-intro' },
          'Clients send a key as Authorization: Bearer … or x-api-key. A key is shown once, when it is created; the proxy stores only its hash. '
          + 'Limits answer 429 with retry-after; a disabled or expired key gets 401.', ' ', configuredNote),
        listHost));

    async function loadCatalogue() {
      try {
        const m = await get('/api/models');
        state.catalogue = {
          ids: (m.models || []).map((x) => x.id),
          aliases: Object.keys(m.mapping || {}),
          mapping: m.mapping || {},
          defaultModel: m.defaultModel || null,
        };
      } catch { /* snippets fall back to a known model name; the form still takes free text */ }
    }

    async function loadStats() {
      try {
        state.stats = await get('/api/stats?by=key&period=day');
      } catch {
        state.stats = null;
      }
    }

    /** Requests and tokens of a key over the stats window. */
    function usageOf(id) {
      const t = { requests: 0, errors: 0, tokens: 0, inputTokens: 0, outputTokens: 0, credits: 0 };
      for (const b of (state.stats && state.stats.buckets) || []) {
        if (b.key !== id) continue;
        t.requests += b.requests || 0;
        t.errors += b.errors || 0;
        t.inputTokens += b.inputTokens || 0;
        t.outputTokens += b.outputTokens || 0;
        t.credits += b.credits || 0;
      }
      t.tokens = t.inputTokens + t.outputTokens;
      return t;
    }

    function drawSummary() {
      const keys = state.keys;
      const active = keys.filter((k) => k.enabled && !k.expired).length;
      const sum = (f) => keys.reduce((a, k) => a + ((k.usage && k.usage[f]) || 0), 0);
      const stat = (label, value, sub) => h('div', { class: 'card stat' },
        h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value), h('div', { class: 'stat-sub' }, sub));
      const month = keys.find((k) => k.usage)?.usage.month;
      mount(summary,
        stat('Keys', num(keys.length), `${num(active)} active · ${num(keys.length - active)} off or expired`),
        stat('Requests / min', num(sum('requestsLastMinute')), `${compact(sum('tokensLastMinute'))} tokens in the last minute`),
        stat('Tokens / month', compact(sum('tokensThisMonth')), month ? `calendar month ${month} (UTC)` : 'calendar month (UTC)'),
        stat('In flight', num(sum('inFlight')), 'requests running now'));
    }

    function drawTable() {
      const columns = [
        {
          label: 'Name',
          render: (k) => h('div', { class: 'keys-name' }, h('strong', {}, k.name), sensitive(k.prefix + '…', 'code')),
        },
        {
          label: 'Status',
          render: (k) => {
            const soon = k.expiresAt && !k.expired && k.expiresAt - nowUnix() < 7 * DAY;
            let line;
            if (!k.expiresAt) line = h('span', { class: 'muted small' }, 'no expiry');
            else if (k.expired) line = h('span', { class: 'small error-text', title: dateTime(k.expiresAt) }, `since ${date(k.expiresAt)}`);
            else line = h('span', { class: ['small', soon ? 'keys-soon' : 'muted'], title: dateTime(k.expiresAt) }, `expires ${relTime(k.expiresAt)}`);
            return h('div', { class: 'keys-lines keys-status' }, h('span', {}, statusBadge(k)), line);
          },
        },
        {
          label: 'Last used',
          render: (k) => h('div', { class: 'keys-lines' },
            h('span', { title: k.lastUsedAt ? dateTime(k.lastUsedAt) : '' }, k.lastUsedAt ? relTime(k.lastUsedAt) : 'never'),
            h('span', { class: 'muted small', title: dateTime(k.createdAt) }, `created ${date(k.createdAt)}`)),
        },
        {
          label: 'Models',
          render: (k) => (k.models.length
            ? h('div', { class: 'row keys-model-badges' }, k.models.slice(0, 2).map((m) => badge(m, 'info')), k.models.length > 2 ? badge(`+${k.models.length - 2}`) : null)
            : h('span', { class: 'muted' }, 'all')),
        },
        {
          label: 'Per minute',
          num: true,
          render: (k) => {
            const u = k.usage || {};
            const near = (used, limit) => (limit && used >= 0.8 * limit ? 'keys-soon' : '');
            return h('div', { class: 'keys-lines' },
              h('span', { class: near(u.requestsLastMinute, k.rpm) }, `${num(u.requestsLastMinute)}${k.rpm ? ` / ${num(k.rpm)}` : ''} req`),
              h('span', { class: ['small', near(u.tokensLastMinute, k.tpm) || 'muted'] }, `${compact(u.tokensLastMinute)}${k.tpm ? ` / ${compact(k.tpm)}` : ''} tok`),
              u.inFlight ? h('span', { class: 'small muted' }, `${num(u.inFlight)} in flight`) : null);
          },
        },
        {
          label: 'This month',
          render: (k) => {
            const used = (k.usage && k.usage.tokensThisMonth) || 0;
            if (!k.monthlyTokens) return h('div', { class: 'keys-lines' }, h('span', {}, `${compact(used)} tok`), h('span', { class: 'muted small' }, 'no budget'));
            const frac = used / k.monthlyTokens;
            return h('div', { class: 'keys-budget', title: `${num(used)} of ${num(k.monthlyTokens)} tokens` },
              h('div', { class: 'row' }, h('span', { class: 'grow' }, `${compact(used)} / ${compact(k.monthlyTokens)}`), h('span', { class: 'muted small' }, `${Math.round(Math.min(frac, 9.99) * 100)} %`)),
              quotaBar(used, k.monthlyTokens));
          },
        },
        {
          label: '30 days',
          num: true,
          render: (k) => {
            if (!state.stats) return h('span', { class: 'muted' }, '–');
            const u = usageOf(k.id);
            return h('div', { class: 'keys-lines' }, h('span', {}, `${num(u.requests)} req`), h('span', { class: 'muted small' }, `${compact(u.tokens)} tok`));
          },
        },
        {
          label: '',
          render: (k) => h('div', { class: 'row keys-actions' },
            h('button', { type: 'button', class: 'small', onclick: () => openEdit(k) }, 'Edit'),
            h('button', { type: 'button', class: 'small', onclick: () => setEnabled(k, !k.enabled) }, k.enabled ? 'Disable' : 'Enable'),
            h('button', { type: 'button', class: 'small danger', onclick: () => remove(k) }, 'Delete')),
        },
      ];
      const empty = h('div', { class: 'stack keys-empty' },
        h('span', {}, 'No client keys yet.'),
        h('span', { class: 'small' }, 'Create one per person or application, so usage and limits are tracked separately.'),
        h('div', {}, h('button', { type: 'button', class: 'primary', onclick: () => openCreate() }, '+ Create the first key')));
      mount(listHost, table(columns, state.keys, {
        empty,
        onRowClick: (k) => openDetail(k),
        rowClass: (k) => (k.enabled && !k.expired ? '' : 'keys-off'),
      }));
      statsNote.textContent = state.keys.length ? 'Click a key for its daily usage and client snippets.' : '';
    }

    let drawn = '';
    let asked = 0;
    async function refresh(withStats = false) {
      // Only the latest answer is drawn: a slow poll must not undo what a change just showed.
      asked += 1;
      const mine = asked;
      try {
        const [list] = await Promise.all([get('/api/keys'), withStats ? loadStats() : null]);
        if (!ctx.isCurrent() || mine !== asked) return;
        state.keys = (list.keys || []).slice().sort((a, b) => b.createdAt - a.createdAt || a.name.localeCompare(b.name));
        const configured = (list.configuredKeys || []).length;
        configuredNote.textContent = configured
          ? `${configured} more key${configured === 1 ? '' : 's'} from the configuration (KIRO_API_KEYS) also work${configured === 1 ? 's' : ''}, without limits; the request log calls ${configured === 1 ? 'it' : 'them'} “configured key #1”${configured > 1 ? ' and on' : ''}.`
          : '';
        // Polling redraws only what changed (keeps hover and focus steady).
        const now = JSON.stringify([state.keys, state.stats && state.stats.buckets]);
        if (now === drawn) return;
        drawn = now;
        drawSummary();
        drawTable();
      } catch (err) {
        if (!ctx.isCurrent() || mine !== asked || err.status === 401) return;
        drawn = '';
        mount(listHost, h('p', { class: 'error-text' }, `Could not load the keys: ${errorText(err)}`));
      }
    }

    function openCreate() {
      formDialog({
        title: 'New API key',
        form: keyForm(state.catalogue),
        submitLabel: 'Create key',
        submit: (body) => post('/api/keys', body),
        onDone: (created) => { showCreated(created); refresh(); },
      });
    }

    function openEdit(k) {
      formDialog({
        title: `Edit ${k.name}`,
        form: keyForm(state.catalogue, k),
        submitLabel: 'Save',
        submit: async (body) => (Object.keys(body).length ? patch(`/api/keys/${encodeURIComponent(k.id)}`, body) : k),
        onDone: () => { toast(`Saved ${k.name}.`, 'ok'); refresh(); },
      });
    }

    async function setEnabled(k, enabled) {
      try {
        await patch(`/api/keys/${encodeURIComponent(k.id)}`, { enabled });
        toast(enabled ? `${k.name} enabled.` : `${k.name} disabled: its requests now get 401.`, enabled ? 'ok' : 'warn');
      } catch (err) {
        toast(errorText(err), 'bad');
      }
      refresh();
    }

    async function remove(k) {
      const ok = await confirmDialog(`Delete ${k.name}?`,
        'Clients using this key get 401 from now on. This cannot be undone; its usage statistics are kept.',
        { confirmLabel: 'Delete key', danger: true });
      if (!ok) return;
      try {
        await del(`/api/keys/${encodeURIComponent(k.id)}`);
        toast(`${k.name} deleted.`, 'ok');
      } catch (err) {
        toast(errorText(err), 'bad');
      }
      refresh();
    }

    /** The one time the key is shown. Nothing keeps it once the dialog closes. */
    function showCreated(created) {
      const secret = created.key;
      const model = snippetModel(created, state.catalogue);
      dialog({
        title: `Key created: ${created.name}`,
        wide: true,
        body: [
          h('div', { class: 'keys-warning', role: 'note' },
            h('strong', {}, 'Copy this key now. '),
            'It is shown only this once: the proxy keeps only a hash and cannot show it again. If it is lost, create a new key and delete this one.'),
          h('div', { class: 'secret-box' }, h('code', { class: 'keys-secret sensitive', 'aria-label': 'New API key' }, secret), copyButton(secret, 'Copy key')),
          h('div', { class: 'row small muted keys-meta' }, dotted([
            h('span', {}, 'Prefix ', sensitive(created.prefix, 'code')),
            created.models.length ? `models: ${created.models.join(', ')}` : 'all models',
            ...limitsText(created),
            created.expiresAt ? `expires ${dateTime(created.expiresAt)}` : null,
          ])),
          h('h3', {}, 'Use it'),
          snippets(secret, model, true),
        ],
        actions: [
          {
            label: '▷ Use in playground',
            onClick: () => {
              rememberKey(created.name, secret);
              setTimeout(() => ctx.navigate('#/playground'), 0);
            },
          },
          { label: 'Done', kind: 'primary' },
        ],
      });
    }

    /** Daily usage, limits and snippets (with a placeholder) of an existing key. */
    async function openDetail(k) {
      const chartHost = h('div', { class: 'stack' }, spinner('Loading usage…'));
      const model = snippetModel(k, state.catalogue);
      const d = dialog({
        title: k.name,
        wide: true,
        body: [
          h('div', { class: 'row small muted keys-meta' }, statusBadge(k), dotted([
            h('span', {}, 'Prefix ', sensitive(k.prefix, 'code')),
            `created ${dateTime(k.createdAt)}`,
            k.lastUsedAt ? `last used ${relTime(k.lastUsedAt)}` : 'never used',
            k.expiresAt ? `${k.expired ? 'expired' : 'expires'} ${dateTime(k.expiresAt)}` : 'no expiry',
          ])),
          h('div', { class: 'row small keys-meta' },
            h('span', { class: 'muted' }, 'Models'), k.models.length ? k.models.map((m) => badge(m, 'info')) : h('span', {}, 'all'),
            h('span', { class: 'muted' }, '· Limits'), h('span', {}, limitsText(k).join(' · ') || 'none')),
          chartHost,
          h('h3', {}, 'Client snippets'),
          h('p', { class: 'muted small keys-flush' }, `Replace ${PLACEHOLDER} with the key (it starts with the prefix above; it was shown once, when it was created).`),
          snippets(PLACEHOLDER, model),
        ],
        actions: [
          { label: 'Edit limits', onClick: () => { setTimeout(() => openEdit(k), 0); } },
          { label: 'Close', kind: 'primary' },
        ],
      });
      try {
        const s = await get('/api/stats?by=key&period=day');
        if (!d.el.isConnected) return;
        mount(chartHost, usageCharts(s, k.id));
      } catch (err) {
        mount(chartHost, h('p', { class: 'error-text' }, `Usage unavailable: ${errorText(err)}`));
      }
    }

    await Promise.all([loadCatalogue(), loadStats()]);
    await refresh();
    // Live usage (requests last minute, in flight) every few seconds; the daily series less often.
    let ticks = 0;
    ctx.every(5000, () => { ticks += 1; refresh(ticks % 12 === 0); });
  },
};

/** Daily requests and tokens of one key over the stats window, with totals. */
function usageCharts(s, id) {
  const byDay = new Map();
  for (const b of s.buckets || []) {
    if (b.key !== id) continue;
    byDay.set(b.start, b);
  }
  const points = [];
  const first = s.since - (s.since % DAY);
  const totals = { requests: 0, errors: 0, input: 0, output: 0, credits: 0 };
  for (let t = first; t < s.until; t += DAY) {
    const b = byDay.get(t) || {};
    const label = new Date(t * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    totals.requests += b.requests || 0;
    totals.errors += b.errors || 0;
    totals.input += b.inputTokens || 0;
    totals.output += b.outputTokens || 0;
    totals.credits += b.credits || 0;
    points.push({ label, title: label, values: [b.inputTokens || 0, b.outputTokens || 0], requests: b.requests || 0 });
  }
  const stat = (label, value) => h('div', { class: 'keys-mini-stat' }, h('div', { class: 'stat-label' }, label), h('div', { class: 'keys-mini-value' }, value));
  return h('div', { class: 'stack' },
    h('div', { class: 'keys-mini-stats' },
      stat('Requests (30 d)', num(totals.requests)),
      stat('Errors', num(totals.errors)),
      stat('Input tokens', compact(totals.input)),
      stat('Output tokens', compact(totals.output)),
      stat('Credits', credits(totals.credits))),
    totals.requests
      ? h('div', { class: 'keys-charts' },
        h('div', { class: 'stack' }, h('h3', {}, 'Requests per day'),
          timeChart({ points: points.map((p) => ({ ...p, values: [p.requests] })), series: [{ name: 'Requests' }], kind: 'bar', height: 160, ariaLabel: 'Requests per day' })),
        h('div', { class: 'stack' }, h('h3', {}, 'Tokens per day'),
          timeChart({ points, series: [{ name: 'Input' }, { name: 'Output' }], kind: 'stack', height: 160, ariaLabel: 'Tokens per day' })))
      : h('p', { class: 'empty' }, 'No requests with this key in the last 30 days.'));
}
