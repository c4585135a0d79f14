// JSON requests to the API (docs/api.md). Every failure becomes an ApiError with the server's
// code, message and (for query errors) column, or a message of our own when the response is not
// the API's JSON (a proxy's error page, a dropped connection).

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

export async function getJSON(url, { signal } = {}) {
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' }, credentials: 'same-origin' });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'cannot reach the server', null);
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok || body === null) {
    const e = errorOf(body);
    if (e) throw new ApiError(res.status, e.code, e.message, e.column);
    throw new ApiError(res.status, 'http', 'the server answered ' + res.status + ' ' + res.statusText, null);
  }
  return body;
}
