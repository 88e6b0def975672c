// DOM helpers. Everything the console shows is built with `h`, which turns every string child
// into a text node: a value from the API (an e-mail, a label, an upstream error) can never become
// markup. Nothing in the console assigns HTML strings to elements.

/**
 * Creates an element.
 *   h('button', { class: 'primary', onclick: fn, title: 'Save' }, 'Save')
 * Props: `class` (string or array), `on<event>` (a listener), `dataset` (object), `style`
 * (object, applied through the CSSOM), `text` (text content); anything else is set as an
 * attribute (`true` → empty attribute, `false`/`null`/`undefined` → left out).
 * Children: strings and numbers become text nodes; nodes are appended; arrays are flattened;
 * `null`, `undefined` and `false` are skipped.
 */
export function h(tag, props, ...children) {
  const el = tag.startsWith('svg:')
    ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4))
    : document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') {
        const cls = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
        if (cls) el.setAttribute('class', cls);
      } else if (key === 'text') {
        el.textContent = String(value);
      } else if (key === 'dataset') {
        for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
      } else if (key === 'style') {
        for (const [k, v] of Object.entries(value)) el.style.setProperty(k, String(v));
      } else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2).toLowerCase(), value);
      } else if ((key === 'href' || key === 'src') && !/^(https?:|mailto:|#|\/|\.)/i.test(String(value))) {
        // Only web links: a `javascript:` URL from the API must not become clickable code.
        continue;
      } else if (key === 'value' && 'value' in el) {
        el.value = String(value);
      } else if (key === 'checked' || key === 'selected' || key === 'disabled') {
        el[key] = Boolean(value);
      } else {
        el.setAttribute(key, value === true ? '' : String(value));
      }
    }
  }
  append(el, children);
  return el;
}

/** Appends children (same rules as `h`). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An element marked as identifying (blurred in privacy mode). */
export function sensitive(text, tag = 'span') {
  return h(tag, { class: 'sensitive' }, text ?? '');
}

/** A badge: kind is one of ok, warn, bad, info, accent or empty. */
export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind] }, text);
}

let toastRoot = null;

/** A short message in the corner; kind is ok, bad, warn or info. */
export function toast(message, kind = 'info', ms = 4000) {
  if (!toastRoot || !toastRoot.isConnected) {
    toastRoot = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.append(toastRoot);
  }
  const el = h('div', { class: ['toast', kind] }, message);
  toastRoot.append(el);
  setTimeout(() => el.remove(), kind === 'bad' ? Math.max(ms, 8000) : ms);
  return el;
}

/**
 * A modal dialog. `body` is a node or an array of nodes; `actions` a list of
 * `{ label, kind, onClick }` where onClick may return false (or a promise of false) to keep the
 * dialog open. Returns `{ el, close, body }`. `onClose` runs once when the dialog closes.
 */
export function dialog({ title, body, actions = [], onClose, wide = false }) {
  const bodyEl = h('div', { class: 'dialog-body' }, body);
  const foot = h('div', { class: 'dialog-foot' });
  const el = h(
    'dialog',
    { 'aria-label': title, class: wide ? 'wide' : '' },
    h('div', { class: 'dialog-head' }, h('h2', { class: 'grow' }, title),
      h('button', { class: 'ghost small', 'aria-label': 'Close', onclick: () => close() }, '✕')),
    bodyEl,
    foot,
  );
  if (wide) el.style.setProperty('width', 'min(960px, calc(100vw - 24px))');
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    el.close();
    el.remove();
    if (onClose) onClose();
  };
  el.addEventListener('cancel', (e) => { e.preventDefault(); close(); });
  for (const action of actions) {
    const btn = h('button', { class: action.kind || '' }, action.label);
    btn.addEventListener('click', async () => {
      if (!action.onClick) return close();
      btn.disabled = true;
      try {
        const keep = await action.onClick(btn);
        if (keep !== false) close();
      } catch (err) {
        toast(errorText(err), 'bad');
      } finally {
        btn.disabled = false;
      }
    });
    foot.append(btn);
  }
  if (!actions.length) foot.remove();
  document.body.append(el);
  el.showModal();
  return { el, close, body: bodyEl };
}

/** Asks for confirmation; resolves true or false. */
export function confirmDialog(title, message, { confirmLabel = 'Confirm', danger = false } = {}) {
  return new Promise((resolve) => {
    let answer = false;
    dialog({
      title,
      body: h('p', {}, message),
      actions: [
        { label: 'Cancel' },
        { label: confirmLabel, kind: danger ? 'danger solid' : 'primary', onClick: () => { answer = true; } },
      ],
      onClose: () => resolve(answer),
    });
  });
}

/** A button that copies `text` (a string or a function giving one) to the clipboard. */
export function copyButton(text, label = 'Copy') {
  const btn = h('button', { class: 'small', type: 'button' }, label);
  btn.addEventListener('click', async () => {
    const value = typeof text === 'function' ? text() : text;
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard API unavailable (plain HTTP on a remote host): fall back to a selection.
      const area = h('textarea', { class: 'hidden' });
      area.value = value;
      document.body.append(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    btn.textContent = 'Copied';
    setTimeout(() => { btn.textContent = label; }, 1500);
  });
  return btn;
}

/** A labelled form field around `input`. */
export function field(label, input, hint) {
  return h('label', { class: 'field' }, h('span', {}, label), input, hint ? h('span', { class: 'hint' }, hint) : null);
}

/** A spinner with an optional text. */
export function spinner(text) {
  return h('span', { class: 'row' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text ? h('span', { class: 'muted' }, text) : null);
}

/** The message of an error from the API or the network, as text. */
export function errorText(err) {
  if (!err) return 'unknown error';
  return err.message || String(err);
}

/** A table: columns [{ label, num?, render(row) → node|string }], rows, options. */
export function table(columns, rows, { empty = 'Nothing here yet.', onRowClick, rowClass } = {}) {
  const head = h('tr', {}, columns.map((c) => h('th', { class: c.num ? 'num' : '' }, c.label)));
  const body = h('tbody');
  if (!rows.length) {
    body.append(h('tr', {}, h('td', { class: 'empty', colspan: String(columns.length) }, empty)));
  }
  for (const row of rows) {
    const tr = h('tr', { class: [onRowClick ? 'clickable' : '', rowClass ? rowClass(row) : ''] },
      columns.map((c) => h('td', { class: c.num ? 'num' : (c.class || '') }, c.render(row))));
    if (onRowClick) tr.addEventListener('click', (e) => {
      if (e.target.closest('button, a, input, select')) return;
      onRowClick(row);
    });
    body.append(tr);
  }
  return h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, head), body));
}
