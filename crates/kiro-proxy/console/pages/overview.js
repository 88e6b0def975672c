// The overview: the pool's health, today's traffic, activity charts (24 h by hour, 30 days by
// day), today's top models, keys and accounts, and the operator notice. Refreshes every 10 s
// while shown.
//
// Data: GET /api/accounts (each account's live `pool.state`), GET /api/settings (the notice),
// GET /api/stats (hourly and daily buckets, and today's breakdowns by model, key and account).
// The stats API only returns buckets that saw traffic; the charts fill the gaps with zeros.

import { h, mount, sensitive, errorText, spinner } from '../lib/dom.js';
import { get, query } from '../lib/api.js';
import { timeChart, rankBars } from '../lib/chart.js';
import { num, compact, pct, credits, relTime } from '../lib/format.js';

const HOUR = 3600;
const DAY = 86400;
const REFRESH_MS = 10000;

// How the pool's one-word state (src/accounts/view.rs) reads at a glance.
const BUCKETS = [
  { id: 'usable', label: 'Usable', kind: 'ok', hint: 'serving requests' },
  { id: 'cooling', label: 'Cooling down', kind: 'warn', hint: 'back by itself' },
  { id: 'exhausted', label: 'Exhausted', kind: 'bad', hint: 'out of credits until reset' },
  { id: 'needsLogin', label: 'Needs login', kind: 'bad', hint: 'an operator must act' },
  { id: 'disabled', label: 'Disabled', kind: 'off', hint: 'disabled or weight 0' },
];

const STATE_BUCKET = {
  active: 'usable',
  busy: 'usable', // at its concurrency cap: healthy, just full right now
  cooldown: 'cooling',
  circuit_open: 'cooling',
  half_open: 'cooling', // probing after an open circuit
  exhausted: 'exhausted',
  needs_login: 'needsLogin',
  disabled: 'disabled',
  drained: 'disabled', // weight 0: deliberately out of rotation
};

/** The bucket of an account: its live pool state, else the stored status. */
export function bucketOf(account) {
  if (account.enabled === false) return 'disabled';
  const state = account.pool?.state ?? account.status ?? 'active';
  return STATE_BUCKET[state] || 'usable';
}

/** A display name for an account: label, e-mail, else the start of its id. */
function accountName(a) {
  return a.label || a.email || a.pool?.quota?.email || `${String(a.id).slice(0, 8)}…`;
}

function floorTo(t, step) {
  return t - (((t % step) + step) % step);
}

/** Zero buckets for every period in [since, until) that the API left out. */
function fill(buckets, since, until, step) {
  const byStart = new Map(buckets.map((b) => [b.start, b]));
  const out = [];
  for (let t = floorTo(since, step); t < until; t += step) {
    out.push(byStart.get(t) || { start: t, requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, credits: 0 });
  }
  return out;
}

const shortNf = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });
/** Axis and tooltip values: 8.4K rather than 8,411, so the y axis fits a phone. */
function short(v) {
  return Math.abs(v) >= 1000 ? shortNf.format(v) : num(Math.round(v * 100) / 100);
}
/** Request counts are whole: fractional axis ticks stay unlabelled. */
function whole(v) {
  return Number.isInteger(v) ? num(v) : '';
}

const NARROW = '(max-width: 820px)';

function sum(buckets, field) {
  return buckets.reduce((acc, b) => acc + (Number(b[field]) || 0), 0);
}

/** Today's requests per dimension value, biggest first. */
function ranking(buckets, dim) {
  const totals = new Map();
  for (const b of buckets) {
    const id = b[dim] ?? null;
    const t = totals.get(id) || { id, requests: 0, tokens: 0, errors: 0, bucket: b };
    t.requests += b.requests || 0;
    t.errors += b.errors || 0;
    t.tokens += (b.inputTokens || 0) + (b.outputTokens || 0);
    totals.set(id, t);
  }
  return [...totals.values()].sort((a, b) => b.requests - a.requests);
}

