// The playground: a chat through the proxy's own client API (`POST /v1/messages`, Anthropic
// dialect, authenticated by a client key like any SDK), so one message checks the whole path:
// key, limits, mapping, pool, upstream, stream translation.
//
// Model output is untrusted text: every block is appended as a text node through `h`, never as
// markup. The client key lives in this module's memory only (never in storage), like the
// conversation, so leaving the page and coming back keeps both until the tab closes.

import { h, mount, field, badge } from '../lib/dom.js';
import { get } from '../lib/api.js';
import { rememberedKeys } from '../lib/keystore.js';
import { num, ms } from '../lib/format.js';

// The key select's value for "paste one"; remembered keys use their (non-empty) names.
const PASTE = '';

/** A tool the model may call, so tool calls can be seen and answered. */
const DEMO_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city.',
  input_schema: {
    type: 'object',
    properties: {
      city: { type: 'string', description: 'City name, e.g. Paris' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    },
    required: ['city'],
  },
};

// Survives navigation within the tab; gone on reload.
const state = {
  keyChoice: null, // the name of a remembered key, or PASTE
  keysSeen: 0,
  pastedKey: '',
  model: null,
  stream: true,
  thinking: false,
  budget: 2048,
  maxTokens: 4096,
  temperature: '',
  system: '',
  tool: true,
  history: [], // the messages sent to the API: only completed turns
  turns: [], // what the transcript shows, including failed and stopped turns
  draft: '',
};

// ---- the SSE stream (a POST, so no EventSource) ----

/** Yields `{ event, data }` for each server-sent event in a fetch body. */
async function* sseEvents(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  let event = '';
  let data = [];
  const lineOf = (raw) => (raw.endsWith('\r') ? raw.slice(0, -1) : raw);
  for (;;) {
    const { value, done } = await reader.read();
    buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = lineOf(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n') };
        event = '';
        data = [];
      } else if (!line.startsWith(':')) {
        const colon = line.indexOf(':');
        const name = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (name === 'event') event = val;
        else if (name === 'data') data.push(val);
      }
    }
    if (done) {
      if (data.length) yield { event: event || 'message', data: data.join('\n') };
      return;
    }
  }
}

// ---- rendering of one turn ----

function prettyJson(value) {
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}

/** A view of one content block; `append(text)` grows it while streaming. */
function blockView(block, { live = false } = {}) {
  if (block.type === 'thinking' || block.type === 'redacted_thinking') {
    const redacted = block.type === 'redacted_thinking';
    const body = h('div', { class: 'pg-thinking-body' }, redacted ? 'The upstream redacted this reasoning (kept encrypted in the conversation).' : block.thinking || '');
    const label = h('span', {}, redacted ? 'Redacted thinking' : (live ? 'Thinking…' : 'Thinking'));
    const signed = h('span', { class: 'pg-signed' }, block.signature ? 'signed' : '');
    const el = h('details', { class: 'thinking pg-thinking', open: !redacted }, h('summary', {}, label, signed), body);
    return {
      el,
      append(text) { body.append(text); },
      done() {
        if (redacted) return;
        label.textContent = 'Thinking';
        signed.textContent = block.signature ? 'signed' : '';
      },
    };
  }
  if (block.type === 'tool_use') {
    const input = h('pre', { class: 'pg-json' }, block.input !== undefined ? prettyJson(block.input) : '');
    const el = h('div', { class: 'tool-call pg-tool' },
      h('div', { class: 'pg-tool-head' }, badge('tool call', 'accent'), h('strong', {}, block.name || '?'), h('span', { class: 'muted small mono' }, block.id || '')),
      input);
    return {
      el,
      append(text) { input.append(text); },
      done(parsed) { if (parsed !== undefined) input.textContent = prettyJson(parsed); },
    };
  }
  if (block.type === 'tool_result') {
    const content = typeof block.content === 'string' ? block.content : prettyJson(block.content);
    return {
      el: h('div', { class: 'tool-call pg-tool' },
        h('div', { class: 'pg-tool-head' }, badge('tool result', 'info'), h('span', { class: 'muted small mono' }, block.tool_use_id)),
        h('pre', { class: 'pg-json' }, content)),
      append() {},
      done() {},
    };
  }
  const text = h('div', { class: 'pg-text' }, block.type === 'text' ? block.text || '' : `[${block.type} block]`);
  // Streaming adds one text node per delta; merge them once the block is complete.
  return { el: text, append(t) { text.append(t); }, done() { text.normalize(); } };
}

