// The settings page: one card per group of runtime settings, each saved on its own, with its
// state (unsaved, saving, saved, refused) beside its Save button. A refusal from the server names
// the field (`pool.circuitFailures` …); the page puts the message under that field.
import { h, mount, toast, confirmDialog, spinner, errorText } from '../lib/dom.js';
import { get, put } from '../lib/api.js';
import { num, bytes } from '../lib/format.js';

const NOTICE_MAX = 4000;

/** A refusal found before asking the server, worded as the server words its own. */
class FieldError extends Error {
  constructor(field, message) {
    super(`\`${field}\` ${message}`);
  }
}

/** The field a 400 names: "`blockedIps[1]`: …" → "blockedIps", "`pool.x` …" → "pool.x". */
function errorField(err) {
  const m = /^`([^`]+)`/.exec((err && err.message) || '');
  return m ? m[1].replace(/\[\d+\]$/, '') : null;
}

let seq = 0;
const nextId = (stem) => { seq += 1; return `settings-${stem}-${seq}`; };

/** A labelled input with its own error slot. */
function control(label, input, hint) {
  const error = h('span', { class: 'error-text small field-error', role: 'alert', id: nextId('err') });
  input.setAttribute('aria-errormessage', error.id);
  const el = h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('span', { class: 'hint' }, hint) : null, error);
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

function numberInput(value, placeholder, step = '1') {
  return h('input', { type: 'number', step, inputmode: step === '1' ? 'numeric' : 'decimal', placeholder, value: value ?? '' });
}

/** A number input's value: `null` when empty; a FieldError when the browser could not read it. */
function numberValue(input, field) {
  if (input.validity && input.validity.badInput) throw new FieldError(field, 'must be a number');
  const raw = input.value.trim();
  return raw === '' ? null : Number(raw);
}

function lines(text) {
  return text.split('\n').map((l) => l.trim()).filter(Boolean);
}

function checkbox(checked, label) {
  const input = h('input', { type: 'checkbox', checked });
  return { input, el: h('label', { class: 'check' }, input, h('span', {}, label)) };
}

/**
 * A settings card: `body` (nodes), `controls` ({ fieldPath: control }) for error placement,
 * `save()` (throws ApiError or FieldError). Changes inside mark it unsaved.
 */
function section({ key, title, intro, body, controls, save, extraActions = [] }) {
  const titleId = nextId(key);
  const status = h('span', { class: 'small settings-status', role: 'status' });
  const general = h('p', { class: 'error-text field-error settings-flush', role: 'alert' });
  const button = h('button', { type: 'button', class: 'primary' }, 'Save');
  const setStatus = (text, kind = '') => { status.textContent = text; status.className = `small settings-status ${kind}`; };
  const card = h('section', { class: 'card settings-section', 'aria-labelledby': titleId, dataset: { section: key } },
    h('div', { class: 'card-head' }, h('h2', { id: titleId, class: 'grow' }, title)),
    intro ? h('p', { class: 'muted small settings-intro' }, intro) : null,
    h('div', { class: 'stack' }, body),
    general,
    h('div', { class: 'row settings-foot' }, extraActions, h('span', { class: 'spacer' }), status, button));
  const clear = () => {
    Object.values(controls).forEach((c) => c.setError(''));
    general.textContent = '';
  };
  card.addEventListener('input', () => setStatus('Unsaved changes', 'warn'));
  async function run() {
    clear();
    button.disabled = true;
    setStatus('Saving…');
    try {
      await save();
      const t = new Date().toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
      setStatus(`✓ Saved at ${t}`, 'ok');
    } catch (err) {
      if (err && err.status === 401) return;
      const ctl = controls[errorField(err)];
      if (ctl) {
        ctl.setError(errorText(err));
        ctl.input.focus();
      } else {
        general.textContent = errorText(err);
      }
      setStatus('Not saved', 'bad');
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener('click', run);
  return { el: card, setStatus, run };
}

// ---- traffic controls ----
function trafficSection(traffic) {
  const ip = control('Requests per minute per client IP', numberInput(traffic.ipRateLimitPerMinute, 'no limit'),
    'Answered with 429 and retry-after at once; no connection is held as a penalty.');
  const maxC = control('Concurrent requests, all keys', numberInput(traffic.maxConcurrency, 'no limit'),
    'Beyond it, requests get a 503 saying the proxy is full.');
  const perKey = control('Concurrent requests per key', numberInput(traffic.perKeyConcurrency, 'no limit'), 'Beyond it: 429.');
  const blocked = control('Blocked IPs', h('textarea', { rows: '4', spellcheck: 'false', placeholder: '203.0.113.7\n10.0.0.0/8', class: 'sensitive' }),
    'One address or CIDR range per line; refused with 403.');
  const trusted = control('Trusted proxies', h('textarea', { rows: '3', spellcheck: 'false', placeholder: '127.0.0.1\n10.0.0.0/8' }),
    'Peers whose X-Forwarded-For is believed. Empty: the client IP is the socket address, so the header cannot be spoofed.');
  const fill = (t) => {
    ip.input.value = t.ipRateLimitPerMinute ?? '';
    maxC.input.value = t.maxConcurrency ?? '';
    perKey.input.value = t.perKeyConcurrency ?? '';
    blocked.input.value = (t.blockedIps || []).join('\n');
    trusted.input.value = (t.trustedProxies || []).join('\n');
  };
  fill(traffic);
  const controls = { ipRateLimitPerMinute: ip, maxConcurrency: maxC, perKeyConcurrency: perKey, blockedIps: blocked, trustedProxies: trusted };
  return section({
    key: 'traffic',
    title: 'Traffic controls',
    intro: 'Limits that protect the pool from any one client. Empty: no limit. Applied to the next request.',
    controls,
    body: [h('div', { class: 'form-grid settings-grid-3' }, ip.el, maxC.el, perKey.el), h('div', { class: 'form-grid settings-grid-2' }, blocked.el, trusted.el)],
    save: async () => {
      const body = {
        ipRateLimitPerMinute: numberValue(ip.input, 'ipRateLimitPerMinute'),
        maxConcurrency: numberValue(maxC.input, 'maxConcurrency'),
        perKeyConcurrency: numberValue(perKey.input, 'perKeyConcurrency'),
        blockedIps: lines(blocked.input.value),
        trustedProxies: lines(trusted.input.value),
      };
      fill(await put('/api/traffic', body));
    },
  });
}

// ---- thinking format ----
const THINKING = [
  { value: 'reasoning_content', title: 'reasoning_content field', desc: 'Thinking travels beside the answer in reasoning_content, as reasoning models do. Clients that know it show it folded.', example: '{"delta": {"reasoning_content": "Let me check…"}}' },
  { value: 'thinking', title: '<thinking> tags', desc: 'Thinking is written into the answer between tags, for clients that show only content.', example: '<thinking>Let me check…</thinking>The answer is 4.' },
  { value: 'think', title: '<think> tags', desc: 'The same with <think>, the form DeepSeek-R1-style clients parse.', example: '<think>Let me check…</think>The answer is 4.' },
];

function thinkingSection(settings) {
  const name = nextId('thinking');
  const radios = THINKING.map((t) => {
    const descId = nextId('desc');
    const input = h('input', { type: 'radio', name, value: t.value, checked: settings.thinkingFormat === t.value, 'aria-label': t.title, 'aria-describedby': descId });
    return {
      input,
      el: h('label', { class: 'settings-choice' }, input,
        h('span', { class: 'stack settings-choice-text' },
          h('strong', {}, t.title),
          h('span', { class: 'muted small', id: descId }, t.desc),
          h('code', { class: 'settings-example' }, t.example))),
    };
  });
  const group = h('div', { class: 'stack settings-choices', role: 'radiogroup', 'aria-label': 'Thinking format' }, radios.map((r) => r.el));
  const errorEl = h('span', { class: 'error-text small field-error', role: 'alert' });
  const ctl = { input: radios[0].input, setError: (m) => { group.classList.toggle('invalid', Boolean(m)); errorEl.textContent = m || ''; } };
  return section({
    key: 'thinking',
    title: 'Thinking for OpenAI clients',
    intro: 'How a model\'s thinking reaches Chat Completions clients, which have no standard field for it. Anthropic clients always get thinking blocks.',
    controls: { thinkingFormat: ctl },
    body: [group, errorEl],
    save: async () => {
      const chosen = radios.find((r) => r.input.checked);
      const res = await put('/api/settings', { thinkingFormat: chosen ? chosen.input.value : 'reasoning_content' });
      radios.forEach((r) => { r.input.checked = r.input.value === res.thinkingFormat; });
    },
  });
}

// ---- operator notice ----
function noticeSection(settings) {
  const enabled = checkbox(settings.notice.enabled, 'Show the notice');
  const markdown = control('Message (Markdown)', h('textarea', { rows: '5', placeholder: 'e.g. Keys rotate on Monday: get yours at https://wiki.example/llm' }));
  markdown.input.value = settings.notice.markdown || '';
  const counter = h('span', { class: 'muted small' });
  const preview = h('div', { class: 'settings-notice-text' });
  const draw = () => {
    const text = markdown.input.value.trim();
    counter.textContent = `${num(markdown.input.value.length)} / ${num(NOTICE_MAX)}`;
    counter.classList.toggle('error-text', markdown.input.value.length > NOTICE_MAX);
    preview.textContent = text || 'Nothing to show yet.';
    preview.classList.toggle('muted', !text);
    previewBox.classList.toggle('settings-off', !enabled.input.checked);
  };
  const previewBox = h('div', { class: 'settings-preview', 'aria-label': 'Preview' },
    h('div', { class: 'muted small' }, 'Preview: the end of a reply, as a client shows it (plain text)'),
    h('div', { class: 'settings-reply muted' }, '… the model\'s answer.'),
    preview);
  markdown.input.addEventListener('input', draw);
  enabled.input.addEventListener('change', draw);
  draw();
  const enabledCtl = { input: enabled.input, setError: () => {} };
  return section({
    key: 'notice',
    title: 'Operator notice',
    intro: 'A message appended to replies as a separate text block, once per conversation, never in a tool turn and never fed back to the model. Also included in 401 answers, so users of a retired key learn where to get a new one.',
    controls: { 'notice.markdown': markdown, 'notice.enabled': enabledCtl, notice: markdown },
    body: [enabled.el, markdown.el, h('div', { class: 'row' }, h('span', { class: 'spacer' }), counter), previewBox],
    save: async () => {
      const res = await put('/api/settings', { notice: { enabled: enabled.input.checked, markdown: markdown.input.value } });
      enabled.input.checked = res.notice.enabled;
      markdown.input.value = res.notice.markdown;
      draw();
    },
  });
}

// ---- log level ----
function logSection(settings) {
  const presets = ['error', 'warn', 'info', 'debug', 'trace', 'info,kiro_proxy=debug'];
  const listId = nextId('levels');
  const level = control('Filter', h('input', { type: 'text', list: listId, spellcheck: 'false', value: settings.logLevel || '', class: 'mono' }),
    'A level, or tracing directives such as info,kiro_proxy=debug.');
  const current = h('span', { class: 'badge info' }, settings.logLevel || 'unknown');
  return section({
    key: 'log',
    title: 'Log level',
    intro: 'Changes the running process\'s log filter. Not persisted: after a restart KIRO_LOG applies again. Secrets are redacted at every level.',
    controls: { level },
    body: [h('div', { class: 'row small' }, h('span', { class: 'muted' }, 'In effect:'), current), level.el,
      h('datalist', { id: listId }, presets.map((p) => h('option', { value: p })))],
    save: async () => {
      const res = await put('/api/settings/log-level', { level: level.input.value.trim() });
      level.input.value = res.level;
      current.textContent = res.level;
    },
  });
}

// ---- retention ----
function retentionSection(settings) {
  const r = settings.retention || {};
  const size = control('Request log entries', numberInput(r.requestLogSize, 'configured'), 'The most recent requests kept in detail; 0 keeps none.');
  const days = control('Detail retention (days)', numberInput(r.retentionDays, 'configured'), 'Request log and hourly statistics.');
  const daily = control('Daily statistics (days)', numberInput(r.dailyRetentionDays, 'configured'), 'Per-day aggregates, for long charts.');
  const fields = { requestLogSize: size, retentionDays: days, dailyRetentionDays: daily };
  return section({
    key: 'retention',
    title: 'Retention',
    intro: 'How much history the statistics keep. Empty: back to the configured value. Older data is pruned at the next pass.',
    controls: Object.fromEntries(Object.entries(fields).map(([k, c]) => [`retention.${k}`, c])),
    body: h('div', { class: 'form-grid settings-grid-3' }, size.el, days.el, daily.el),
    save: async () => {
      const body = {};
      for (const [k, c] of Object.entries(fields)) body[k] = numberValue(c.input, `retention.${k}`);
      const res = await put('/api/settings', { retention: body });
      for (const [k, c] of Object.entries(fields)) c.input.value = res.retention[k] ?? '';
    },
  });
}

// ---- body capture ----
function bodyCaptureSection(settings) {
  const b = settings.bodyCapture || { enabled: false, maxBytes: null };
  const enabled = checkbox(b.enabled, 'Capture request and reply bodies');
  const max = control('Cap per body (bytes)', numberInput(b.maxBytes, 'configured'));
  const capHint = h('span', { class: 'muted small' });
  const drawHint = () => { capHint.textContent = max.input.value ? `= ${bytes(Number(max.input.value))}` : ''; };
  max.input.addEventListener('input', drawHint);
  drawHint();
  const warning = h('p', { class: 'settings-warning small' },
    'Prompts and completions are then stored with the request log (secrets redacted), visible to anyone with the admin token. Turn it on to debug, then off again.');
  const drawWarning = () => warning.classList.toggle('hidden', !enabled.input.checked);
  enabled.input.addEventListener('change', drawWarning);
  drawWarning();
  return section({
    key: 'bodyCapture',
    title: 'Body capture',
    intro: 'Off by default: the log keeps no prompt or completion text.',
    controls: { 'bodyCapture.maxBytes': max, 'bodyCapture.enabled': { input: enabled.input, setError: () => {} } },
    body: [enabled.el, h('div', { class: 'row settings-cap' }, max.el, capHint), warning],
    save: async () => {
      const res = await put('/api/settings', { bodyCapture: { enabled: enabled.input.checked, maxBytes: numberValue(max.input, 'bodyCapture.maxBytes') } });
      enabled.input.checked = res.bodyCapture.enabled;
      max.input.value = res.bodyCapture.maxBytes ?? '';
      drawHint();
      drawWarning();
    },
  });
}

// ---- pool thresholds ----
/** Labels and hints of the fields known today; a field added later shows with a derived label. */
const POOL_FIELDS = {
  maxConcurrency: ['Concurrent requests per account', 'More wait for a free slot on another account.'],
  leaseWaitSecs: ['Wait for a free slot (s)', 'When every usable account is at its cap; 0 answers 429 at once.'],
  stickySessions: ['Sticky sessions', 'Keep a client session on one account while it is usable.'],
  stickyTtlSecs: ['Session memory (s)', 'A session forgets its account after this long idle.'],
  stickyMaxSessions: ['Sessions remembered', 'The least recently used one is forgotten first.'],
  defaultCooldownSecs: ['Default cooldown (s)', 'For a throttled account when the upstream gives no Retry-After.'],
  failoverAttempts: ['Attempts per request', 'Upstream attempts, all accounts and retries together.'],
  failoverBudgetSecs: ['Failover budget (s)', 'After this, a request starts no new attempt.'],
  circuitFailures: ['Failures that open the circuit', 'Consecutive failures of one account.'],
  circuitFailureRate: ['Failure rate that opens it (%)', 'Over the window below…'],
  circuitMinRequests: ['…with at least (requests)', 'Outcomes in the window before the rate counts.'],
  circuitWindowSecs: ['Failure-rate window (s)', ''],
  circuitOpenDelaySecs: ['First open period (s)', 'Doubled on every reopening…'],
  circuitOpenMaxSecs: ['Longest open period (s)', '…up to this.'],
  circuitProbes: ['Half-open probes', 'Requests let through at once while half-open.'],
  circuitCloseSuccesses: ['Successes that close it', 'Successful probes needed.'],
  refreshIntervalSecs: ['Keep-alive period (s)', 'Token refresh ahead of expiry, stale quota.'],
  refreshConcurrency: ['Refreshes at once', ''],
  quotaIntervalSecs: ['Quota refresh period (s)', 'getUsageLimits per account.'],
  quotaAfterUseSecs: ['Quota refresh after use (s)', 'Requests within it share one refresh.'],
};
const POOL_GROUPS = [
  ['Accounts', (f) => f === 'maxConcurrency' || f === 'leaseWaitSecs'],
  ['Sticky sessions', (f) => f.startsWith('sticky')],
  ['Failover', (f) => f.startsWith('failover') || f === 'defaultCooldownSecs'],
  ['Circuit breaker', (f) => f.startsWith('circuit')],
  ['Background refresh', (f) => f.startsWith('refresh') || f.startsWith('quota')],
  ['Other', () => true],
];

function humanize(field) {
  const secs = field.endsWith('Secs');
  const words = field.replace(/Secs$/, '').replace(/([A-Z])/g, ' $1').toLowerCase();
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${secs ? ' (s)' : ''}`;
}

