// api.js - calls to /api/v1 with the session cookie and the CSRF token.
let csrf = '';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Learn who we are and the session's CSRF token; null when not logged in.
export async function session() {
  const res = await fetch('/api/v1/session', { credentials: 'same-origin' });
  if (!res.ok) return null;
  const s = await res.json();
  csrf = s.csrf || '';
  return s;
}

export async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = csrf;
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const res = await fetch('/api/v1' + path, opts);
  if (res.status === 401) {
    location.replace('/login.html');
    throw new ApiError(401, 'session expired');
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error || `HTTP ${res.status}`);
  return data;
}
