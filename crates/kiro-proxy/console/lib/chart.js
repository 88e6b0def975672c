// Small SVG charts: bars (stacked or grouped) and lines over time buckets. Built with DOM calls
// only; labels are text nodes.

import { h } from './dom.js';
import { compact } from './format.js';

const W = 720;
const PAD = { top: 12, right: 12, bottom: 26, left: 48 };

function niceMax(value) {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (value <= step * exp) return step * exp;
  }
  return 10 * exp;
}

/**
 * A chart over time.
 *   points: [{ label: 'axis label', title: 'tooltip heading', values: [n, n…] }]
 *   series: [{ name: 'Requests' }, …]  (one per value; colours series-0…3)
 *   kind: 'bar' (grouped bars), 'stack' (stacked bars) or 'line'
 *   height: px in the SVG's own units (width is 720, scaled to the container)
 *   format: value formatter for the axis and tooltips
 */
export function timeChart({ points, series, kind = 'bar', height = 200, format = compact, ariaLabel = 'chart' }) {
  const svg = h('svg:svg', {
    class: 'chart', viewBox: `0 0 ${W} ${height}`, role: 'img', 'aria-label': ariaLabel,
    preserveAspectRatio: 'none',
  });
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const n = Math.max(points.length, 1);
  const totals = points.map((p) => (kind === 'stack' ? p.values.reduce((a, b) => a + (b || 0), 0) : Math.max(0, ...p.values.map((v) => v || 0))));
  const max = niceMax(Math.max(0, ...totals));
  const y = (v) => PAD.top + plotH - (v / max) * plotH;

  for (let i = 0; i <= 4; i += 1) {
    const v = (max / 4) * i;
    const yy = y(v);
    svg.append(h('svg:line', { class: 'grid-line', x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy }));
    svg.append(h('svg:text', { x: PAD.left - 6, y: yy + 4, 'text-anchor': 'end' }, format(v)));
  }
  const slot = plotW / n;
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  points.forEach((p, i) => {
    if (i % labelEvery === 0) {
      svg.append(h('svg:text', { x: PAD.left + slot * i + slot / 2, y: height - 8, 'text-anchor': 'middle' }, p.label));
    }
  });

  if (kind === 'line') {
    series.forEach((s, si) => {
      const coords = points.map((p, i) => [PAD.left + slot * i + slot / 2, y(p.values[si] || 0)]);
      if (!coords.length) return;
      const d = coords.map(([cx, cy], i) => `${i ? 'L' : 'M'}${cx.toFixed(1)},${cy.toFixed(1)}`).join(' ');
      const area = `${d} L${coords[coords.length - 1][0].toFixed(1)},${y(0)} L${coords[0][0].toFixed(1)},${y(0)} Z`;
      svg.append(h('svg:path', { class: `area series-${si}`, d: area }));
      svg.append(h('svg:path', { class: `line series-${si}`, d }));
    });
    points.forEach((p, i) => {
      const hit = h('svg:rect', { x: PAD.left + slot * i, y: PAD.top, width: slot, height: plotH, fill: 'transparent' });
      hit.append(h('svg:title', {}, tooltip(p, series, format)));
      svg.append(hit);
    });
  } else {
    const groups = kind === 'stack' ? 1 : series.length;
    const barW = Math.max(1, (slot * 0.78) / groups);
    points.forEach((p, i) => {
      let stackBase = 0;
      const g = h('svg:g', {});
      series.forEach((s, si) => {
        const v = p.values[si] || 0;
        let x; let top; let bottom;
        if (kind === 'stack') {
          x = PAD.left + slot * i + slot * 0.11;
          bottom = y(stackBase);
          stackBase += v;
          top = y(stackBase);
        } else {
          x = PAD.left + slot * i + slot * 0.11 + barW * si;
          bottom = y(0);
          top = y(v);
        }
        const hgt = Math.max(0, bottom - top);
        if (hgt > 0) g.append(h('svg:rect', { class: `series-${si}`, x, y: top, width: barW, height: hgt, rx: Math.min(2, barW / 3) }));
      });
      const hit = h('svg:rect', { x: PAD.left + slot * i, y: PAD.top, width: slot, height: plotH, fill: 'transparent' });
      hit.append(h('svg:title', {}, tooltip(p, series, format)));
      g.append(hit);
      svg.append(g);
    });
  }

  const legend = h('div', { class: 'chart-legend' },
    series.map((s, si) => h('span', {}, h('span', { class: `swatch series-${si}` }), s.name)));
  return h('div', { class: 'stack' }, svg, legend);
}

function tooltip(point, series, format) {
  return [point.title || point.label, ...series.map((s, si) => `${s.name}: ${format(point.values[si] || 0)}`)].join('\n');
}

/** Horizontal bars for a ranking: items [{ label, value, sub? }]. */
export function rankBars(items, { format = compact, max } = {}) {
  const top = max ?? Math.max(1, ...items.map((i) => i.value));
  return h('div', { class: 'stack' }, items.map((item, idx) => {
    const fill = h('span', {});
    fill.style.setProperty('width', `${Math.max(1, (item.value / top) * 100)}%`);
    return h('div', { class: 'stack', style: { gap: '4px' } },
      h('div', { class: 'row' }, h('span', { class: ['grow', item.sensitive ? 'sensitive' : ''] }, item.label), h('span', { class: 'muted small' }, format(item.value)), item.sub ? h('span', { class: 'muted small' }, item.sub) : null),
      h('div', { class: ['bar', idx === 0 ? '' : ''] }, fill));
  }));
}

/** A quota bar: used of limit; red above 80 %, amber above 50 %. `label` names it for screen readers. */
export function quotaBar(used, limit, label = 'Quota used') {
  const frac = limit > 0 ? Math.min(1, used / limit) : 0;
  const fill = h('span', {});
  fill.style.setProperty('width', `${(frac * 100).toFixed(1)}%`);
  return h('div', { class: ['bar', frac > 0.8 ? 'bad' : frac > 0.5 ? 'warn' : ''], role: 'progressbar', 'aria-label': label, 'aria-valuenow': String(Math.round(frac * 100)), 'aria-valuemin': '0', 'aria-valuemax': '100' }, fill);
}
