// The admin API, as the console uses it: the session cookie authenticates, and every request
// carries `x-kiro-console: 1` (the server requires it of cookie-authenticated changes).

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/**
 * Calls the admin API. `path` starts with `/api/`. Resolves to the parsed JSON body (or null for
 * 204); rejects with ApiError carrying the server's message. A 401 also fires `kiro:logout` on
 * window, so the shell shows the login form.
 */
export async function api(path, { method = 'GET', body, headers = {}, raw = false } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { 'x-kiro-console': '1', accept: 'application/json', ...headers },
  };
  if (body !== undefined) {
    if (typeof body === 'string') {
      init.body = body;
    } else {
      init.body = JSON.stringify(body);
      init.headers['content-type'] = 'application/json';
    }
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, `cannot reach the proxy (${err.message})`);
  }
  if (raw) return response;
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = text; }
  }
  if (!response.ok) {
    const message = (data && data.error && (data.error.message || data.error)) || (typeof data === 'string' && data) || `HTTP ${response.status}`;
    if (response.status === 401 && !path.startsWith('/api/session')) {
      window.dispatchEvent(new CustomEvent('kiro:logout', { detail: String(message) }));
    }
    throw new ApiError(response.status, String(message), data);
  }
  return data;
}

export const get = (path) => api(path);
export const post = (path, body) => api(path, { method: 'POST', body: body ?? {} });
export const put = (path, body) => api(path, { method: 'PUT', body });
export const patch = (path, body) => api(path, { method: 'PATCH', body });
export const del = (path) => api(path, { method: 'DELETE' });

/** A query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
