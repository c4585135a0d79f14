// URLs of the UI's own routes and of the API, and the one gate every link goes through.
// Pure functions (no DOM), unit-tested in tests/browser/unit.mjs.

// safeHref returns url when it is safe to put in an href: a same-origin path ("/x", not "//x"
// or "/\x", which browsers read as another host), a fragment ("#L3"), or an absolute http(s)
// URL. Anything else (the javascript, data and vbscript schemes, relative paths whose meaning
// depends on the page) gives null, and the caller shows text instead of a link.
export function safeHref(url) {
  if (typeof url !== 'string' || url.length > 8192) return null;
  // Browsers strip ASCII tab and newline anywhere in a URL, and leading/trailing C0 controls and
  // spaces; refuse them rather than reason about the result.
  if (/[\u0000-\u0020\u007f]/.test(url)) return null;
  if (url.startsWith('#')) return url;
  if (url.startsWith('/')) return url[1] === '/' || url[1] === '\\' ? null : url;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  if (!url.slice(m[0].length).startsWith('//')) return null;
  return url;
}

function encodePath(path) {
  return path.split('/').map(encodeURIComponent).join('/');
}

function withParams(base, params) {
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') sp.set(k, String(v));
  }
  const s = sp.toString();
  return s ? base + '?' + s : base;
}

// A repository name may contain "/" (github.com/acme/api), so it is one percent-encoded path
// segment; the path in the repository follows as ordinary segments.
// matches: line numbers, or { line, ranges: [[start, end], ...] } with the UTF-8 byte ranges
// matched in that line (as the API's ranges), written "3,14:4-9.20-22" (at most 8 ranges a line).
export function fileHref(repo, path, { rev, matches, line } = {}) {
  let m;
  if (matches && matches.length) m = matches.slice(0, 200).map(formatMatch).join(',');
  const url = withParams('/file/' + encodeURIComponent(repo) + '/' + encodePath(path), { rev, m });
  return line ? url + '#L' + line : url;
}

export function parseFileRoute(pathname) {
  if (!pathname.startsWith('/file/')) return null;
  const parts = pathname.slice(6).split('/');
  if (parts.length < 2) return null;
  try {
    const repo = decodeURIComponent(parts[0]);
    const path = parts.slice(1).map(decodeURIComponent).join('/');
    if (!repo || !path) return null;
    return { repo, path };
  } catch {
    return null; // malformed percent-encoding
  }
}

export function searchHref(q) {
  return withParams('/search', { q });
}

export function apiRepo(repo) {
  return '/api/v1/repos/' + encodeURIComponent(repo);
}

export function apiFile(repo, path, rev) {
  return withParams(apiRepo(repo) + '/file', { rev, path });
}

export function rawHref(repo, path, rev) {
  return withParams(apiRepo(repo) + '/raw', { rev, path });
}

export function streamHref(q, context) {
  return withParams('/api/v1/search/stream', { q, context });
}

export function searchApiHref(q, context) {
  return withParams('/api/v1/search', { q, context });
}

// "#L10" or "#L10-L20" (also "#L10-20", and reversed ranges) -> {start, end}; else null.
export function parseLineHash(hash) {
  const m = /^#L([1-9][0-9]{0,8})(?:-L?([1-9][0-9]{0,8}))?$/.exec(hash || '');
  if (!m) return null;
  const a = Number(m[1]);
  const b = m[2] ? Number(m[2]) : a;
  return { start: Math.min(a, b), end: Math.max(a, b) };
}

export function formatLineHash(start, end) {
  return start === end ? '#L' + start : '#L' + start + '-L' + end;
}

// The "m" parameter of a file link: the matched lines, "3,7,12" -> [3, 7, 12].
function formatMatch(m) {
  if (typeof m === 'number') return String(m);
  const ranges = (m.ranges || []).slice(0, 8).filter((r) => Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 0 && r[1] > r[0]);
  return ranges.length ? m.line + ':' + ranges.map((r) => r[0] + '-' + r[1]).join('.') : String(m.line);
}

