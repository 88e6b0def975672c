// The request log: GET /api/requests with filters (key, account, model, status, time), newest
// first, paged with the `next` cursor; a row opens the entry (GET /api/requests/{id}, with the
// captured bodies when body capture was on). The filters live in the fragment query
// (#/requests?model=…&status=error) so a filtered view can be shared as a link.

import { h, mount, badge, sensitive, errorText, spinner, dialog, copyButton, field, table } from '../lib/dom.js';
import { get, query } from '../lib/api.js';
import { num, credits, ms, relTime } from '../lib/format.js';

const AUTO_MS = 5000;
const AUTO_KEY = 'kp.requests.auto';

const STATUSES = [
  ['', 'Any status'],
  ['ok', 'Succeeded'],
  ['error', 'Failed'],
  ['4xx', 'Client errors (4xx)'],
  ['429', 'Rate limited (429)'],
  ['5xx', 'Server errors (5xx)'],
];

// Relative ranges resolve when the page loads, so a shared `range=24h` link means "the last day".
const RANGES = [
  ['', 'Any time'],
  ['1h', 'Last hour'],
  ['24h', 'Last 24 hours'],
  ['today', 'Today'],
  ['7d', 'Last 7 days'],
  ['custom', 'Custom…'],
];

function rangeSince(range) {
  const now = Math.floor(Date.now() / 1000);
  switch (range) {
    case '1h': return now - 3600;
    case '24h': return now - 86400;
    case '7d': return now - 7 * 86400;
    case 'today': { const d = new Date(); d.setHours(0, 0, 0, 0); return Math.floor(d.getTime() / 1000); }
    default: return null;
  }
}