function poolSection(settings) {
  let loaded = { ...(settings.pool || {}) };
  const controls = {};
  const inputs = {};
  const groupsHost = h('div', { class: 'settings-pool' });
  function draw() {
    // Known fields in a sensible order, then any field a newer server adds.
    const known = Object.keys(POOL_FIELDS);
    const rank = (f) => (known.includes(f) ? known.indexOf(f) : known.length);
    const fields = Object.keys(loaded).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
    const used = new Set();
    const groups = POOL_GROUPS.map(([name, test]) => {
      const members = fields.filter((f) => !used.has(f) && test(f));
      members.forEach((f) => used.add(f));
      return [name, members];
    }).filter(([, members]) => members.length);
    mount(groupsHost, groups.map(([name, members]) => h('fieldset', { class: 'settings-group' },
      h('legend', {}, name),
      h('div', { class: 'form-grid' }, members.map((f) => {
        const [label, hint] = POOL_FIELDS[f] || [humanize(f), ''];
        const v = loaded[f];
        if (typeof v === 'boolean') {
          const c = checkbox(v, label);
          inputs[f] = { read: () => c.input.checked, input: c.input };
          controls[`pool.${f}`] = { input: c.input, setError: () => {} };
          return h('div', { class: 'field settings-bool' }, c.el, hint ? h('span', { class: 'hint' }, hint) : null);
        }
        const ctl = control(label, numberInput(v, 'configured', f.endsWith('Secs') || !Number.isInteger(v) ? 'any' : '1'), hint || null);
        inputs[f] = { read: () => numberValue(ctl.input, `pool.${f}`), input: ctl.input };
        controls[`pool.${f}`] = ctl;
        return ctl.el;
      })))));
  }
  draw();
  const reset = h('button', { type: 'button', class: 'ghost' }, 'Reset all to configured');
  const s = section({
    key: 'pool',
    title: 'Pool thresholds',
    intro: 'How the pool shares work between accounts and steps around failing ones. Applied at the pool\'s next decision. An emptied field goes back to its configured value.',
    controls,
    body: groupsHost,
    extraActions: [reset],
    save: async () => {
      const changed = {};
      for (const [f, inp] of Object.entries(inputs)) {
        const v = inp.read();
        if (v !== loaded[f]) changed[f] = v;
      }
      if (!Object.keys(changed).length) return;
      const res = await put('/api/settings', { pool: changed });
      loaded = { ...res.pool };
      draw();
    },
  });
  reset.addEventListener('click', async () => {
    const ok = await confirmDialog('Reset the pool thresholds?', 'Every threshold goes back to the value of the configuration file and environment.', { confirmLabel: 'Reset' });
    if (!ok) return;
    try {
      const res = await put('/api/settings', { pool: Object.fromEntries(Object.keys(loaded).map((f) => [f, null])) });
      loaded = { ...res.pool };
      draw();
      s.setStatus('✓ Back to the configured values', 'ok');
    } catch (err) {
      toast(errorText(err), 'bad');
    }
  });
  return s;
}

export default {
  async render(root, ctx) {
    mount(root, spinner('Loading settings…'));
    const [settings, traffic] = await Promise.all([get('/api/settings'), get('/api/traffic')]);
    if (!ctx.isCurrent()) return;
    const sections = {
      traffic: trafficSection(traffic),
      thinking: thinkingSection(settings),
      notice: noticeSection(settings),
      log: logSection(settings),
      retention: retentionSection(settings),
      bodyCapture: bodyCaptureSection(settings),
      pool: poolSection(settings),
    };
    mount(root,
      h('div', { class: 'settings-cols' },
        h('div', { class: 'stack settings-col' }, sections.traffic.el, sections.notice.el, sections.retention.el),
        h('div', { class: 'stack settings-col' }, sections.thinking.el, sections.log.el, sections.bodyCapture.el)),
      sections.pool.el);
    // Unsaved edits would be lost silently on leaving: say which.
    ctx.onLeave(() => {
      const unsaved = [...root.querySelectorAll('.settings-status.warn')].map((s) => s.closest('section').querySelector('h2').textContent);
      if (unsaved.length) toast(`Unsaved changes discarded: ${unsaved.join(', ')}.`, 'warn');
    });
  },
};