/** The DOM of a turn, with hooks the streaming code drives. */
function turnView(turn) {
  const blocks = h('div', { class: 'pg-blocks' });
  const foot = h('div', { class: 'pg-foot' });
  const modelEl = h('span', { class: 'pg-model' }, turn.model || '');
  const who = turn.role === 'user' ? 'You' : ['Assistant', modelEl];
  const el = h('div', { class: ['msg', 'pg-msg', turn.role === 'user' ? 'user' : 'assistant', turn.excluded ? 'excluded' : ''] },
    h('div', { class: 'role' }, who), blocks, foot);
  const view = {
    el,
    add(block, opts) {
      const v = blockView(block, opts);
      blocks.append(v.el);
      return v;
    },
    setModel(model) { modelEl.textContent = model; },
    renderFoot() { mount(foot, footOf(turn)); },
  };
  const content = typeof turn.content === 'string' ? [{ type: 'text', text: turn.content }] : turn.content || [];
  for (const block of content) view.add(block);
  view.renderFoot();
  return view;
}

function footOf(turn) {
  const parts = [];
  if (turn.error) parts.push(h('div', { class: 'pg-error', role: 'alert' }, turn.error));
  if (turn.stopped) parts.push(h('div', { class: 'muted small' }, 'Stopped.'));
  if (turn.excluded && turn.role !== 'user') parts.push(h('div', { class: 'muted small' }, 'Not kept in the conversation: the message is back in the composer to retry.'));
  const m = turn.meta;
  if (m) {
    const items = [];
    if (m.stopReason) items.push(badge(m.stopReason, m.stopReason === 'end_turn' || m.stopReason === 'tool_use' ? 'ok' : 'warn'));
    const u = m.usage;
    if (u && (u.input_tokens !== undefined || u.output_tokens !== undefined)) {
      items.push(h('span', {}, `in ${num(u.input_tokens)} · out ${num(u.output_tokens)} tokens`));
      const cr = u.cache_read_input_tokens || 0;
      const cw = u.cache_creation_input_tokens || 0;
      if (cr || cw) items.push(h('span', {}, `cache read ${num(cr)} · write ${num(cw)}`));
    }
    if (m.ttft !== undefined) items.push(h('span', { title: 'Time to first token' }, `first token ${ms(m.ttft)}`));
    if (m.total !== undefined) items.push(h('span', {}, `total ${ms(m.total)}`));
    if (m.streamed !== undefined) items.push(h('span', {}, m.streamed ? 'streamed' : 'not streamed'));
    if (m.requestId) {
      items.push(h('a', { href: `#/requests?id=${encodeURIComponent(m.requestId)}`, class: 'mono', title: 'Open in the request log' }, m.requestId));
    }
    if (items.length) parts.push(h('div', { class: 'pg-meta' }, items));
  }
  return parts;
}

// ---- the request ----

function errorMessage(status, body, headers) {
  const err = body && typeof body === 'object' ? body.error || {} : {};
  const kind = err.type ? `${err.type}: ` : '';
  const msg = err.message || (typeof body === 'string' && body.trim()) || 'no details';
  let text = `HTTP ${status} · ${kind}${msg}`;
  if (status === 401) text += ' Check the client key (create one on the API keys page).';
  if (status === 429) {
    const after = headers.get('retry-after');
    text += after ? ` Retry after ${after} s.` : ' Retry later.';
  }
  return text;
}

