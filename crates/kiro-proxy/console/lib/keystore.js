// Client keys created in this browser tab, kept in memory only (never in storage): the API keys
// page puts a new key here so the playground can use it without pasting.

const keys = new Map();

/** Remembers a newly created client key under its display name. */
export function rememberKey(name, key) {
  keys.set(name, key);
}

/** The remembered keys, newest last: [{ name, key }]. */
export function rememberedKeys() {
  return [...keys.entries()].map(([name, key]) => ({ name, key }));
}
