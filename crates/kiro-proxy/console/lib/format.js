// Number, time and size formatting for the console (the browser's locale).

const nf = new Intl.NumberFormat();
const compactNf = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

export function num(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return nf.format(Number(n));
}

export function compact(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '–';
  return Math.abs(Number(n)) < 10000 ? nf.format(Math.round(Number(n) * 100) / 100) : compactNf.format(Number(n));
}

/** A fraction (0..1) as a percentage. */
export function pct(fraction, digits = 1) {
  if (fraction === null || fraction === undefined || Number.isNaN(Number(fraction))) return '–';
  return `${(Number(fraction) * 100).toFixed(digits)} %`;
}

export function credits(n) {
  if (n === null || n === undefined) return '–';
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: 2 });
}

/** Unix seconds → local date and time. */
export function dateTime(unix) {
  if (!unix) return '–';
  return new Date(Number(unix) * 1000).toLocaleString();
}

export function date(unix) {
  if (!unix) return '–';
  return new Date(Number(unix) * 1000).toLocaleDateString();
}

/** Unix seconds → "in 3 h", "5 min ago". */
export function relTime(unix) {
  if (!unix) return '–';
  const diff = Number(unix) - Date.now() / 1000;
  const abs = Math.abs(diff);
  let text;
  if (abs < 60) text = `${Math.round(abs)} s`;
  else if (abs < 3600) text = `${Math.round(abs / 60)} min`;
  else if (abs < 86400 * 2) text = `${Math.round(abs / 3600)} h`;
  else text = `${Math.round(abs / 86400)} d`;
  return diff >= 0 ? `in ${text}` : `${text} ago`;
}

/** Milliseconds → "850 ms", "2.4 s". */
export function ms(value) {
  if (value === null || value === undefined) return '–';
  const v = Number(value);
  return v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10000 ? 2 : 1)} s`;
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i += 1; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

/** Seconds since the epoch, now. */
export function nowUnix() {
  return Math.floor(Date.now() / 1000);
}
