// Recent searches (docs/ui.md, "Recent searches"): the last RECENT_MAX queries submitted in this
// browser, newest first, each once, kept in localStorage and never sent anywhere. The query box
// offers them when it is empty. A stored value that is not ours (corrupt, another version, an
// extension's) is ignored and replaced on the next search; storage that refuses (private
// windows, quota, disabled) means no recent searches, never an error.
// storage defaults to localStorage; the unit tests pass a Map-like stand-in.

export const RECENT_KEY = 'trawl.recent-searches';
export const RECENT_MAX = 20;
const QUERY_MAX = 2000; // characters: a longer query is run but not remembered

function store(storage) {
  if (storage) return storage;
  try {
    return globalThis.localStorage || null;
  } catch {
    return null; // a sandboxed document may throw on access
  }
}

// The recent queries, newest first: [] when there are none or the stored value is not a list of
// strings we wrote.
export function loadRecent(storage) {
  const s = store(storage);
  let raw = null;
  try {
    raw = s ? s.getItem(RECENT_KEY) : null;
  } catch {
    return [];
  }
  if (typeof raw !== 'string') return [];
  let v;
  try {
    v = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!v || v.version !== 1 || !Array.isArray(v.queries)) return [];
  const seen = new Set();
  const out = [];
  for (const q of v.queries) {
    if (typeof q !== 'string' || !q.trim() || q.length > QUERY_MAX || seen.has(q)) continue;
    seen.add(q);
    out.push(q);
    if (out.length === RECENT_MAX) break;
  }
  return out;
}

function save(list, storage) {
  const s = store(storage);
  try {
    if (s) s.setItem(RECENT_KEY, JSON.stringify({ version: 1, queries: list }));
  } catch {
    // Full or refused: the list is a convenience.
  }
}

// Records q as the newest recent search (moving it up when it was there); returns the list as
// stored (unchanged when the storage refuses).
export function recordRecent(q, storage) {
  const query = typeof q === 'string' ? q.trim() : '';
  const list = loadRecent(storage);
  if (!query || query.length > QUERY_MAX) return list;
  save([query, ...list.filter((x) => x !== query)].slice(0, RECENT_MAX), storage);
  return loadRecent(storage);
}

// Forgets q; returns the list.
export function removeRecent(q, storage) {
  save(loadRecent(storage).filter((x) => x !== q), storage);
  return loadRecent(storage);
}

// The suggestions (as suggest.js gives them) for an empty box: the recent queries; null when
// there are none. Accepting one replaces the whole box and runs it.
export function recentSuggestions(q, list) {
  if (q.trim() !== '' || !list.length) return null;
  return {
    from: 0,
    to: q.length,
    items: list.map((r) => ({ label: r, detail: 'recent search', insert: r, recent: true })),
  };
}