/** Sends the conversation plus `userContent`, rendering the answer into `view` as it comes. */
async function exchange({ key, body, turn, view, signal, scroll }) {
  const started = performance.now();
  turn.meta = { streamed: body.stream };
  let response;
  try {
    response = await fetch('/v1/messages', {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (err.name === 'AbortError') { turn.stopped = true; return false; }
    turn.error = `Cannot reach the proxy: ${err.message}`;
    return false;
  }
  turn.meta.requestId = response.headers.get('request-id') || undefined;
  const isJson = (response.headers.get('content-type') || '').includes('json');
  if (!response.ok || !body.stream || isJson) {
    let text = '';
    try { text = await response.text(); } catch (err) {
      if (err.name === 'AbortError') { turn.stopped = true; return false; }
    }
    let data = text;
    try { data = JSON.parse(text); } catch { /* keep the text */ }
    turn.meta.total = performance.now() - started;
    if (!response.ok) {
      turn.error = errorMessage(response.status, data, response.headers);
      return false;
    }
    if (!data || typeof data !== 'object' || !Array.isArray(data.content)) {
      turn.error = `Unexpected answer: ${String(text).slice(0, 500)}`;
      return false;
    }
    if (data.model) { turn.model = data.model; view.setModel(data.model); }
    for (const block of data.content) {
      turn.content.push(block);
      view.add(block);
    }
    turn.meta.stopReason = data.stop_reason;
    turn.meta.usage = data.usage;
    scroll();
    return true;
  }

  const live = new Map(); // index → { block, view, json }
  let finished = false;
  try {
    for await (const { event, data } of sseEvents(response.body)) {
      let msg;
      try { msg = JSON.parse(data); } catch { continue; }
      const type = msg.type || event;
      if (type === 'message_start') {
        const m = msg.message || {};
        if (m.model) { turn.model = m.model; view.setModel(m.model); }
        turn.meta.usage = { ...(m.usage || {}) };
      } else if (type === 'content_block_start') {
        const block = { ...(msg.content_block || { type: 'text', text: '' }) };
        if (block.type === 'tool_use') delete block.input;
        turn.content.push(block);
        live.set(msg.index, { block, view: view.add(block, { live: true }), json: '' });
      } else if (type === 'content_block_delta') {
        const entry = live.get(msg.index);
        const d = msg.delta || {};
        if (turn.meta.ttft === undefined) turn.meta.ttft = performance.now() - started;
        if (!entry) continue;
        if (d.type === 'text_delta') { entry.block.text = (entry.block.text || '') + d.text; entry.view.append(d.text); }
        else if (d.type === 'thinking_delta') { entry.block.thinking = (entry.block.thinking || '') + d.thinking; entry.view.append(d.thinking); }
        else if (d.type === 'signature_delta') entry.block.signature = (entry.block.signature || '') + d.signature;
        else if (d.type === 'input_json_delta') { entry.json += d.partial_json; entry.view.append(d.partial_json); }
        scroll();
      } else if (type === 'content_block_stop') {
        const entry = live.get(msg.index);
        if (!entry) continue;
        if (entry.block.type === 'tool_use') {
          try { entry.block.input = entry.json ? JSON.parse(entry.json) : {}; } catch { entry.block.input = {}; entry.badJson = true; }
        }
        entry.view.done(entry.block.input);
      } else if (type === 'message_delta') {
        if (msg.delta && msg.delta.stop_reason) turn.meta.stopReason = msg.delta.stop_reason;
        if (msg.usage) turn.meta.usage = { ...turn.meta.usage, ...msg.usage };
      } else if (type === 'message_stop') {
        finished = true;
      } else if (type === 'error') {
        const e = msg.error || {};
        turn.error = `Stream error · ${e.type ? `${e.type}: ` : ''}${e.message || 'no details'}`;
      }
    }
  } catch (err) {
    if (err.name === 'AbortError') turn.stopped = true;
    else turn.error = `The stream broke: ${err.message}`;
  }
  for (const entry of live.values()) entry.view.done(entry.block.input);
  turn.meta.total = performance.now() - started;
  if (!finished && !turn.error && !turn.stopped) turn.error = 'The stream ended before message_stop.';
  return finished && !turn.error;
}

/** The assistant content as the API takes it back in the next request. */
function apiContent(blocks) {
  return blocks
    .filter((b) => !(b.type === 'text' && !b.text))
    .map((b) => {
      if (b.type === 'thinking') return { type: 'thinking', thinking: b.thinking || '', signature: b.signature || '' };
      if (b.type === 'tool_use') return { type: 'tool_use', id: b.id, name: b.name, input: b.input ?? {} };
      return b;
    });
}

/** Tool calls of the last answer that still need a result. */
function pendingTools() {
  const last = state.history[state.history.length - 1];
  if (!last || last.role !== 'assistant' || !Array.isArray(last.content)) return [];
  return last.content.filter((b) => b.type === 'tool_use');
}

function sampleResult(tool) {
  if (tool.name !== DEMO_TOOL.name) return '';
  const city = (tool.input && tool.input.city) || 'Paris';
  return JSON.stringify({ city, temperature_c: 18, conditions: 'partly cloudy' });
}

// ---- the page ----

export default {
  async render(root, ctx) {
    const catalogue = await get('/api/models');
    const models = (catalogue && catalogue.models) || [];
    const mapping = (catalogue && catalogue.mapping) || {};
    const byId = new Map(models.map((m) => [m.id, m]));
    if (!state.model || !(byId.has(state.model) || mapping[state.model])) {
      state.model = catalogue?.defaultModel
        || (models.find((m) => m.thinking && m.thinking !== 'none') || models[0] || {}).id
        || null;
    }

    // -- setup: key, model, options --
    const keys = rememberedKeys();
    // A key created since the last visit (the keys page's "Use in playground") is the one wanted.
    const fresh = keys.length > state.keysSeen;
    state.keysSeen = keys.length;
    if (ctx.params.key && keys.some((k) => k.name === ctx.params.key)) state.keyChoice = ctx.params.key;
    else if (fresh || (state.keyChoice !== PASTE && !keys.some((k) => k.name === state.keyChoice))) {
      state.keyChoice = keys.length ? keys[keys.length - 1].name : PASTE;
    }
    const keySelect = h('select', { 'aria-label': 'Client key' },
      keys.map((k) => h('option', { value: k.name, selected: k.name === state.keyChoice }, `${k.name} (created in this tab)`)),
      h('option', { value: PASTE, selected: state.keyChoice === PASTE }, 'Paste a key…'));
    const keyInput = h('input', {
      type: 'password', 'aria-label': 'Paste client key', placeholder: 'kp_…', autocomplete: 'off', spellcheck: 'false', value: state.pastedKey,
    });
    keyInput.addEventListener('input', () => { state.pastedKey = keyInput.value.trim(); });
    const showKeyInput = () => keyInput.classList.toggle('hidden', state.keyChoice !== PASTE);
    keySelect.addEventListener('change', () => { state.keyChoice = keySelect.value; showKeyInput(); if (state.keyChoice === PASTE) keyInput.focus(); });
    showKeyInput();
    const keyField = h('div', { class: 'field' }, h('span', {}, 'Client key'),
      keys.length ? keySelect : null, keyInput,
      h('span', { class: 'hint' }, keys.length
        ? 'Keys created on the API keys page in this tab, or paste one. Kept in memory only.'
        : 'Paste a client key (create one on the API keys page). Kept in memory only.'));
    if (!keys.length) state.keyChoice = PASTE;

    const modelSelect = h('select', { 'aria-label': 'Model' },
      h('optgroup', { label: 'Models' }, models.map((m) => h('option', { value: m.id, selected: m.id === state.model }, m.id))),
      Object.keys(mapping).length
        ? h('optgroup', { label: 'Aliases' }, Object.entries(mapping).sort().map(([alias, target]) => h('option', { value: alias, selected: alias === state.model }, `${alias} → ${target}`)))
        : null);
    const modelHint = h('span', { class: 'hint' });
    const describeModel = () => {
      const spec = byId.get(state.model) || byId.get(mapping[state.model]);
      modelHint.textContent = spec
        ? `${num(spec.contextWindow)} context · ${num(spec.maxOutputTokens)} max output · thinking: ${spec.thinking}${spec.thinkingByDefault ? ' (on by default)' : ''} · ×${spec.creditMultiplier} credits`
        : 'Sent as typed; the proxy maps it.';
    };
    modelSelect.addEventListener('change', () => { state.model = modelSelect.value; describeModel(); });
    describeModel();

    const check = (label, key, onChange) => {
      const input = h('input', { type: 'checkbox', checked: state[key] });
      input.addEventListener('change', () => { state[key] = input.checked; if (onChange) onChange(); });
      return h('label', { class: 'check' }, input, h('span', {}, label));
    };
    const numberInput = (label, key, attrs) => {
      const input = h('input', { type: 'number', 'aria-label': label, value: state[key], ...attrs });
      input.addEventListener('input', () => { state[key] = input.value; });
      return input;
    };
    const budgetInput = numberInput('Thinking budget', 'budget', { min: '1024', step: '256' });
    const budgetField = field('Thinking budget', budgetInput);
    const syncBudget = () => { budgetInput.disabled = !state.thinking; };
    syncBudget();
    const systemInput = h('textarea', { 'aria-label': 'System prompt', rows: '3', class: 'pg-system', placeholder: 'Optional', value: state.system });
    systemInput.addEventListener('input', () => { state.system = systemInput.value; });

    const setup = h('section', { class: 'card pg-setup', 'aria-label': 'Request setup' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Setup')),
      h('div', { class: 'stack' },
        keyField,
        h('label', { class: 'field' }, h('span', {}, 'Model'), modelSelect, modelHint),
        h('div', { class: 'pg-checks' },
          check('Stream', 'stream'),
          check('Thinking', 'thinking', syncBudget),
          check(`Demo tool (${DEMO_TOOL.name})`, 'tool')),
        h('div', { class: 'pg-numbers' },
          field('Max tokens', numberInput('Max tokens', 'maxTokens', { min: '1', step: '1' })),
          budgetField,
          field('Temperature', numberInput('Temperature', 'temperature', { min: '0', max: '1', step: '0.1', placeholder: 'default' }))),
        h('details', { class: 'pg-system-box', open: Boolean(state.system) },
          h('summary', {}, 'System prompt'), systemInput)));

    // -- the conversation --
    const list = h('div', { class: 'chat pg-list', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite' });
    const emptyState = h('div', { class: 'empty pg-empty' },
      h('div', { class: 'pg-empty-title' }, 'No messages yet'),
      h('div', {}, 'Messages go to POST /v1/messages with the selected client key, like any Anthropic client, so an answer here means the whole pool works.'));
    // The page itself scrolls (no nested scroll box: simpler on a phone, whole in a screenshot),
    // following the answer unless the reader scrolled up; our own scrolling must not unstick it
    // (content may grow between scrolling and the scroll event).
    const scroller = document.scrollingElement || document.documentElement;
    const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - window.innerHeight < 120;
    let stick = true;
    let autoTop = 0;
    const scroll = () => {
      if (!stick || !list.isConnected) return;
      scroller.scrollTop = scroller.scrollHeight;
      autoTop = scroller.scrollTop;
    };
    const onScroll = () => { stick = scroller.scrollTop >= autoTop - 2 || nearBottom(); };
    window.addEventListener('scroll', onScroll, { passive: true });

    const renderList = () => {
      mount(list, state.turns.length ? state.turns.map((t) => turnView(t).el) : emptyState);
      stick = true;
      // Coming back to a conversation shows its end; an empty one leaves the page at the top.
      if (state.turns.length) scroll();
    };

    const input = h('textarea', { 'aria-label': 'Message', rows: '3', class: 'pg-input', placeholder: 'Write a message…  (Ctrl+Enter sends)', value: state.draft });
    input.addEventListener('input', () => { state.draft = input.value; });
    const toolBox = h('div', { class: 'stack pg-tool-results' });
    const sendBtn = h('button', { class: 'primary', type: 'submit' }, 'Send');
    const stopBtn = h('button', { type: 'button', class: 'danger hidden' }, '■ Stop');
    const status = h('span', { class: 'muted small grow' });
    const form = h('form', { class: 'stack pg-composer', 'aria-label': 'Composer' },
      toolBox, input, h('div', { class: 'row' }, status, stopBtn, sendBtn));
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
    });

    let toolInputs = [];
    const renderTools = () => {
      const pending = pendingTools();
      toolInputs = pending.map((tool) => {
        const area = h('textarea', { rows: '2', class: 'pg-tool-input', 'aria-label': `Result of ${tool.name}`, value: sampleResult(tool) });
        return { tool, area };
      });
      mount(toolBox, toolInputs.length
        ? [h('div', { class: 'small muted' }, `The model called ${toolInputs.length === 1 ? 'a tool' : `${toolInputs.length} tools`}: type the result${toolInputs.length === 1 ? '' : 's'} and send to continue.`),
          toolInputs.map(({ tool, area }) => field(`Result of ${tool.name}`, area, tool.id))]
        : []);
      input.placeholder = toolInputs.length ? 'Optional text to send with the tool result…' : 'Write a message…  (Ctrl+Enter sends)';
    };

    let controller = null;
    const busy = (on) => {
      // The log is a live region: announce the finished answer, not every delta.
      list.setAttribute('aria-busy', String(on));
      sendBtn.disabled = on;
      stopBtn.classList.toggle('hidden', !on);
      clearBtn.disabled = on;
      mount(status, on ? h('span', { class: 'row' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), 'Waiting for the answer…') : '');
    };

    const clientKey = () => (state.keyChoice === PASTE
      ? state.pastedKey
      : (rememberedKeys().find((k) => k.name === state.keyChoice) || {}).key || '');

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (controller) return;
      const key = clientKey();
      const text = input.value.trim();
      if (!key) { mount(status, h('span', { class: 'error-text' }, 'Choose or paste a client key first.')); return; }
      if (!state.model) { mount(status, h('span', { class: 'error-text' }, 'Choose a model first.')); return; }
      if (!text && !toolInputs.length) { input.focus(); return; }

      const content = toolInputs.map(({ tool, area }) => ({ type: 'tool_result', tool_use_id: tool.id, content: area.value }));
      if (text) content.push({ type: 'text', text });
      const userContent = content.length === 1 && content[0].type === 'text' ? text : content;
      const body = {
        model: state.model,
        max_tokens: Number(state.maxTokens) || 1024,
        stream: state.stream,
        messages: [...state.history, { role: 'user', content: userContent }],
        thinking: state.thinking ? { type: 'enabled', budget_tokens: Number(state.budget) || 1024 } : { type: 'disabled' },
      };
      if (state.system.trim()) body.system = state.system;
      if (state.temperature !== '' && !Number.isNaN(Number(state.temperature))) body.temperature = Number(state.temperature);
      const usesTools = state.history.some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_use'));
      if (state.tool || usesTools) body.tools = [DEMO_TOOL];

      const userTurn = { role: 'user', content: typeof userContent === 'string' ? [{ type: 'text', text }] : content };
      const turn = { role: 'assistant', model: state.model, content: [] };
      if (!state.turns.length) mount(list);
      state.turns.push(userTurn, turn);
      const userView = turnView(userTurn);
      const view = turnView(turn);
      list.append(userView.el, view.el);
      stick = true;
      scroll();
      input.value = '';
      state.draft = '';
      mount(toolBox);
      toolInputs = [];

      controller = new AbortController();
      const stopped = controller;
      ctx.onLeave(() => stopped.abort());
      busy(true);
      const ok = await exchange({ key, body, turn, view, signal: controller.signal, scroll });
      controller = null;
      if (ok) {
        state.history.push({ role: 'user', content: userContent });
        const back = apiContent(turn.content);
        if (back.length) state.history.push({ role: 'assistant', content: back });
      } else {
        // A failed or stopped turn is shown but not sent again; its text goes back to the composer.
        userTurn.excluded = true;
        turn.excluded = true;
        userView.el.classList.add('excluded');
        view.el.classList.add('excluded');
        if (!input.value && text) { input.value = text; state.draft = text; }
      }
      if (!ctx.isCurrent()) return;
      view.renderFoot();
      busy(false);
      renderTools();
      scroll();
      input.focus();
    });
    stopBtn.addEventListener('click', () => { if (controller) controller.abort(); });

    const clearBtn = h('button', { type: 'button', class: 'ghost small' }, 'Clear conversation');
    clearBtn.addEventListener('click', () => {
      state.history = [];
      state.turns = [];
      renderList();
      renderTools();
      input.focus();
    });

    const chat = h('section', { class: 'card pg-chat', 'aria-label': 'Chat' },
      h('div', { class: 'card-head' }, h('h2', { class: 'grow' }, 'Conversation'), clearBtn),
      list, form);
    root.append(h('div', { class: 'pg-layout' }, chat, setup));
    renderList();
    renderTools();
    busy(false);
    return () => window.removeEventListener('scroll', onScroll);
  },
};