// 24-hour "14:00": short enough for every eighth bar on a phone.
function hourLabel(start) {
  const d = new Date(start * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}
function hourTitle(start) {
  const d = new Date(start * 1000);
  return `${d.toLocaleDateString([], { weekday: 'short', month: 'short', day: 'numeric' })}, ${hourLabel(start)}–${hourLabel(start + HOUR)}`;
}
// Daily buckets are UTC days.
function dayLabel(start) {
  return new Date(start * 1000).toLocaleDateString([], { month: 'short', day: 'numeric', timeZone: 'UTC' });
}
function dayTitle(start) {
  return `${new Date(start * 1000).toLocaleDateString([], { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' })} (UTC)`;
}

async function load() {
  const now = Math.floor(Date.now() / 1000);
  const nowHour = floorTo(now, HOUR);
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  // Hourly buckets: the local day's start rounded down to the hour.
  const todayStart = floorTo(Math.floor(midnight.getTime() / 1000), HOUR);
  const hourSince = Math.min(nowHour - 23 * HOUR, todayStart);
  const daySince = floorTo(now, DAY) - 29 * DAY;
  const until = now + 1;
  const stats = (params) => get(`/api/stats${query({ ...params, until })}`);
  const [accounts, settings, hourly, daily, byModel, byKey, byAccount] = await Promise.all([
    get('/api/accounts'),
    get('/api/settings').catch(() => null), // the notice is optional; the page works without
    stats({ period: 'hour', since: hourSince }),
    stats({ period: 'day', since: daySince }),
    stats({ period: 'hour', since: todayStart, by: 'model' }),
    stats({ period: 'hour', since: todayStart, by: 'key' }),
    stats({ period: 'hour', since: todayStart, by: 'account' }),
  ]);
  const hours = fill(hourly.buckets || [], hourSince, nowHour + HOUR, HOUR);
  return {
    at: now,
    accounts: accounts.accounts || [],
    notice: settings?.notice?.enabled && settings.notice.markdown ? settings.notice.markdown : null,
    today: hours.filter((b) => b.start >= todayStart),
    last24: hours.slice(-24),
    days: fill(daily.buckets || [], daySince, floorTo(now, DAY) + DAY, DAY),
    byModel: ranking(byModel.buckets || [], 'model'),
    byKey: ranking(byKey.buckets || [], 'key'),
    byAccount: ranking(byAccount.buckets || [], 'account'),
  };
}

// ---- sections ----

function noticeCard(text) {
  return h('section', { class: 'card ov-notice', 'aria-label': 'Operator notice' },
    h('div', { class: 'row' }, h('span', { class: 'badge info' }, 'Operator notice'),
      h('span', { class: 'muted small' }, 'added once per conversation to replies')),
    h('p', { class: 'ov-notice-text' }, text),
    h('a', { href: '#/settings', class: 'small' }, 'Edit in Settings'));
}

function emptyCard() {
  return h('section', { class: 'card ov-empty', 'aria-label': 'Get started' },
    h('div', { class: 'ov-empty-mark', 'aria-hidden': 'true' }, '◉'),
    h('h2', {}, 'Add your first account'),
    h('p', { class: 'muted' },
      'kiro-proxy serves client requests through a pool of Kiro accounts, and there are none yet. ',
      'Add one by device login, by importing an IDE token or a backup, or with an API key.'),
    h('a', { class: 'btn primary', href: '#/accounts' }, 'Add an account →'));
}

function poolCard(accounts) {
  const counts = Object.fromEntries(BUCKETS.map((b) => [b.id, 0]));
  for (const a of accounts) counts[bucketOf(a)] += 1;
  const total = accounts.length;

  const tiles = BUCKETS.map((b) => h('div', { class: ['ov-pool-tile', `ov-${b.kind}`, counts[b.id] ? '' : 'ov-zero'], dataset: { bucket: b.id } },
    h('div', { class: 'stat-label' }, b.label),
    h('div', { class: 'stat-value' }, num(counts[b.id])),
    h('div', { class: 'stat-sub' }, b.hint)));

  const bar = h('div', { class: 'ov-pool-bar', role: 'img', 'aria-label': BUCKETS.map((b) => `${b.label}: ${counts[b.id]}`).join(', ') });
  for (const b of BUCKETS) {
    if (!counts[b.id]) continue;
    const seg = h('span', { class: `ov-${b.kind}`, title: `${b.label}: ${counts[b.id]}` });
    seg.style.setProperty('flex-grow', String(counts[b.id]));
    bar.append(seg);
  }

  // Accounts that are out of rotation, with why and until when.
  const attention = accounts
    .filter((a) => ['cooling', 'exhausted', 'needsLogin'].includes(bucketOf(a)))
    .map((a) => {
      const p = a.pool || {};
      const bucket = BUCKETS.find((b) => b.id === bucketOf(a));
      const timed = p.cooldown || p.exhausted;
      let why = p.needsLogin || timed?.reason || a.statusReason || '';
      if (!timed && p.circuit?.state === 'open') why = why || 'circuit open';
      const until = timed?.until || p.circuit?.openUntil;
      return h('li', { class: 'row' },
        h('span', { class: ['badge', bucket.kind] }, bucket.label),
        sensitive(accountName(a), 'strong'),
        why ? h('span', { class: 'muted small grow' }, why) : h('span', { class: 'grow' }),
        until ? h('span', { class: 'muted small nowrap' }, `back ${relTime(until)}`) : null);
    });

  return h('section', { class: 'card', 'aria-label': 'Pool health' },
    h('div', { class: 'card-head' },
      h('h2', { class: 'grow' }, 'Pool health'),
      h('span', { class: 'muted small' }, `${num(total)} account${total === 1 ? '' : 's'}`),
      h('a', { href: '#/accounts', class: 'small' }, 'Manage accounts →')),
    h('div', { class: 'ov-pool' }, tiles),
    bar,
    attention.length ? h('ul', { class: 'ov-attention' }, attention.slice(0, 6)) : null,
    attention.length > 6 ? h('p', { class: 'muted small' }, `and ${attention.length - 6} more on the Accounts page`) : null);
}

function stat(label, value, sub, extra = {}) {
  return h('div', { class: ['card', 'stat', extra.kind ? `ov-stat-${extra.kind}` : ''], dataset: { stat: extra.id } },
    h('div', { class: 'stat-label' }, label),
    h('div', { class: 'stat-value' }, value),
    h('div', { class: 'stat-sub' }, sub));
}

function todayStats(data) {
  const t = data.today;
  const requests = sum(t, 'requests');
  const errors = sum(t, 'errors');
  const input = sum(t, 'inputTokens');
  const output = sum(t, 'outputTokens');
  const cache = sum(t, 'cacheReadTokens');
  const spent = sum(t, 'credits');
  const last24 = sum(data.last24, 'requests');
  const rate = requests ? errors / requests : null;

  const metered = data.accounts.map((a) => a.pool?.quota).filter((q) => q && q.metered);
  const left = metered.reduce((acc, q) => acc + (q.remaining || 0), 0);
  const limit = metered.reduce((acc, q) => acc + (q.limit || 0), 0);

  return h('div', { class: 'grid-stats ov-stats' },
    stat('Requests today', num(requests), `${num(last24)} in the last 24 h`, { id: 'requests' }),
    stat('Tokens today', compact(input + output), `${compact(input)} in · ${compact(output)} out${cache ? ` · ${compact(cache)} cached` : ''}`, { id: 'tokens' }),
    stat('Error rate today', rate === null ? '–' : pct(rate), `${num(errors)} failed of ${num(requests)}`,
      { id: 'errors', kind: rate === null ? '' : rate >= 0.1 ? 'bad' : rate >= 0.02 ? 'warn' : 'ok' }),
    stat('Credits today', credits(spent),
      metered.length ? `${credits(left)} of ${credits(limit)} left in the pool` : 'pool quota not known yet', { id: 'credits' }));
}

function activityCard(data, state, redraw) {
  const days = state.range === 'days';
  const buckets = days ? data.days : data.last24;
  const label = days ? dayLabel : hourLabel;
  const title = days ? dayTitle : hourTitle;
  // The SVG scales with its width: a phone gets a taller drawing (and larger text, in CSS).
  const height = window.matchMedia(NARROW).matches ? 380 : 220;
  const requests = timeChart({
    points: buckets.map((b) => ({ label: label(b.start), title: title(b.start), values: [(b.requests || 0) - (b.errors || 0), b.errors || 0] })),
    series: [{ name: 'Succeeded' }, { name: 'Failed' }],
    kind: 'stack',
    height,
    format: whole,
    ariaLabel: `Requests ${days ? 'per day, last 30 days' : 'per hour, last 24 hours'}`,
  });
  const tokens = timeChart({
    points: buckets.map((b) => ({ label: label(b.start), title: title(b.start), values: [b.inputTokens || 0, b.outputTokens || 0] })),
    series: [{ name: 'Input tokens' }, { name: 'Output tokens' }],
    kind: 'stack',
    height,
    format: short,
    ariaLabel: `Tokens ${days ? 'per day, last 30 days' : 'per hour, last 24 hours'}`,
  });
  const tab = (id, text) => h('button', {
    type: 'button', role: 'tab', 'aria-selected': String(state.range === id),
    onclick: () => { state.range = id; redraw(); },
  }, text);
  const totalReq = sum(buckets, 'requests');
  const totalTok = sum(buckets, 'inputTokens') + sum(buckets, 'outputTokens');
  const period = days ? 'in the last 30 days' : 'in the last 24 hours';
  const overlay = (chart, total) => h('div', { class: 'ov-chart-box' }, chart,
    total ? null : h('div', { class: 'ov-chart-empty' }, h('span', {}, `No requests ${period}`)));
  return h('section', { class: 'card', 'aria-label': 'Activity' },
    h('div', { class: 'card-head' },
      h('h2', { class: 'grow' }, 'Activity'),
      h('div', { class: 'tabs ov-tabs', role: 'tablist' }, tab('hours', 'Last 24 hours'), tab('days', 'Last 30 days'))),
    h('div', { class: 'ov-charts' },
      h('div', { class: 'stack ov-chart ov-chart-requests' },
        h('div', { class: 'row' }, h('h3', { class: 'grow' }, 'Requests'), h('span', { class: 'muted small' }, `${num(totalReq)} total`)),
        overlay(requests, totalReq)),
      h('div', { class: 'stack ov-chart ov-chart-tokens' },
        h('div', { class: 'row' }, h('h3', { class: 'grow' }, 'Tokens'), h('span', { class: 'muted small' }, `${compact(totalTok)} total`)),
        overlay(tokens, totalReq))),
    days ? h('p', { class: 'muted small' }, 'Days are UTC days.') : null);
}

function topCard(title, rows, { labelOf, filter, isSensitive }) {
  const top = rows.slice(0, 5);
  const body = top.length
    ? rankBars(top.map((r) => ({
      label: h('a', { href: `#/requests${query({ [filter]: r.id ?? '', range: 'today' })}`, class: isSensitive ? 'sensitive' : '', title: 'Show these requests' }, labelOf(r)),
      value: r.requests,
      sub: `· ${compact(r.tokens)} tokens${r.errors ? ` · ${num(r.errors)} failed` : ''}`,
    })), { format: (v) => `${num(v)} req` })
    : h('p', { class: 'muted small ov-none' }, 'No requests today.');
  return h('section', { class: 'card', 'aria-label': title },
    h('div', { class: 'card-head' }, h('h2', { class: 'grow' }, title), h('span', { class: 'muted small' }, 'requests today')),
    body);
}

function keyLabel(r) {
  const b = r.bucket || {};
  if (b.keyName) return b.keyPrefix ? `${b.keyName} (${b.keyPrefix}…)` : b.keyName;
  if (b.keyPrefix) return `${b.keyPrefix}…`;
  if (r.id === null) return '(no key)';
  // Keys from the configuration have ids like `config:0`.
  const m = /^config:(\d+)$/.exec(r.id);
  return m ? `configured key #${Number(m[1]) + 1}` : r.id;
}

export default {
  async render(root, ctx) {
    const state = { range: 'hours', data: null, error: null, loading: false };
    const updated = h('span', { class: 'muted small', 'aria-live': 'off' });
    const refreshBtn = h('button', { class: 'small', type: 'button', onclick: () => refresh() }, '↻ Refresh');
    ctx.setActions(updated, refreshBtn);
    mount(root, h('div', { class: 'card' }, spinner('Loading the overview…')));

    const accountNames = () => new Map((state.data?.accounts || []).map((a) => [a.id, accountName(a)]));

    function draw() {
      const data = state.data;
      if (!data) {
        mount(root, h('div', { class: 'card' },
          h('p', { class: 'error-text', role: 'alert' }, `The overview could not be loaded: ${state.error}`),
          h('button', { type: 'button', onclick: () => refresh() }, 'Try again')));
        return;
      }
      const names = accountNames();
      mount(root,
        state.error ? h('p', { class: 'error-text small', role: 'alert' }, `Refresh failed (showing data from ${new Date(data.at * 1000).toLocaleTimeString()}): ${state.error}`) : null,
        data.notice ? noticeCard(data.notice) : null,
        data.accounts.length ? poolCard(data.accounts) : emptyCard(),
        todayStats(data),
        activityCard(data, state, draw),
        h('div', { class: 'grid ov-tops' },
          topCard('Top models', data.byModel, { filter: 'model', labelOf: (r) => r.id ?? '(unknown)' }),
          topCard('Top keys', data.byKey, { filter: 'key', labelOf: keyLabel, isSensitive: true }),
          topCard('Top accounts', data.byAccount, { filter: 'account', labelOf: (r) => (r.id === null ? '(none)' : names.get(r.id) || `${r.id.slice(0, 8)}…`), isSensitive: true })));
    }

    async function refresh() {
      if (state.loading) return;
      state.loading = true;
      refreshBtn.disabled = true;
      try {
        const data = await load();
        state.data = data;
        state.error = null;
        updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
      } catch (err) {
        if (err && err.status === 401) return; // the shell shows the login form
        state.error = errorText(err);
      } finally {
        state.loading = false;
        refreshBtn.disabled = false;
      }
      if (ctx.isCurrent()) draw();
    }

    await refresh();
    ctx.every(REFRESH_MS, refresh);
    // Redraw when crossing the phone width (the charts' drawing height depends on it).
    const media = window.matchMedia(NARROW);
    const onMedia = () => { if (ctx.isCurrent() && state.data) draw(); };
    media.addEventListener('change', onMedia);
    ctx.onLeave(() => media.removeEventListener('change', onMedia));
  },
};
