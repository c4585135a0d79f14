// JSON requests to the API (docs/api.md). Every failure becomes an ApiError with the server's
// code, message and (for query errors) column, or a message of our own when the response is not
// the API's JSON (a proxy's error page, a dropped connection). A 401 (the session ended or was
// never there, in team mode) also goes to the handler set with onUnauthorized, which shows the
// sign-in page; state-changing requests go through send(), which adds the CSRF token.

export class ApiError extends Error {
  constructor(status, code, message, column) {
    super(message);
    this.status = status;
    this.code = code;
    this.column = column;
  }
}

// The error object of a response body, or null.
export function errorOf(body) {
  const e = body && typeof body === 'object' ? body.error : null;
  if (!e || typeof e !== 'object') return null;
  return {
    code: typeof e.code === 'string' ? e.code : 'error',
    message: typeof e.message === 'string' ? e.message : 'the server reported an error',
    column: Number.isInteger(e.column) && e.column > 0 ? e.column : null,
  };
}

let unauthorized = null;
let csrfToken = '';

// fn(error) is called on every 401 except those of the requests made with {quiet: true}.
export function onUnauthorized(fn) {
  unauthorized = fn;
}

// The session's CSRF token (from the sign-in answer or /api/v1/me; '' without a session).
export function setCsrfToken(token) {
  csrfToken = typeof token === 'string' ? token : '';
}

async function request(url, init, { signal, quiet = false, empty = false } = {}) {
  let res;
  try {
    res = await fetch(url, { ...init, signal, credentials: 'same-origin' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'cannot reach the server', null);
  }
  if (empty && res.ok && res.status === 204) return null;
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok || body === null) {
    const e = errorOf(body);
    const err = e ? new ApiError(res.status, e.code, e.message, e.column)
      : new ApiError(res.status, 'http', 'the server answered ' + res.status + ' ' + res.statusText, null);
    err.retryAfter = retryAfter(res.headers.get('Retry-After'));
    if (res.status === 401 && !quiet && unauthorized) unauthorized(err);
    throw err;
  }
  return body;
}

// Seconds from a Retry-After header (delta-seconds only, as the server sends), or null.
export function retryAfter(value) {
  return /^[0-9]{1,9}$/.test(value || '') ? Number(value) : null;
}

export function getJSON(url, { signal, quiet } = {}) {
  return request(url, { headers: { Accept: 'application/json' } }, { signal, quiet });
}

// send('POST'|'PUT'|'DELETE', url, body): a state-changing request with a JSON body (or none),
// the CSRF token of the session, and the parsed answer (null for 204 No Content).
export function send(method, url, body, { signal, quiet } = {}) {
  if (!['POST', 'PUT', 'DELETE'].includes(method)) throw new Error('api.send: method ' + method);
  const headers = { Accept: 'application/json' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return request(url, init, { signal, quiet, empty: true });
}
