// The tools page: the upstream's MCP endpoint through the pool (`/api/tools/…`): a web search
// (results as cards) and the MCP tool list, where a tool's JSON arguments are prefilled from
// its input schema, edited and executed.
//
// Search results and tool output are untrusted text from the web: every title, snippet, URL and
// tool result is a text node built with `h`; links open only http(s) URLs, in a new tab without
// an opener or referrer.

import { h, mount, badge, sensitive, spinner, errorText, field } from '../lib/dom.js';
import { get, post } from '../lib/api.js';
import { date, ms } from '../lib/format.js';

const MAX_QUERY = 1000;
const MAX_RESULTS = 50;

// Survives navigation within the tab; gone on reload.
const state = {
  query: '',
  max: 10,
  search: null, // { answer, elapsed } | { error }
  tools: null, // [{ name, description, inputSchema }]
  toolsAccount: null,
  toolsError: null,
  selected: null, // tool name
  args: '',
  call: null, // { answer, elapsed, name } | { error, name }
};

// ---- account names (the answers carry the id; the console shows the label when it has one) ----

let accountNames = null;

async function loadAccountNames() {
  if (accountNames) return accountNames;
  try {
    const { accounts } = await get('/api/accounts');
    accountNames = new Map(accounts.map((a) => [a.id, a.label || a.email || a.id]));
  } catch {
    accountNames = new Map();
  }
  return accountNames;
}

function servedBy(id, verb = 'served by') {
  const name = accountNames && accountNames.get(id);
  return h('span', { class: 'tools-served' }, `${verb} `, sensitive(name || id || '?', 'strong'));
}

// ---- JSON argument templates from an input schema ----

/** A sample value for a JSON Schema: its default, first example or enum value, else by type. */
function sample(schema, depth = 0) {
  if (!schema || typeof schema !== 'object') return '';
  if ('default' in schema) return schema.default;
  if (Array.isArray(schema.examples) && schema.examples.length) return schema.examples[0];
  if (Array.isArray(schema.enum) && schema.enum.length) return schema.enum[0];
  if ('const' in schema) return schema.const;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string': return '';
    case 'integer': return Number.isInteger(schema.minimum) ? schema.minimum : 0;
    case 'number': return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean': return false;
    case 'array': return [];
    case 'null': return null;
    case 'object': return depth < 3 ? template(schema, depth + 1) : {};
    default: return schema.properties && depth < 3 ? template(schema, depth + 1) : '';
  }
}

/** An arguments object with every property of `schema`, the required ones first. */
function template(schema, depth = 0) {
  const props = (schema && typeof schema.properties === 'object' && schema.properties) || {};
  const required = Array.isArray(schema && schema.required) ? schema.required : [];
  const names = Object.keys(props);
  const ordered = [...names.filter((n) => required.includes(n)), ...names.filter((n) => !required.includes(n))];
  const out = {};
  for (const name of ordered) out[name] = sample(props[name], depth);
  return out;
}

function pretty(value) {
  try { return JSON.stringify(value, null, 2); } catch { return String(value); }
}

/** A content item's text: JSON inside a text item is pretty-printed. */
function contentText(item) {
  if (item && item.type === 'text' && typeof item.text === 'string') {
    const t = item.text.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try { return pretty(JSON.parse(t)); } catch { /* plain text after all */ }
    }
    return item.text;
  }
  return pretty(item);
}

const isWebUrl = (url) => typeof url === 'string' && /^https?:\/\//i.test(url);

// ---- views ----

function hitView(hit, index) {
  const title = hit.title && hit.title.trim() ? hit.title : hit.url || 'Untitled';
  const heading = isWebUrl(hit.url)
    ? h('a', { href: hit.url, target: '_blank', rel: 'noopener noreferrer', class: 'tools-hit-title' }, title)
    : h('span', { class: 'tools-hit-title' }, title);
  const meta = [
    hit.domain ? h('span', { class: 'tools-hit-domain' }, hit.domain) : null,
    hit.publishedDate ? h('span', {}, date(hit.publishedDate)) : null,
  ].filter(Boolean);
  return h('article', { class: 'tools-hit', 'aria-label': `Result ${index + 1}` },
    h('h3', {}, heading),
    hit.url ? h('div', { class: 'tools-hit-url mono small' }, hit.url) : null,
    hit.snippet ? h('p', { class: 'tools-hit-snippet' }, hit.snippet) : null,
    meta.length ? h('div', { class: 'tools-hit-meta small muted' }, meta) : null);
}

