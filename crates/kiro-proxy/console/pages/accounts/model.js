// What the accounts page reads out of an account view (GET /api/accounts): its name, state,
// token validity and quota, as plain values the cards and the details turn into text.

import { nowUnix } from '../../lib/format.js';

/** Tokens with less than this left are flagged (the proxy refreshes them shortly before). */
export const TOKEN_WARN_SECS = 30 * 60;

/** The pool's one-word state → label, badge kind, filter group. */
const STATES = {
  active: { label: 'usable', kind: 'ok', group: 'usable' },
  busy: { label: 'busy', kind: 'info', group: 'usable', title: 'Usable, at its concurrency limit right now' },
  half_open: { label: 'probing', kind: 'warn', group: 'usable', title: 'Circuit half-open: a few probe requests are let through' },
  cooldown: { label: 'cooling', kind: 'warn', group: 'cooling' },
  circuit_open: { label: 'circuit open', kind: 'bad', group: 'cooling' },
  exhausted: { label: 'exhausted', kind: 'bad', group: 'exhausted' },
  needs_login: { label: 'needs login', kind: 'bad', group: 'needs_login' },
  disabled: { label: 'disabled', kind: '', group: 'disabled' },
  drained: { label: 'drained', kind: '', group: 'disabled', title: 'Weight 0: out of rotation' },
};

/** Filter groups, in the order the page shows them. */
export const GROUPS = [
  { id: 'usable', label: 'Usable' },
  { id: 'cooling', label: 'Cooling' },
  { id: 'exhausted', label: 'Exhausted' },
  { id: 'needs_login', label: 'Needs login' },
  { id: 'disabled', label: 'Disabled' },
];

export const AUTH_METHODS = { social: 'Social login', idc: 'AWS IdC', apiKey: 'API key' };

/** "58 s", "12 min", "3 h 5 min", "4 d". */
export function duration(secs) {
  const s = Math.max(0, Math.round(Number(secs) || 0));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86400) {
    const h = Math.floor(s / 3600);
    const m = Math.round((s % 3600) / 60);
    return m ? `${h} h ${m} min` : `${h} h`;
  }
  return `${Math.round(s / 86400)} d`;
}

/** The quota as the pool knows it (`pool.quota`), or null. */
export function quotaOf(a) {
  const q = a.pool && a.pool.quota;
  return q && (q.limit !== undefined || q.planTitle) ? q : null;
}

/** The e-mail the upstream reported: from the login, else from the last quota answer. */
export function emailOf(a) {
  return a.email || (quotaOf(a) || {}).email || null;
}

/**
 * The name an account is shown and sorted by: its label, else its e-mail, else its id.
 * `identifying` tells whether the name itself should blur in privacy mode.
 */
export function nameOf(a) {
  if (a.label && a.label.trim()) return { text: a.label, identifying: false };
  const email = emailOf(a);
  if (email) return { text: email, identifying: true };
  return { text: a.id, identifying: true };
}

export function byName(a, b) {
  return nameOf(a).text.localeCompare(nameOf(b).text, undefined, { sensitivity: 'base', numeric: true })
    || a.id.localeCompare(b.id);
}

/** The state shown on the card: { label, kind, group, detail?, title? }. */
export function stateOf(a) {
  const p = a.pool;
  if (!p) {
    // Not in the pool yet (just added; the pool reloads within a moment), or stored status only.
    if (!a.enabled) return { ...STATES.disabled };
    if (a.status === 'needs_login') return { ...STATES.needs_login, detail: a.statusReason || '' };
    return { label: 'loading', kind: 'info', group: 'usable', title: 'The pool is loading this account' };
  }
  const base = STATES[p.state] || { label: p.state, kind: '', group: 'usable' };
  const s = { ...base };
  const now = nowUnix();
  if (p.state === 'cooldown' && p.cooldown) {
    s.label = `cooling · ${duration(p.cooldown.until - now)} left`;
    Object.assign(s, { until: p.cooldown.until, prefix: 'cooling' });
    s.detail = p.cooldown.reason;
  } else if (p.state === 'exhausted' && p.exhausted) {
    s.detail = `${p.exhausted.reason}; back in ${duration(p.exhausted.until - now)}`;
  } else if (p.state === 'needs_login') {
    s.detail = p.needsLogin || a.statusReason || '';
  } else if (p.state === 'circuit_open' && p.circuit && p.circuit.openUntil) {
    s.label = `circuit open · ${duration(p.circuit.openUntil - now)}`;
    Object.assign(s, { until: p.circuit.openUntil, prefix: 'circuit open' });
  }
  return s;
}

/** The circuit breaker: { label, kind, title }. */
export function circuitOf(a) {
  const c = a.pool && a.pool.circuit;
  if (!c) return { label: '–', kind: '', title: '' };
  const title = `${c.windowFailures} of ${c.windowRequests} recent requests failed; ${c.consecutiveFailures} in a row; opened ${c.openedTotal}× since start`;
  if (c.state === 'open') return { label: 'open', kind: 'bad', title };
  if (c.state === 'half_open') return { label: 'half-open', kind: 'warn', title };
  return { label: 'closed', kind: 'ok', title };
}

/** Token validity: { label, kind, title }. */
export function tokenOf(a) {
  if (a.authMethod === 'apiKey') return { label: 'API key', kind: '', title: 'API keys do not expire' };
  const at = a.accessTokenExpiresAt;
  if (!a.hasAccessToken || !at) {
    return { label: 'none yet', kind: '', title: 'Fetched with the refresh token on first use' };
  }
  const left = at - nowUnix();
  const title = `Access token valid until ${new Date(at * 1000).toLocaleString()}`;
  if (left <= 0) return { label: 'expired', kind: 'bad', title };
  return { label: `${duration(left)} left`, kind: left < TOKEN_WARN_SECS ? 'warn' : 'ok', title };
}

/** The plan's badge kind: POWER stands out, paid plans in colour, free plans plain. */
export function planKind(title) {
  const t = String(title || '').toUpperCase();
  if (t.includes('POWER')) return 'accent';
  if (t.includes('FREE')) return '';
  return 'info';
}

/** Upstream failures counted against the account (all labels). */
export function errorsOf(a) {
  const f = (a.pool && a.pool.stats && a.pool.stats.failures) || {};
  return Object.values(f).reduce((sum, n) => sum + Number(n || 0), 0);
}

/** The most recent error worth showing: { text, at, source } or null. */
export function lastErrorOf(a) {
  const p = a.pool;
  if (!p) return a.statusReason ? { text: a.statusReason, at: a.updatedAt, source: 'status' } : null;
  const found = [];
  if (p.stats && p.stats.lastError) found.push({ text: p.stats.lastError, at: p.stats.lastErrorAt, source: 'request' });
  if (p.quota && p.quota.lastError) found.push({ text: p.quota.lastError, at: p.quota.lastErrorAt, source: 'quota' });
  found.sort((x, y) => (y.at || 0) - (x.at || 0));
  return found[0] || null;
}

/** The text the filter box searches. */
export function haystack(a) {
  const q = quotaOf(a) || {};
  return [nameOf(a).text, a.label, emailOf(a), a.id, a.userId, a.authMethod, AUTH_METHODS[a.authMethod],
    a.apiRegion, q.planTitle, stateOf(a).label].filter(Boolean).join(' ').toLowerCase();
}
