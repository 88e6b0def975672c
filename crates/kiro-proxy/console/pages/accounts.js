// The accounts page: one card per upstream account (plan, quota, token validity, state, circuit,
// load and errors), a filter, and the operator's actions on each; adding accounts (device login,
// import, API key) and the backup export are in ./accounts/add.js.

import { h, mount, sensitive, badge, toast, dialog, confirmDialog, field, errorText, spinner } from '../lib/dom.js';
import { get, post, patch, del } from '../lib/api.js';
import { num, credits, pct, date, dateTime, relTime, nowUnix } from '../lib/format.js';
import { quotaBar } from '../lib/chart.js';
import {
  GROUPS, AUTH_METHODS, nameOf, emailOf, byName, stateOf, circuitOf, tokenOf, quotaOf, planKind,
  errorsOf, lastErrorOf, haystack, duration,
} from './accounts/model.js';
import { openAddDialog, exportBackup } from './accounts/add.js';

const REFRESH_MS = 10000;

export default {
  title: 'Accounts',
  async render(root, ctx) {
    const state = { accounts: null, filter: ctx.params.q || '', group: ctx.params.state || '', flash: null, loading: false, error: null, at: null };

    const filter = h('input', { type: 'search', placeholder: 'Filter by name, e-mail, plan, state…', 'aria-label': 'Filter accounts', value: state.filter });
    filter.addEventListener('input', () => { state.filter = filter.value; draw(); });
    const chips = h('div', { class: 'row acct-chips', role: 'group', 'aria-label': 'Show accounts by state' });
    const updated = h('span', { class: 'muted small acct-updated', 'aria-live': 'off' });
    const warning = h('div', { class: 'acct-warning hidden', role: 'alert' });
    const toolbar = h('div', { class: 'acct-toolbar' }, chips, h('div', { class: 'acct-search' }, updated, filter));
    const grid = h('div', { class: 'acct-grid' }, h('div', { class: 'card empty' }, spinner('Loading accounts…')));
    mount(root,
      toolbar,
      warning, grid);

    const added = (view) => {
      if (view && view.id) state.flash = view.id;
      settle();
    };
    // Short labels on a phone; the accessible names stay whole.
    const addBtn = h('button', { class: 'primary', type: 'button', 'aria-label': 'Add account', onclick: () => openAddDialog({ onAdded: added }) },
      '+ Add', h('span', { class: 'acct-wide' }, 'account'));
    const exportBtn = h('button', { type: 'button', 'aria-label': 'Export backup', onclick: exportBackup, title: 'Download every account, secrets included' },
      '⤓ Export', h('span', { class: 'acct-wide' }, 'backup'));
    const refreshAllBtn = h('button', { type: 'button', 'aria-label': 'Refresh all', title: 'Refresh the token and quota of every enabled account now' },
      '↻', h('span', { class: 'acct-wide' }, 'Refresh all'));
    refreshAllBtn.addEventListener('click', async () => {
      refreshAllBtn.disabled = true;
      try { await refreshAll(); } finally { refreshAllBtn.disabled = false; }
    });
    ctx.setActions(refreshAllBtn, exportBtn, addBtn);

    async function load() {
      if (state.loading) return;
      state.loading = true;
      try {
        const data = await get('/api/accounts');
        if (!ctx.isCurrent()) return;
        state.accounts = (data.accounts || []).slice().sort(byName);
        state.error = null;
        state.at = new Date();
      } catch (err) {
        if (err.status === 401) return;
        state.error = errorText(err);
      } finally {
        state.loading = false;
      }
      if (ctx.isCurrent()) draw();
    }

    function draw() {
      warning.classList.toggle('hidden', !state.error || !state.accounts);
      if (state.error && state.accounts) mount(warning, `Could not refresh the list: ${state.error}. Showing the last known state.`);
      updated.textContent = state.at ? `Updated ${state.at.toLocaleTimeString()} · every ${REFRESH_MS / 1000} s` : '';
      if (!state.accounts) {
        mount(grid, h('div', { class: 'card empty' },
          h('p', { class: 'error-text' }, `Could not load the accounts: ${state.error}`),
          h('button', { type: 'button', onclick: load }, 'Try again')));
        return;
      }
      drawChips();
      // Nothing to filter in an empty pool.
      toolbar.classList.toggle('hidden', !state.accounts.length);
      if (!state.accounts.length) {
        mount(grid, emptyState());
        return;
      }
      const needle = state.filter.trim().toLowerCase();
      const shown = state.accounts.filter((a) => (!state.group || stateOf(a).group === state.group)
        && (!needle || haystack(a).includes(needle)));
      if (!shown.length) {
        mount(grid, h('div', { class: 'card empty' }, 'No account matches this filter. ',
          h('button', { type: 'button', class: 'small', onclick: () => { state.filter = ''; state.group = ''; filter.value = ''; draw(); } }, 'Clear filter')));
        return;
      }
      mount(grid, shown.map(card));
      state.flash = null;
    }

    function drawChips() {
      const counts = {};
      for (const a of state.accounts) counts[stateOf(a).group] = (counts[stateOf(a).group] || 0) + 1;
      const chip = (id, label, n) => h('button', {
        type: 'button', class: ['chip', id ? `chip-${id}` : ''], 'aria-pressed': String(state.group === id),
        onclick: () => { state.group = state.group === id ? '' : id; draw(); },
      }, label, h('span', { class: 'chip-count' }, num(n)));
      mount(chips, chip('', 'All', state.accounts.length),
        GROUPS.filter((g) => counts[g.id] || state.group === g.id).map((g) => chip(g.id, g.label, counts[g.id] || 0)));
    }

    function emptyState() {
      const open = (tab) => () => openAddDialog({ tab, onAdded: added });
      return h('div', { class: 'card acct-empty' },
        h('h2', {}, 'No accounts yet'),
        h('p', { class: 'muted' }, 'The proxy sends every request through one of your Kiro accounts. Add one to get started.'),
        h('div', { class: 'row' },
          h('button', { class: 'primary', type: 'button', onclick: open('device') }, 'Log in with a device code'),
          h('button', { type: 'button', onclick: open('import') }, 'Import a token file'),
          h('button', { type: 'button', onclick: open('apikey') }, 'Add an API key')));
    }

    // ---- one card ----
    function card(a) {
      const name = nameOf(a);
      const st = stateOf(a);
      const q = quotaOf(a);
      const p = a.pool || {};
      const stats = p.stats || {};
      const tok = tokenOf(a);
      const circ = circuitOf(a);
      const err = lastErrorOf(a);
      const email = emailOf(a);
      const fact = (label, value, title) => h('div', { class: 'acct-fact', title: title || null },
        h('span', { class: 'acct-fact-label' }, label), h('span', { class: 'acct-fact-value' }, value));

      const head = h('div', { class: 'acct-head' },
        h('div', { class: 'acct-title grow' },
          h('h2', { class: ['acct-name', name.identifying ? 'sensitive' : ''] },
            h('button', { type: 'button', class: 'acct-link', onclick: () => details(a), title: 'Details' }, name.text)),
          h('div', { class: 'acct-sub muted small' },
            AUTH_METHODS[a.authMethod] || a.authMethod, ' · ', a.apiRegion,
            email && name.text !== email ? [' · ', sensitive(email)] : null)),
        badge(st.label, st.kind));
      const stBadge = head.lastChild;
      if (st.title) stBadge.title = st.title;
      if (st.until) {
        stBadge.dataset.until = String(st.until);
        stBadge.dataset.prefix = st.prefix;
      }

      const quota = h('div', { class: 'acct-quota' });
      if (q && q.metered) {
        const used = Math.max(0, q.used);
        mount(quota,
          h('div', { class: 'acct-quota-line' },
            h('span', {}, h('strong', {}, credits(used)), h('span', { class: 'muted' }, ` / ${credits(q.limit)} credits`)),
            h('span', { class: 'muted small' }, q.limit > 0 ? pct(used / q.limit, 0) : '')),
          quotaBar(used, q.limit),
          h('div', { class: 'muted small acct-quota-line' },
            h('span', {}, q.nextReset ? `Resets ${date(q.nextReset)} (${relTime(q.nextReset)})` : 'Reset date unknown'),
            q.stale ? h('span', { title: 'The figure is older than the refresh interval' }, 'stale') : null));
      } else {
        mount(quota, h('div', { class: 'muted small acct-quota-none' },
          q ? 'The upstream reported no credit limit for this plan.' : (p.quota && p.quota.lastError ? 'Quota unavailable (see the error below).' : 'Quota not fetched yet.')));
      }

      const facts = h('div', { class: 'acct-facts' },
        fact('Token', badge(tok.label, tok.kind), tok.title),
        fact('Circuit', badge(circ.label, circ.kind), circ.title),
        fact('Weight', num(a.weight), 'Relative share of requests (0: out of rotation)'),
        fact('Requests', num(stats.requests || 0), stats.lastUsedAt ? `Last used ${dateTime(stats.lastUsedAt)}` : 'Not used since the proxy started'),
        fact('Errors', h('span', { class: errorsOf(a) ? 'error-text' : '' }, num(errorsOf(a))), failuresTitle(stats)),
        fact('In flight', p.concurrency ? `${p.concurrency.inFlight} / ${p.concurrency.limit}` : '–', 'Requests running now / the per-account limit'));

      const notes = [];
      if (st.detail) notes.push(h('div', { class: ['acct-note', st.kind || 'info'] }, h('strong', {}, `${capital(st.label.split(' · ')[0])}: `), st.detail));
      if (err && err.text !== st.detail) {
        notes.push(h('div', { class: 'acct-note bad acct-error' },
          h('div', { class: 'acct-note-head' }, h('strong', {}, err.source === 'quota' ? 'Last quota error' : 'Last error'),
            err.at ? h('span', { class: 'muted small' }, relTime(err.at)) : null),
          h('div', { class: 'acct-error-text' }, err.text)));
      }

      const busy = (btn, label, fn) => async () => {
        btn.disabled = true;
        mount(btn, spinner(), label);
        try { await fn(); } finally { btn.disabled = false; mount(btn, btn.dataset.label); }
      };
      const button = (label, opts, fn) => {
        const b = h('button', { type: 'button', class: ['small', opts.kind || ''], title: opts.title || null, dataset: { label } }, label);
        b.addEventListener('click', busy(b, opts.busy || label, fn));
        return b;
      };
      const actions = h('div', { class: 'acct-actions' },
        button('Refresh', { busy: 'Refreshing…', title: 'Refresh the token and the quota now' }, () => refresh(a)),
        button('Edit', {}, async () => edit(a)),
        a.enabled
          ? button('Disable', { title: 'Take it out of rotation' }, () => action(a, 'disable', `${name.text} disabled`))
          : button('Enable', {}, () => action(a, 'enable', `${name.text} enabled`)),
        button('Reset', { title: 'Reset the circuit breaker, cooldown and stored status' }, () => action(a, 'reset', `${name.text}: circuit and status reset`)),
        circ.label !== 'closed'
          ? null
          : button('Trip', { title: 'Open the circuit now: skipped for the open period, then probed' }, () => action(a, 'trip', `${name.text}: circuit opened`)),
        h('span', { class: 'spacer' }),
        button('Delete', { kind: 'danger ghost' }, () => remove(a)));

      return h('article', {
        class: ['card', 'acct-card', `acct-${st.kind || 'plain'}`, a.enabled ? '' : 'acct-off', state.flash === a.id ? 'acct-flash' : ''],
        'aria-label': name.text, dataset: { id: a.id, state: p.state || a.status },
      }, head, q && q.planTitle ? h('div', { class: 'row acct-plan' }, badge(q.planTitle, planKind(q.planTitle))) : null,
      quota, facts, notes, actions);
    }

    // ---- actions ----
    // The pool applies an admin change in the background a moment after the API answers:
    // look again shortly after, so the card shows the outcome without waiting for the poll.
    async function settle() {
      await load();
      setTimeout(() => { if (ctx.isCurrent()) load(); }, 600);
    }

    async function action(a, verb, done) {
      try {
        await post(`/api/accounts/${encodeURIComponent(a.id)}/${verb}`);
        toast(done, 'ok');
      } catch (err) {
        toast(errorText(err), 'bad');
      }
      await settle();
    }

    async function refreshAll() {
      try {
        const r = await post('/api/accounts/refresh-all');
        const ok = r.refreshed.length;
        if (r.failed.length) {
          const names = new Map(state.accounts.map((x) => [x.id, nameOf(x).text]));
          const lines = r.failed.map((f) => `${names.get(f.account) || f.account}: ${f.error}`);
          toast(`${ok} refreshed, ${r.failed.length} failed — ${lines.join('; ')}`, 'bad');
        } else {
          toast(`${ok} account${ok === 1 ? '' : 's'} refreshed`, 'ok');
        }
      } catch (err) {
        toast(errorText(err), 'bad');
      }
      await load();
    }

    async function refresh(a) {
      try {
        await post(`/api/accounts/${encodeURIComponent(a.id)}/refresh`);
        toast(`${nameOf(a).text}: token and quota refreshed`, 'ok');
      } catch (err) {
        toast(`${nameOf(a).text}: ${errorText(err)}`, 'bad');
      }
      await load();
    }

    async function remove(a) {
      const ok = await confirmDialog('Delete account',
        `Delete “${nameOf(a).text}”? Its credentials are removed from the proxy for good; export a backup first if you may need them again.`,
        { confirmLabel: 'Delete account', danger: true });
      if (!ok) return;
      try {
        await del(`/api/accounts/${encodeURIComponent(a.id)}`);
        toast(`${nameOf(a).text} deleted`, 'ok');
      } catch (err) {
        toast(errorText(err), 'bad');
      }
      await settle();
    }

    function edit(a) {
      const label = h('input', { type: 'text', name: 'label', maxlength: '200', value: a.label || '', placeholder: emailOf(a) || 'optional' });
      const weight = h('input', { type: 'number', name: 'weight', min: '0', max: '1000000', step: '1', value: String(a.weight) });
      const proxy = h('input', { type: 'text', name: 'proxy', value: a.proxy || '', placeholder: 'http://user:pass@host:3128 or socks5://host:1080', spellcheck: 'false' });
      const enabled = h('input', { type: 'checkbox', name: 'enabled', checked: a.enabled });
      const error = h('p', { class: 'error-text', role: 'alert' });
      const d = dialog({
        title: `Edit ${nameOf(a).text}`,
        body: [
          h('div', { class: 'form-grid' },
            field('Label', label, 'Shown instead of the e-mail or id.'),
            field('Weight', weight, 'Share of requests relative to the others; 0 takes it out of rotation.')),
          field('Outbound proxy', proxy, a.proxy ? 'The password is masked: leave the field as it is to keep it, or clear it to connect directly.' : 'Optional: this account\'s upstream calls go through it.'),
          h('label', { class: 'check' }, enabled, 'Enabled (in rotation)'),
          error,
        ],
        actions: [
          { label: 'Cancel' },
          {
            label: 'Save', kind: 'primary', onClick: async () => {
              const body = {};
              if (label.value.trim() !== (a.label || '')) body.label = label.value.trim() || null;
              const w = Number(weight.value);
              if (!Number.isInteger(w) || w < 0) { error.textContent = 'The weight is a whole number, 0 or more.'; return false; }
              if (w !== a.weight) body.weight = w;
              if (proxy.value.trim() !== (a.proxy || '')) body.proxy = proxy.value.trim() || null;
              if (enabled.checked !== a.enabled) body.enabled = enabled.checked;
              if (!Object.keys(body).length) return true;
              try {
                await patch(`/api/accounts/${encodeURIComponent(a.id)}`, body);
              } catch (err) {
                error.textContent = errorText(err);
                return false;
              }
              toast(`${nameOf(a).text} saved`, 'ok');
              settle();
              return true;
            },
          },
        ],
      });
      d.el.classList.add('acct-edit');
    }

    function details(a) {
      const q = quotaOf(a) || {};
      const p = a.pool || {};
      const row = (k, v, secret) => (v === null || v === undefined || v === '' ? null
        : [h('dt', {}, k), h('dd', {}, secret ? sensitive(String(v)) : v)]);
      const failures = Object.entries((p.stats && p.stats.failures) || {});
      dialog({
        title: nameOf(a).text,
        wide: true,
        body: h('div', { class: 'acct-details' },
          h('section', {}, h('h3', {}, 'Account'), h('dl', {},
            row('Id', a.id, true), row('E-mail', emailOf(a), true), row('User id', a.userId || q.userId, true),
            row('Sign-in', AUTH_METHODS[a.authMethod] || a.authMethod), row('API region', a.apiRegion), row('Auth region', a.authRegion),
            row('Profile ARN', a.profileArn, true), row('Start URL', a.startUrl), row('Proxy', a.proxy),
            row('Token valid until', a.accessTokenExpiresAt ? dateTime(a.accessTokenExpiresAt) : null),
            row('Client registration until', a.clientSecretExpiresAt ? dateTime(a.clientSecretExpiresAt) : null),
            row('Stored status', a.statusReason ? `${a.status}: ${a.statusReason}` : a.status),
            row('Added', dateTime(a.createdAt)), row('Changed', dateTime(a.updatedAt)))),
          h('section', {}, h('h3', {}, 'Quota'), h('dl', {},
            row('Plan', q.planTitle), row('Plan type', q.planType),
            row('Used', q.metered ? `${credits(q.used)} of ${credits(q.limit)}` : null),
            row('Base allowance', q.metered ? credits(q.baseLimit) : null),
            row('Free trial', q.trialLimit ? credits(q.trialLimit) : null), row('Bonuses', q.bonusLimit ? credits(q.bonusLimit) : null),
            row('Overage headroom', q.overageHeadroom !== null && q.overageHeadroom !== undefined ? credits(q.overageHeadroom) : null),
            row('Next reset', q.nextReset ? dateTime(q.nextReset) : null),
            row('Fetched', p.quota && p.quota.fetchedAt ? relTime(p.quota.fetchedAt) : 'never'),
            row('Next fetch', p.quota && p.quota.nextFetchInSecs !== null && p.quota.nextFetchInSecs !== undefined ? `in ${duration(p.quota.nextFetchInSecs)}` : null))),
          h('section', {}, h('h3', {}, 'Since the proxy started'), h('dl', {},
            row('Requests', num((p.stats || {}).requests || 0)), row('Replies', num((p.stats || {}).successes || 0)),
            row('Client errors', num((p.stats || {}).clientErrors || 0)), row('Credits used', credits((p.stats || {}).credits || 0)),
            row('Circuit', p.circuit ? `${circuitOf(a).label} · opened ${p.circuit.openedTotal}×` : null),
            failures.map(([k, n]) => row(`Failures: ${k}`, num(n)))))),
      });
    }

    // Countdowns (cooling, circuit open) tick every second between two polls; when one ends,
    // the list is read again at once.
    function tick() {
      let ended = false;
      for (const el of grid.querySelectorAll('[data-until]')) {
        const rest = Number(el.dataset.until) - nowUnix();
        if (rest <= 0) ended = true;
        el.textContent = `${el.dataset.prefix} · ${duration(Math.max(0, rest))}${el.dataset.prefix === 'cooling' ? ' left' : ''}`;
      }
      // At most every few seconds: the browser's clock may run ahead of the server's.
      if (ended && !state.loading && Date.now() - (state.tickLoadAt || 0) > 4000) {
        state.tickLoadAt = Date.now();
        load();
      }
    }

    await load();
    ctx.every(REFRESH_MS, load);
    ctx.every(1000, tick);
  },
};

function failuresTitle(stats) {
  const f = Object.entries((stats && stats.failures) || {});
  const lines = f.map(([k, n]) => `${k}: ${n}`);
  if (stats && stats.clientErrors) lines.push(`client errors (not counted): ${stats.clientErrors}`);
  return lines.length ? lines.join('\n') : 'No upstream failure since the proxy started';
}

function capital(s) {
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}
