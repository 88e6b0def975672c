// The models page: the upstream catalogue (context window, output limit, credit multiplier,
// images, thinking), the operator's alias mapping (alias → upstream model, edited as rows and
// saved as a whole), and the default model.
import { h, mount, badge, toast, confirmDialog, spinner, errorText, table } from '../lib/dom.js';
import { get, put } from '../lib/api.js';
import { num, compact } from '../lib/format.js';

const DATALIST_ID = 'models-upstream-ids';

/** The field a 400 names: "`mapping.team` must…" → "mapping.team". */
function errorField(err) {
  const m = /^`([^`]+)`/.exec((err && err.message) || '');
  return m ? m[1] : null;
}

function thinkingBadge(m) {
  const kinds = {
    native: ['native', 'accent', 'The model thinks through the upstream\'s own reasoning events.'],
    tags: ['via tags', 'info', 'Thinking is asked for in the prompt and parsed out of the reply.'],
  };
  const k = kinds[m.thinking];
  if (!k) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'row models-gap' }, h('span', { class: ['badge', k[1]], title: k[2] }, k[0]),
    m.thinkingByDefault ? h('span', { class: 'muted small' }, 'on by default') : null);
}

export default {
  async render(root, ctx) {
    const state = { models: [], mapping: {}, defaultModel: null };
    const catalogueHost = h('div', {}, spinner('Loading models…'));
    const mappingHost = h('div', { class: 'stack' });
    const defaultHost = h('div', { class: 'stack' });
    const datalist = h('datalist', { id: DATALIST_ID });

    ctx.setActions(h('button', { type: 'button', class: 'ghost small', onclick: () => load(true) }, '↻ Refresh'));
    mount(root,
      h('div', { class: 'models-grid' },
        h('section', { class: 'card', 'aria-labelledby': 'models-mapping-title' },
          h('div', { class: 'card-head' }, h('h2', { id: 'models-mapping-title', class: 'grow' }, 'Alias mapping')),
          h('p', { class: 'muted small models-flush' },
            'Clients may ask for a name of your choosing; the proxy sends the upstream model it maps to. '
            + 'Handy for a stable team default, or for names a client insists on. Saved as a whole; applies to the next request.'),
          mappingHost),
        h('section', { class: 'card', 'aria-labelledby': 'models-default-title' },
          h('div', { class: 'card-head' }, h('h2', { id: 'models-default-title', class: 'grow' }, 'Default model')),
          defaultHost)),
      h('section', { class: 'card', 'aria-labelledby': 'models-catalogue-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'models-catalogue-title', class: 'grow' }, 'Upstream models'),
          h('span', { class: 'muted small' }, 'Credits are per request, times the multiplier.')),
        catalogueHost),
      datalist);

    // ---- catalogue ----
    function drawCatalogue() {
      const aliasesOf = (id) => Object.entries(state.mapping).filter(([, t]) => t === id).map(([a]) => a);
      const columns = [
        {
          label: 'Model',
          render: (m) => h('span', { class: 'row models-gap' }, h('code', { class: 'models-id' }, m.id),
            state.defaultModel === m.id ? badge('default', 'ok') : null),
        },
        { label: 'Context window', num: true, render: (m) => h('span', { title: `${num(m.contextWindow)} tokens` }, compact(m.contextWindow)) },
        { label: 'Max output', num: true, render: (m) => h('span', { title: `${num(m.maxOutputTokens)} tokens` }, compact(m.maxOutputTokens)) },
        {
          label: 'Credits',
          num: true,
          render: (m) => h('span', { class: m.creditMultiplier > 1 ? 'models-costly' : m.creditMultiplier < 1 ? 'models-cheap' : '' }, `× ${m.creditMultiplier}`),
        },
        { label: 'Images', render: (m) => (m.images ? h('span', { class: 'models-yes', title: 'accepts images' }, '✓ yes') : h('span', { class: 'muted' }, '—')) },
        { label: 'Thinking', render: thinkingBadge },
        {
          label: 'Aliases',
          render: (m) => {
            const aliases = aliasesOf(m.id);
            return aliases.length ? h('span', { class: 'row models-gap' }, aliases.map((a) => badge(a, 'info'))) : h('span', { class: 'muted' }, '—');
          },
        },
      ];
      mount(catalogueHost, table(columns, state.models, { empty: 'The upstream offers no models (is an account configured?).' }));
      mount(datalist, state.models.map((m) => h('option', { value: m.id })));
    }

    // ---- mapping editor ----
    let rows = [];
    let savedMapping = {};
    const status = h('span', { class: 'small models-status', role: 'status' });
    const rowsHost = h('div', { class: 'stack models-rows' });
    const saveBtn = h('button', { type: 'button', class: 'primary', onclick: () => saveMapping() }, 'Save mapping');
    const discardBtn = h('button', { type: 'button', class: 'ghost', onclick: () => { setRows(savedMapping); } }, 'Discard changes');
    const generalError = h('p', { class: 'error-text models-flush field-error', role: 'alert' });

    function currentMapping() {
      return rows.map((r) => [r.alias.value.trim(), r.target.value.trim()]);
    }

    function dirty() {
      const now = currentMapping().filter(([a, t]) => a || t);
      const saved = Object.entries(savedMapping);
      return JSON.stringify(now) !== JSON.stringify(saved);
    }

    function updateStatus(message, kind) {
      status.className = `small models-status ${kind || ''}`;
      if (message !== undefined) {
        status.textContent = message;
      } else if (dirty()) {
        status.textContent = 'Unsaved changes';
        status.className = 'small models-status warn';
      } else {
        status.textContent = '';
      }
      discardBtn.classList.toggle('hidden', !dirty());
    }

    function makeRow(alias = '', target = '') {
      const row = {};
      row.alias = h('input', { type: 'text', value: alias, placeholder: 'alias, e.g. team-default', 'aria-label': 'Alias', class: 'models-alias' });
      row.target = h('input', { type: 'text', value: target, list: DATALIST_ID, placeholder: 'upstream model', 'aria-label': 'Upstream model', class: 'models-target' });
      row.hint = h('span', { class: 'small models-hint' });
      row.error = h('span', { class: 'error-text small field-error', role: 'alert' });
      const check = () => {
        const t = row.target.value.trim();
        if (!t) {
          row.hint.textContent = '';
        } else if (state.models.some((m) => m.id === t)) {
          row.hint.textContent = '';
        } else {
          row.hint.textContent = 'not in the catalogue: sent as typed';
        }
        updateStatus();
      };
      const clearError = () => { row.error.textContent = ''; row.alias.classList.remove('invalid'); row.target.classList.remove('invalid'); };
      row.alias.addEventListener('input', () => { clearError(); updateStatus(); });
      row.target.addEventListener('input', () => { clearError(); check(); });
      row.remove = h('button', {
        type: 'button', class: 'ghost small danger', 'aria-label': 'Remove alias', title: 'Remove this alias',
        onclick: () => { rows = rows.filter((r) => r !== row); drawRows(); updateStatus(); },
      }, '✕');
      row.el = h('div', { class: 'models-row' },
        h('div', { class: 'models-pair' }, row.alias, h('span', { class: 'models-arrow', 'aria-hidden': 'true' }, '→'), row.target, row.remove),
        row.hint, row.error);
      row.setError = (message, which = 'both') => {
        row.error.textContent = message;
        if (which !== 'target') row.alias.classList.add('invalid');
        if (which !== 'alias') row.target.classList.add('invalid');
      };
      check();
      return row;
    }

    function drawRows() {
      if (!rows.length) {
        mount(rowsHost, h('div', { class: 'empty models-empty' },
          h('div', {}, 'No aliases. Clients use the upstream names (and Anthropic-style names such as claude-sonnet-4-5).'),
          h('div', { class: 'small' }, 'Add one to give a model a name of your own.')));
        return;
      }
      mount(rowsHost,
        h('div', { class: 'models-pair models-head', 'aria-hidden': 'true' }, h('span', {}, 'Alias (what clients send)'), h('span', {}), h('span', {}, 'Upstream model'), h('span', {})),
        rows.map((r) => r.el));
    }

    function setRows(mapping) {
      rows = Object.entries(mapping).map(([a, t]) => makeRow(a, t));
      generalError.textContent = '';
      drawRows();
      updateStatus();
    }

    function addRow() {
      const row = makeRow();
      rows.push(row);
      drawRows();
      updateStatus();
      row.alias.focus();
    }

    async function saveMapping() {
      generalError.textContent = '';
      const mapping = {};
      let bad = false;
      for (const r of rows) {
        const a = r.alias.value.trim();
        const t = r.target.value.trim();
        if (!a && !t) continue;
        if (!a) { r.setError('Name the alias.', 'alias'); bad = true; continue; }
        if (!t) { r.setError('Choose the upstream model.', 'target'); bad = true; continue; }
        if (Object.hasOwn(mapping, a)) { r.setError(`${a} is listed twice.`, 'alias'); bad = true; continue; }
        mapping[a] = t;
      }
      if (bad) { updateStatus('Fix the marked rows first.', 'bad'); return; }
      saveBtn.disabled = true;
      updateStatus('Saving…');
      try {
        const res = await put('/api/model-mapping', { mapping });
        state.mapping = res.mapping || {};
        savedMapping = { ...state.mapping };
        setRows(savedMapping);
        updateStatus(`Saved ${Object.keys(savedMapping).length} alias${Object.keys(savedMapping).length === 1 ? '' : 'es'}.`, 'ok');
        toast('Model mapping saved: it applies to the next request.', 'ok');
        drawCatalogue();
        drawDefault();
      } catch (err) {
        const field = errorField(err);
        const alias = field && field.startsWith('mapping.') ? field.slice('mapping.'.length) : null;
        const row = alias !== null && rows.find((r) => r.alias.value.trim() === alias);
        if (row) row.setError(errorText(err)); else generalError.textContent = errorText(err);
        updateStatus('Not saved.', 'bad');
      } finally {
        saveBtn.disabled = false;
      }
    }

    mount(mappingHost,
      rowsHost,
      generalError,
      h('div', { class: 'row models-foot' },
        h('button', { type: 'button', onclick: addRow }, '+ Add alias'),
        h('span', { class: 'spacer' }),
        status, discardBtn, saveBtn));

    // ---- default model ----
    const defaultSelect = h('select', { 'aria-label': 'Default model', class: 'models-default' });
    const defaultStatus = h('span', { class: 'small models-status', role: 'status' });
    const defaultSave = h('button', { type: 'button', class: 'primary', onclick: () => saveDefault() }, 'Save');
    defaultSelect.addEventListener('change', () => {
      defaultStatus.textContent = (defaultSelect.value || null) !== state.defaultModel ? 'Unsaved change' : '';
      defaultStatus.className = 'small models-status warn';
    });

    function drawDefault() {
      const ids = state.models.map((m) => m.id);
      const aliases = Object.keys(state.mapping);
      const current = state.defaultModel;
      const known = current === null || ids.includes(current) || aliases.includes(current);
      mount(defaultSelect,
        h('option', { value: '', selected: !current }, 'None: clients name a model'),
        h('optgroup', { label: 'Upstream models' }, ids.map((id) => h('option', { value: id, selected: id === current }, id))),
        aliases.length ? h('optgroup', { label: 'Your aliases' }, aliases.map((a) => h('option', { value: a, selected: a === current }, `${a} → ${state.mapping[a]}`))) : null,
        known ? null : h('option', { value: current, selected: true }, `${current} (not in the catalogue)`));
      defaultSelect.value = current || '';
    }

    async function saveDefault() {
      defaultSave.disabled = true;
      defaultSelect.classList.remove('invalid');
      defaultStatus.className = 'small models-status';
      defaultStatus.textContent = 'Saving…';
      try {
        const res = await put('/api/settings', { defaultModel: defaultSelect.value || null });
        state.defaultModel = res.defaultModel || null;
        defaultStatus.className = 'small models-status ok';
        defaultStatus.textContent = state.defaultModel ? `Saved: ${state.defaultModel}.` : 'Saved: no default.';
        drawCatalogue();
      } catch (err) {
        defaultSelect.classList.add('invalid');
        defaultStatus.className = 'small models-status bad';
        defaultStatus.textContent = errorText(err);
      } finally {
        defaultSave.disabled = false;
      }
    }

    mount(defaultHost,
      h('p', { class: 'muted small models-flush' },
        'The model the playground starts with, and what the console offers clients that name none. The client APIs themselves still expect a model.'),
      h('label', { class: 'field' }, h('span', {}, 'Default model'), defaultSelect),
      h('div', { class: 'row' }, defaultStatus, h('span', { class: 'spacer' }), defaultSave));

    // ---- loading ----
    async function load(manual = false) {
      if (manual && dirty()) {
        const ok = await confirmDialog('Discard your changes?', 'The mapping has unsaved changes; reloading replaces them with what the server has.', { confirmLabel: 'Reload' });
        if (!ok) return;
      }
      try {
        const data = await get('/api/models');
        if (!ctx.isCurrent()) return;
        state.models = data.models || [];
        state.mapping = data.mapping || {};
        state.defaultModel = data.defaultModel || null;
        savedMapping = { ...state.mapping };
        drawCatalogue();
        setRows(savedMapping);
        drawDefault();
        defaultStatus.textContent = '';
      } catch (err) {
        if (!ctx.isCurrent() || err.status === 401) return;
        mount(catalogueHost, h('p', { class: 'error-text' }, `Could not load the models: ${errorText(err)}`));
      }
    }

    // Leaving with unsaved aliases would lose them silently: say so.
    ctx.onLeave(() => { if (dirty()) toast('The alias mapping had unsaved changes; they were discarded.', 'warn'); });
    await load();
  },
};