function errorBox(message) {
  return h('div', { class: 'tools-error', role: 'alert' }, message);
}

function searchResults() {
  const s = state.search;
  if (!s) {
    return h('div', { class: 'tools-empty muted' },
      'Ask the upstream\'s web_search tool, through an account of the pool. Results open in a new tab.');
  }
  if (s.error) return errorBox(s.error);
  const { answer, elapsed } = s;
  const summary = h('div', { class: 'tools-summary small muted' },
    h('span', {}, answer.results.length === 1 ? '1 result' : `${answer.results.length} results`),
    answer.totalResults > answer.results.length ? h('span', {}, `of ${answer.totalResults}`) : null,
    servedBy(answer.account),
    h('span', {}, ms(elapsed)));
  if (!answer.results.length) {
    return h('div', { class: 'stack' }, summary, h('div', { class: 'tools-empty muted' }, 'No results for this query.'));
  }
  return h('div', { class: 'stack' }, summary,
    h('div', { class: 'tools-hits' }, answer.results.map(hitView)));
}

// ---- the page ----

export default {
  async render(root, ctx) {
    // Web search
    const queryInput = h('input', {
      type: 'search', name: 'query', value: state.query, maxlength: String(MAX_QUERY), required: true,
      placeholder: 'e.g. rust tokio select', autocomplete: 'off', class: 'tools-query',
    });
    const maxInput = h('input', {
      type: 'number', name: 'maxResults', min: '1', max: String(MAX_RESULTS), step: '1', value: String(state.max),
      class: 'tools-max', inputmode: 'numeric',
    });
    const searchButton = h('button', { type: 'submit', class: 'primary' }, 'Search');
    const resultsHost = h('div', { class: 'tools-results', 'aria-live': 'polite' });
    // The page checks the fields itself (a message in the card, not a browser tooltip).
    const searchForm = h('form', { class: 'tools-search-form', novalidate: true },
      field('Query', queryInput),
      field('Max results', maxInput),
      h('div', { class: 'tools-submit' }, searchButton));

    // MCP tools
    const listHost = h('div', { class: 'tools-list', role: 'group', 'aria-label': 'MCP tools' });
    const listAccount = h('div', { class: 'tools-mcp-account small muted' });
    const editorHost = h('div', { class: 'tools-editor' });
    const reloadButton = h('button', { type: 'button', class: 'small', onclick: () => loadTools(true) }, '↻ Reload');

    mount(root,
      h('section', { class: 'card', 'aria-labelledby': 'tools-search-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'tools-search-title', class: 'grow' }, 'Web search')),
        searchForm,
        resultsHost),
      h('section', { class: 'card', 'aria-labelledby': 'tools-mcp-title' },
        h('div', { class: 'card-head' },
          h('h2', { id: 'tools-mcp-title', class: 'grow' }, 'MCP tools'),
          reloadButton),
        h('div', { class: 'tools-mcp' }, h('div', { class: 'stack tools-side' }, listHost, listAccount), editorHost)));

    const drawResults = () => mount(resultsHost, searchResults());

    searchForm.addEventListener('submit', async (e) => {
      e.preventDefault();
      const query = queryInput.value.trim();
      const max = Number(maxInput.value);
      state.query = queryInput.value;
      if (!query) {
        state.search = { error: 'Enter something to search for.' };
        drawResults();
        queryInput.focus();
        return;
      }
      if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) {
        state.search = { error: `Max results must be a whole number from 1 to ${MAX_RESULTS}.` };
        drawResults();
        maxInput.focus();
        return;
      }
      state.max = max;
      searchButton.disabled = true;
      mount(resultsHost, spinner('Searching…'));
      const started = performance.now();
      try {
        const [answer] = await Promise.all([post('/api/tools/web-search', { query, maxResults: max }), loadAccountNames()]);
        state.search = { answer, elapsed: performance.now() - started };
      } catch (err) {
        state.search = { error: errorText(err) };
      } finally {
        searchButton.disabled = false;
      }
      if (ctx.isCurrent()) drawResults();
    });

    function drawList() {
      mount(listAccount, state.toolsAccount && !state.toolsError ? servedBy(state.toolsAccount, 'Listed by') : null);
      if (state.toolsError) {
        mount(listHost, errorBox(state.toolsError));
        return;
      }
      if (!state.tools) {
        mount(listHost, spinner('Loading tools…'));
        return;
      }
      if (!state.tools.length) {
        mount(listHost, h('div', { class: 'tools-empty muted' }, 'The upstream lists no tools.'));
        return;
      }
      mount(listHost, state.tools.map((tool) => h('button', {
        type: 'button',
        class: ['tools-tool', state.selected === tool.name ? 'selected' : ''],
        'aria-pressed': state.selected === tool.name ? 'true' : 'false',
        onclick: () => select(tool),
      }, h('span', { class: 'tools-tool-name mono' }, tool.name),
      tool.description ? h('span', { class: 'tools-tool-desc small muted' }, tool.description) : null)));
    }

    function select(tool) {
      state.selected = tool.name;
      state.args = pretty(template(tool.inputSchema || {}));
      state.call = null;
      drawList();
      drawEditor();
      const area = editorHost.querySelector('textarea');
      if (area) area.focus();
    }

    function drawEditor() {
      const tool = state.tools && state.tools.find((t) => t.name === state.selected);
      if (!tool) {
        mount(editorHost, h('div', { class: 'tools-empty muted' },
          state.tools && state.tools.length ? 'Pick a tool: its arguments are prefilled from its schema.' : ''));
        return;
      }
      const area = h('textarea', { class: 'tools-args', spellcheck: 'false', 'aria-label': 'Arguments (JSON)' });
      area.value = state.args;
      area.addEventListener('input', () => { state.args = area.value; });
      const runButton = h('button', { type: 'submit', class: 'primary' }, 'Execute');
      const resetButton = h('button', { type: 'button', class: 'ghost', onclick: () => select(tool) }, 'Reset arguments');
      const resultHost = h('div', { class: 'tools-call-result', 'aria-live': 'polite' }, callView());
      const form = h('form', { class: 'stack tools-call-form' },
        h('div', {},
          h('h3', { class: 'tools-call-name' }, tool.name),
          tool.description ? h('p', { class: 'muted small tools-flush' }, tool.description) : null),
        h('label', { class: 'field' }, h('span', {}, 'Arguments (JSON)'), area),
        h('div', { class: 'row' }, runButton, resetButton),
        resultHost);
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        let args;
        try {
          args = state.args.trim() ? JSON.parse(state.args) : {};
        } catch (err) {
          state.call = { name: tool.name, error: `The arguments are not valid JSON: ${err.message}` };
          mount(resultHost, callView());
          return;
        }
        if (!args || typeof args !== 'object' || Array.isArray(args)) {
          state.call = { name: tool.name, error: 'The arguments must be a JSON object ({…}).' };
          mount(resultHost, callView());
          return;
        }
        runButton.disabled = true;
        mount(resultHost, spinner(`Calling ${tool.name}…`));
        const started = performance.now();
        try {
          const [answer] = await Promise.all([post('/api/tools/mcp/call', { name: tool.name, arguments: args }), loadAccountNames()]);
          state.call = { name: tool.name, answer, elapsed: performance.now() - started };
        } catch (err) {
          state.call = { name: tool.name, error: errorText(err) };
        } finally {
          runButton.disabled = false;
        }
        if (ctx.isCurrent() && state.selected === tool.name) mount(resultHost, callView());
      });
      mount(editorHost, form);
    }

    function callView() {
      const c = state.call;
      if (!c || c.name !== state.selected) return null;
      if (c.error) return errorBox(c.error);
      const { answer, elapsed } = c;
      const text = answer.content.length ? answer.content.map(contentText).join('\n\n') : '(no content)';
      return h('div', { class: 'stack tools-call-out' },
        h('div', { class: 'tools-summary small muted' },
          answer.isError ? badge('tool error', 'bad') : badge('ok', 'ok'),
          servedBy(answer.account),
          h('span', {}, ms(elapsed))),
        h('pre', { class: ['tools-output', answer.isError ? 'is-error' : ''], 'aria-label': 'Result' }, text));
    }

    async function loadTools(force = false) {
      if (state.tools && !force) return;
      state.tools = null;
      state.toolsError = null;
      reloadButton.disabled = true;
      drawList();
      try {
        const [list] = await Promise.all([get('/api/tools/mcp'), loadAccountNames()]);
        state.tools = list.tools;
        state.toolsAccount = list.account;
        if (!state.tools.some((t) => t.name === state.selected)) state.selected = null;
      } catch (err) {
        state.tools = null;
        state.toolsAccount = null;
        state.toolsError = errorText(err);
      } finally {
        reloadButton.disabled = false;
      }
      if (!ctx.isCurrent()) return;
      drawList();
      drawEditor();
    }

    drawResults();
    drawList();
    drawEditor();
    loadTools();
  },
};
