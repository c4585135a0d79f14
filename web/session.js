// Who is signed in (GET /api/v1/me), signing in and out, and the CSRF token every
// state-changing request carries (docs/ui.md, "Signing in"). In laptop mode (no account in
// the data directory) the server answers every request as the local user: there is nothing to
// sign in to and no user menu.
import { ApiError, getJSON, send, setCsrfToken } from './api.js';

const str = (v) => (typeof v === 'string' ? v : '');

// The fields of ME the UI uses, checked: anything odd in the answer reads as "no right".
function checkMe(body) {
  return {
    name: str(body && body.name),
    displayName: str(body && body.display_name),
    isAdmin: body && body.is_admin === true,
    scopes: Array.isArray(body && body.scopes) ? body.scopes.filter((s) => typeof s === 'string') : [],
    auth: str(body && body.auth),
    mode: body && body.mode === 'team' ? 'team' : 'laptop',
    notices: Array.isArray(body && body.notices) ? body.notices : [],
    // The longest token the account may make (single sign-on accounts), 0: none; null: no bound.
    tokenMaxDays: body && Number.isInteger(body.token_max_days) && body.token_max_days >= 0 ? body.token_max_days : null,
  };
}

export class Session {
  constructor() {
    this.me = null;          // checkMe(...) once known and signed in (or local)
    this.signedOut = false;  // team mode and no valid session
  }

  get team() { return !!this.me && this.me.mode === 'team'; }

  // Asks the server who we are. A 401 means team mode without a session; a 404 is a server
  // without accounts at all (as laptop mode).
  async load() {
    try {
      this.accept(await getJSON('/api/v1/me', { quiet: true }));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.forget();
      else if (err instanceof ApiError && err.status === 404) this.me = checkMe({ mode: 'laptop' });
      else throw err;
    }
  }

  accept(body) {
    this.me = checkMe(body);
    this.signedOut = false;
    setCsrfToken(body && body.csrf_token);
  }

  forget() {
    this.me = null;
    this.signedOut = true;
    setCsrfToken('');
  }

  // Throws the server's ApiError (401 with its one message, 429 with retryAfter).
  async signIn(user, password) {
    const body = await send('POST', '/api/v1/session', { user, password }, { quiet: true });
    this.me = checkMe(body && body.user);
    this.signedOut = false;
    setCsrfToken(body && body.csrf_token);
  }

  async signOut() {
    try {
      await send('DELETE', '/api/v1/session', undefined, { quiet: true });
    } finally {
      this.forget();
    }
  }
}