/** Unix seconds ↔ the value of a datetime-local input (local time). */
function toLocalInput(unix) {
  if (!unix) return '';
  const d = new Date(Number(unix) * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
function fromLocalInput(value) {
  if (!value) return '';
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? String(Math.floor(t / 1000)) : '';
}

/** A unix-seconds parameter from the fragment (digits only; anything else is dropped). */
function unixParam(v) {
  return /^\d{1,12}$/.test(String(v || '')) ? String(v) : '';
}

function isFailed(e) {
  return Boolean(e.error) || e.status >= 400;
}

function statusBadge(e) {
  const s = Number(e.status);
  let kind = 'ok';
  if (s === 499) kind = '';
  else if (s >= 500) kind = 'bad';
  else if (s >= 400) kind = 'warn';
  else if (e.error) kind = 'bad'; // failed in band, after a 200 had been sent
  const text = s === 499 ? '499 client left' : e.error && s < 400 ? `${s} · failed` : String(s);
  return badge(text, kind);
}

function keyText(e) {
  if (e.keyName) return e.keyPrefix ? `${e.keyName} (${e.keyPrefix}…)` : e.keyName;
  if (e.keyPrefix) return `${e.keyPrefix}…`;
  const m = /^config:(\d+)$/.exec(e.keyId || '');
  if (m) return `configured #${Number(m[1]) + 1}`;
  return e.keyId || '–';
}

function timeCell(e) {
  const d = new Date(e.timeMs || e.time * 1000);
  const today = new Date().toDateString() === d.toDateString();
  const text = today
    ? d.toLocaleTimeString()
    : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  return h('span', { class: 'nowrap', title: d.toLocaleString() }, text);
}

function modelCell(e) {
  const asked = e.modelRequested || '–';
  const used = e.modelUpstream;
  if (!used || used === asked) return h('span', { class: 'mono nowrap' }, asked);
  return h('span', { class: 'mono nowrap' }, asked, h('span', { class: 'muted' }, ' → '), used);
}

const dash = (v) => (v === null || v === undefined || v === '' ? '–' : v);

/** A list of label/value pairs. */
function fields(pairs) {
  return h('dl', { class: 'rq-fields' }, pairs.filter(Boolean).map(([label, value, wide]) => h('div', { class: wide ? 'rq-wide' : '' },
    h('dt', {}, label), h('dd', {}, value === null || value === undefined || value === '' ? '–' : value))));
}

function prettyBody(text) {
  if (text === null || text === undefined) return null;
  try { return JSON.stringify(JSON.parse(text), null, 2); } catch { return text; }
}

export default {
  async render(root, ctx) {
    const p = ctx.params || {};
    const filters = {
      key: p.key || '',
      account: p.account || '',
      model: p.model || '',
      status: STATUSES.some(([v]) => v === p.status) ? p.status : '',
      range: RANGES.some(([v]) => v === p.range) ? p.range : '',
      since: unixParam(p.since),
      until: unixParam(p.until),
    };
    if (!filters.range && (filters.since || filters.until)) filters.range = 'custom';
    const limit = /^\d{1,4}$/.test(p.limit || '') ? Math.min(1000, Math.max(1, Number(p.limit))) : 100;

    const state = { rows: [], next: null, loading: false, error: null, accounts: new Map(), openDialog: null };

    // ---- top bar: auto-refresh and refresh ----
    const autoBox = h('input', { type: 'checkbox', checked: localStorage.getItem(AUTO_KEY) !== '0' });
    const autoToggle = h('label', { class: 'check small', title: `Reload the newest requests every ${AUTO_MS / 1000} s` }, autoBox, 'Auto-refresh');
    autoBox.addEventListener('change', () => localStorage.setItem(AUTO_KEY, autoBox.checked ? '1' : '0'));
    const refreshBtn = h('button', { class: 'small', type: 'button', onclick: () => reload() }, '↻ Refresh');
    ctx.setActions(autoToggle, refreshBtn);

    // ---- filters ----
    const keyInput = h('input', { type: 'search', name: 'key', list: 'rq-keys', placeholder: 'key id or prefix', value: filters.key, autocomplete: 'off' });
    const accountSelect = h('select', { name: 'account' }, h('option', { value: '' }, 'Any account'));
    const modelInput = h('input', { type: 'search', name: 'model', list: 'rq-models', placeholder: 'asked or used', value: filters.model, autocomplete: 'off' });
    const statusSelect = h('select', { name: 'status' }, STATUSES.map(([v, label]) => h('option', { value: v, selected: v === filters.status }, label)));
    const rangeSelect = h('select', { name: 'range' }, RANGES.map(([v, label]) => h('option', { value: v, selected: v === filters.range }, label)));
    const sinceInput = h('input', { type: 'datetime-local', name: 'since', value: toLocalInput(filters.since) });
    const untilInput = h('input', { type: 'datetime-local', name: 'until', value: toLocalInput(filters.until) });
    const keyList = h('datalist', { id: 'rq-keys' });
    const modelList = h('datalist', { id: 'rq-models' });
    const customFields = [field('From', sinceInput), field('To', untilInput)];
    for (const f of customFields) f.classList.add('rq-when');
    const clearBtn = h('button', { type: 'button', class: 'ghost small', onclick: () => clearFilters() }, 'Clear filters');

    const form = h('form', { class: 'card rq-filters', role: 'search', 'aria-label': 'Filter requests' },
      h('div', { class: 'form-grid' },
        field('Key', keyInput),
        field('Account', accountSelect),
        field('Model', modelInput),
        field('Status', statusSelect),
        field('Time', rangeSelect),
        customFields),
      h('div', { class: 'row rq-filter-foot' }, h('span', { class: 'grow muted small rq-summary', 'aria-live': 'polite' }), clearBtn),
      keyList, modelList);

    const summary = form.querySelector('.rq-summary');
    const tableHost = h('div', { class: 'stack rq-table' });
    const moreBtn = h('button', { type: 'button', class: 'rq-more', onclick: () => loadMore() }, 'Load more');
    const foot = h('div', { class: 'row rq-foot' }, moreBtn);
    mount(root, form, tableHost, foot);

    function showCustom() {
      for (const f of customFields) f.classList.toggle('hidden', rangeSelect.value !== 'custom');
    }
    showCustom();

    function readForm() {
      filters.key = keyInput.value.trim();
      filters.account = accountSelect.value;
      filters.model = modelInput.value.trim();
      filters.status = statusSelect.value;
      filters.range = rangeSelect.value;
      filters.since = filters.range === 'custom' ? fromLocalInput(sinceInput.value) : '';
      filters.until = filters.range === 'custom' ? fromLocalInput(untilInput.value) : '';
    }

    function fragment() {
      const f = { ...filters };
      if (f.range === 'custom') f.range = ''; else { f.since = ''; f.until = ''; }
      if (limit !== 100) f.limit = limit;
      return `#/requests${query(f)}`;
    }

    function apiQuery(before) {
      let since = filters.range === 'custom' ? filters.since : rangeSince(filters.range);
      let until = filters.range === 'custom' ? filters.until : '';
      if (since && until && Number(since) >= Number(until)) { since = ''; until = ''; }
      return query({
        key: filters.key, account: filters.account, model: filters.model, status: filters.status,
        since, until, limit, before,
      });
    }

    function applyFilters() {
      readForm();
      showCustom();
      // The fragment follows the filters without reloading the page (no hashchange).
      if (ctx.isCurrent()) history.replaceState(null, '', fragment());
      reload();
    }

    function clearFilters() {
      keyInput.value = '';
      accountSelect.value = '';
      modelInput.value = '';
      statusSelect.value = '';
      rangeSelect.value = '';
      sinceInput.value = '';
      untilInput.value = '';
      applyFilters();
    }

    form.addEventListener('submit', (e) => { e.preventDefault(); applyFilters(); });
    for (const el of [accountSelect, statusSelect, rangeSelect, sinceInput, untilInput, keyInput, modelInput]) {
      el.addEventListener('change', applyFilters);
    }
    // A cleared search box (its ✕) fires `search`, not `change`.
    for (const el of [keyInput, modelInput]) el.addEventListener('search', applyFilters);

    // ---- table ----
    const accountName = (id) => {
      if (!id) return '–';
      const a = state.accounts.get(id);
      return a ? (a.label || a.email || a.pool?.quota?.email || `${id.slice(0, 8)}…`) : `${id.slice(0, 8)}…`;
    };

    // What matters most first: on a phone the first columns are what shows without scrolling.
    const columns = [
      { label: 'Time', render: timeCell },
      { label: 'Status', render: statusBadge },
      { label: 'Model', render: modelCell },
      // One column for how it ended: the stop reason, the error class (in red), or both when a
      // reply failed in band after its start.
      {
        label: 'Outcome',
        render: (e) => h('span', { class: 'nowrap' },
          e.stopReason ? h('span', {}, e.stopReason) : null,
          e.stopReason && e.error ? h('span', { class: 'muted' }, ' · ') : null,
          e.error ? h('span', { class: 'error-text', title: e.errorMessage || '' }, e.error) : null,
          !e.stopReason && !e.error ? h('span', { class: 'muted' }, '–') : null),
      },
      {
        label: 'Tokens in/out/cache',
        num: true,
        render: (e) => h('span', { title: `input ${num(e.inputTokens)} · output ${num(e.outputTokens)} · cache read ${num(e.cacheReadTokens)} · cache write ${num(e.cacheWriteTokens)}` },
          num(e.inputTokens), h('span', { class: 'muted' }, ' / '), num(e.outputTokens), h('span', { class: 'muted' }, ' / '),
          num((e.cacheReadTokens || 0) + (e.cacheWriteTokens || 0))),
      },
      {
        label: 'Latency/TTFT',
        num: true,
        render: (e) => h('span', { title: `latency ${ms(e.latencyMs)} · time to first token ${ms(e.ttftMs)} · upstream ${ms(e.upstreamMs)}` },
          ms(e.latencyMs), h('span', { class: 'muted' }, ' / '), ms(e.ttftMs)),
      },
      { label: 'Credits', num: true, render: (e) => credits(e.credits) },
      { label: 'Key', render: (e) => sensitive(keyText(e)) },
      { label: 'Account', render: (e) => sensitive(accountName(e.account)) },
      { label: 'Client IP', render: (e) => sensitive(dash(e.clientIp)) },
      { label: 'Dialect', render: (e) => h('span', { class: 'nowrap' }, e.dialect || '–', e.stream ? h('span', { class: 'muted small' }, ' · stream') : null) },
    ];

    function filtered() {
      return Boolean(filters.key || filters.account || filters.model || filters.status || filters.range);
    }

    function drawTable() {
      const empty = state.error
        ? h('span', { class: 'error-text', role: 'alert' }, `The request log could not be loaded: ${state.error}`)
        : filtered() ? 'No request matches these filters.' : 'No requests yet. They appear here about a second after they finish.';
      mount(tableHost, table(columns, state.rows, {
        empty,
        onRowClick: openDetail,
        rowClass: (e) => (isFailed(e) ? 'rq-failed' : ''),
      }));
      const n = state.rows.length;
      summary.textContent = state.loading && !n ? 'Loading…'
        : `${num(n)} request${n === 1 ? '' : 's'} shown${state.next ? ' (more below)' : ''}, newest first${filtered() ? ', filtered' : ''}.`;
      clearBtn.classList.toggle('hidden', !filtered());
      moreBtn.classList.toggle('hidden', !state.next);
      if (state.error && n) summary.textContent += ` Refresh failed: ${state.error}`;
    }

    let generation = 0; // a newer reload makes older answers stale
    async function reload() {
      const gen = ++generation;
      state.loading = true;
      refreshBtn.disabled = true;
      try {
        const page = await get(`/api/requests${apiQuery()}`);
        if (gen !== generation || !ctx.isCurrent()) return;
        state.rows = page.requests || [];
        state.next = page.next || null;
        state.error = null;
      } catch (err) {
        if (gen !== generation || !ctx.isCurrent()) return;
        if (err && err.status === 401) return;
        state.error = errorText(err);
        state.rows = [];
        state.next = null;
      } finally {
        if (gen === generation) { state.loading = false; refreshBtn.disabled = false; }
      }
      drawTable();
    }

    // Auto-refresh: new requests are merged on top, keeping the pages already loaded below.
    async function poll() {
      if (!autoBox.checked || state.loading || document.hidden) return;
      if (!state.rows.length || state.error) { await reload(); return; }
      const gen = generation;
      try {
        const page = await get(`/api/requests${apiQuery()}`);
        if (gen !== generation || !ctx.isCurrent()) return;
        const seen = new Set(state.rows.map((e) => `${e.requestId}@${e.timeMs}`));
        const fresh = (page.requests || []).filter((e) => !seen.has(`${e.requestId}@${e.timeMs}`));
        if (!fresh.length) return;
        state.rows = [...fresh, ...state.rows].sort((a, b) => b.timeMs - a.timeMs);
        drawTable();
      } catch { /* the next tick tries again; a manual refresh shows the error */ }
    }

    async function loadMore() {
      if (!state.next) return;
      moreBtn.disabled = true;
      const gen = generation;
      try {
        const page = await get(`/api/requests${apiQuery(state.next)}`);
        if (gen !== generation || !ctx.isCurrent()) return;
        state.rows = state.rows.concat(page.requests || []);
        state.next = page.next || null;
        drawTable();
      } catch (err) {
        summary.textContent = `Could not load more: ${errorText(err)}`;
      } finally {
        moreBtn.disabled = false;
      }
    }

    // ---- detail ----
    function detailBody(e, bodies, note) {
      const out = [];
      if (note) out.push(h('p', { class: 'error-text small', role: 'alert' }, note));
      out.push(h('div', { class: 'row' },
        statusBadge(e),
        e.error ? h('span', { class: 'error-text' }, e.error) : null,
        h('span', { class: 'grow' }),
        h('span', { class: 'muted small' }, relTime(e.time))));
      out.push(h('h3', {}, 'Request'), fields([
        ['Request id', h('span', { class: 'row' }, h('code', { class: 'rq-id' }, e.requestId), copyButton(e.requestId)), true],
        ['Time', h('span', {}, new Date(e.timeMs || e.time * 1000).toLocaleString(), h('br'),
          h('span', { class: 'muted small mono' }, new Date(e.timeMs || e.time * 1000).toISOString()))],
        ['Key', h('span', {}, sensitive(keyText(e)), e.keyId ? h('span', { class: 'muted small' }, ' · id ', sensitive(e.keyId)) : null)],
        ['Client IP', sensitive(dash(e.clientIp))],
        ['Dialect', e.dialect],
        ['Streaming', e.stream ? 'yes' : 'no'],
      ]));
      out.push(h('h3', {}, 'Routing'), fields([
        ['Model asked', h('span', { class: 'mono' }, dash(e.modelRequested))],
        ['Model used', h('span', { class: 'mono' }, dash(e.modelUpstream))],
        ['Account', e.account ? h('span', {}, sensitive(accountName(e.account)), h('span', { class: 'muted small' }, ' · id ', sensitive(e.account))) : '–', true],
        ['Attempts', num(e.attempts)],
      ]));
      out.push(h('h3', {}, 'Outcome'), fields([
        ['Status', String(e.status)],
        ['Stop reason', dash(e.stopReason)],
        ['Error class', dash(e.error)],
        e.errorMessage ? ['Error message', h('span', { class: 'error-text rq-error-message' }, e.errorMessage), true] : null,
        ['Client disconnected', e.clientDisconnected ? 'yes' : 'no'],
      ]));
      out.push(h('h3', {}, 'Usage and timing'), fields([
        ['Input tokens', num(e.inputTokens)],
        ['Output tokens', num(e.outputTokens)],
        ['Cache read', num(e.cacheReadTokens)],
        ['Cache write', num(e.cacheWriteTokens)],
        ['Credits', credits(e.credits)],
        ['Latency', ms(e.latencyMs)],
        ['Time to first token', ms(e.ttftMs)],
        ['Upstream time', ms(e.upstreamMs)],
      ]));
      if (bodies) {
        out.push(h('h3', {}, 'Captured bodies'));
        if (bodies.truncated) out.push(h('p', { class: 'muted small' }, 'Cut at the capture limit; the text ends with a marker.'));
        for (const [label, text] of [['Request body', bodies.request], ['Response body', bodies.response]]) {
          const pretty = prettyBody(text);
          out.push(h('div', { class: 'stack rq-body' },
            h('div', { class: 'row' }, h('strong', { class: 'grow small' }, label), pretty ? copyButton(pretty) : null),
            pretty ? h('pre', { class: 'rq-pre', 'aria-label': label }, pretty) : h('p', { class: 'muted small' }, 'Not captured.')));
        }
      } else if (bodies === null) {
        out.push(h('p', { class: 'muted small' }, 'Bodies were not captured for this request (body capture is off by default; turn it on in Settings to keep request and reply bodies, secrets redacted).'));
      }
      return out;
    }

    async function openDetail(entry) {
      if (state.openDialog) state.openDialog.close();
      const d = dialog({
        title: 'Request details',
        body: spinner('Loading…'),
        wide: true,
        actions: [{ label: 'Close' }],
        onClose: () => { if (state.openDialog === d) state.openDialog = null; },
      });
      state.openDialog = d;
      try {
        const full = await get(`/api/requests/${encodeURIComponent(entry.requestId)}`);
        mount(d.body, detailBody(full, full.bodies || null));
      } catch (err) {
        // Pruned since the list was loaded: show what the list had.
        mount(d.body, detailBody(entry, undefined, `Could not load the full entry: ${errorText(err)}`));
      }
    }
    ctx.onLeave(() => { if (state.openDialog) state.openDialog.close(); });

    // ---- start ----
    drawTable();
    const lookups = Promise.all([
      get('/api/accounts').catch(() => null),
      get('/api/keys').catch(() => null),
      get('/api/models').catch(() => null),
    ]).then(([accounts, keys, models]) => {
      if (!ctx.isCurrent()) return;
      for (const a of accounts?.accounts || []) state.accounts.set(a.id, a);
      for (const a of accounts?.accounts || []) {
        accountSelect.append(h('option', { value: a.id, selected: a.id === filters.account }, accountName(a.id)));
      }
      if (filters.account && !state.accounts.has(filters.account)) {
        // A shared link naming an account this proxy no longer has: keep the filter visible.
        accountSelect.append(h('option', { value: filters.account, selected: true }, `${filters.account.slice(0, 8)}… (deleted)`));
      }
      for (const k of keys?.keys || []) keyList.append(h('option', { value: k.prefix }, k.name));
      const names = new Set([...(models?.models || []).map((m) => m.id), ...Object.keys(models?.mapping || {})]);
      for (const n of [...names].sort()) modelList.append(h('option', { value: n }));
    });
    // The account filter needs the list before the first query can show the selected account.
    if (filters.account) await lookups;
    await reload();
    lookups.then(() => { if (ctx.isCurrent()) drawTable(); });
    ctx.every(AUTO_MS, poll);
    // `#/requests?id=req_…` (the playground links replies here) opens that entry at once.
    if (typeof p.id === 'string' && /^[A-Za-z0-9_-]{1,80}$/.test(p.id)) openDetail({ requestId: p.id });
  },
};