// The m= parameter of a file URL: [{ line, ranges }] (ranges empty when only the line is known).
// Anything malformed is dropped, never an error: the URL is the user's.
export function parseMatches(s) {
  const out = [];
  for (const part of (s || '').split(',').slice(0, 1000)) {
    const mm = /^([1-9][0-9]{0,8})(?::([0-9]{1,9}-[0-9]{1,9}(?:\.[0-9]{1,9}-[0-9]{1,9}){0,7}))?$/.exec(part);
    if (!mm) continue;
    const ranges = [];
    for (const r of mm[2] ? mm[2].split('.') : []) {
      const [a, b] = r.split('-').map(Number);
      if (b > a) ranges.push([a, b]);
    }
    out.push({ line: Number(mm[1]), ranges });
  }
  return out;
}

export function parseMatchLines(s) {
  return parseMatches(s).map((m) => m.line);
}

// Regexp metacharacters escaped, for repo:^NAME$ built from a repository name.
export function escapeRegexp(s) {
  return s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}

// The UI's own pages for accounts (docs/ui.md, "Signing in").
export const SIGNIN_PATH = '/account/signin';

// Where to go after signing in: next when it is a path of this UI (one "/" then not "/" or "\",
// no control characters or spaces, not the API, not the sign-in page itself), else "/". An
// absolute URL, "//host" or "/\host" from the query string never leaves this origin.
export function safeNext(next) {
  if (typeof next !== 'string' || next.length > 4096) return '/';
  if (!next.startsWith('/') || next[1] === '/' || next[1] === '\\') return '/';
  if (/[\u0000-\u0020\u007f\\]/.test(next)) return '/';
  if (/^\/api(\/|$)/.test(next) || next === SIGNIN_PATH || next.startsWith(SIGNIN_PATH + '?')) return '/';
  return next;
}

export function signinHref(next) {
  const n = safeNext(next);
  return n === '/' ? SIGNIN_PATH : withParams(SIGNIN_PATH, { next: n });
}

export function apiToken(id) {
  return '/api/v1/tokens/' + encodeURIComponent(String(id));
}

export function apiUser(name, sub) {
  return '/api/v1/users/' + encodeURIComponent(name) + (sub ? '/' + sub : '');
}

export function apiGroup(name, sub) {
  return '/api/v1/groups/' + encodeURIComponent(name) + (sub ? '/' + sub : '');
}

export function apiRepoAccess(repo) {
  return apiRepo(repo) + '/access';
}

export function apiAudit({ user, event, since, limit } = {}) {
  return withParams('/api/v1/audit', { user, event, since, limit });
}

// ---- Browsing: the repository home page, directory pages and their API (docs/ui.md) ----

// "/repos/{name}?rev=REV": the repository's home page (the name is one percent-encoded segment).
export function repoHref(repo, rev) {
  return withParams('/repos/' + encodeURIComponent(repo), { rev });
}

// The repository name of "/PREFIX/NAME" or "/PREFIX/NAME/"; null for anything else (no name,
// more segments, malformed percent-encoding).
function nameRoute(pathname, prefix) {
  if (!pathname.startsWith(prefix)) return null;
  const m = /^([^/]+)\/?$/.exec(pathname.slice(prefix.length));
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]) || null;
  } catch {
    return null;
  }
}

// "/repos/NAME" -> the name, whose home page it is.
export function parseRepoRoute(pathname) {
  return nameRoute(pathname, '/repos/');
}

// A directory page: the file view's URL with a trailing "/", which tells the page to list the
// directory without first asking for a file of that name. The root is the home page.
export function dirHref(repo, path, rev) {
  if (!path) return repoHref(repo, rev);
  return withParams('/file/' + encodeURIComponent(repo) + '/' + encodePath(path) + '/', { rev });
}

// "/file/NAME" or "/file/NAME/" (no path): the repository's name, whose home page it means.
export function parseFileRootRoute(pathname) {
  return nameRoute(pathname, '/file/');
}

export function apiTree(repo, path, rev) {
  return withParams(apiRepo(repo) + '/tree', { rev, path });
}

export function apiReadme(repo, path, rev) {
  return withParams(apiRepo(repo) + '/readme', { rev, path });
}

// The file view's URL pinned to a commit, keeping the selected lines (#L..) and the marks (m=).
export function permalinkHref(repo, path, commit, search, hash) {
  const sp = new URLSearchParams(search || '');
  sp.set('rev', commit);
  const sel = parseLineHash(hash);
  const base = '/file/' + encodeURIComponent(repo) + '/' + encodePath(path) + '?' + sp.toString();
  return sel ? base + formatLineHash(sel.start, sel.end) : base;
}
