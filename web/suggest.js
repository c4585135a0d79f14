// Suggestions for the query box: filter names while a word is typed, then values for the filter
// under the cursor (languages for lang:, repositories for repo:, the fixed values of settings).
// Pure: the caller passes the repository names and the language table.
// The filter names and a setting's values come from the server's list (fields.js).
import { escapeRegexp } from './urls.js';
import { getFields, fieldByName } from './fields.js';

const COMMON_LANGS = ['C', 'C++', 'Go', 'Java', 'JavaScript', 'Markdown', 'Python', 'Rust', 'Shell', 'TypeScript'];
const MAX_ITEMS = 12;

const isWs = (c) => /\s/.test(c);

// A value as the parser reads it: quoted when it has whitespace or quotes. (A bare value may
// hold backslashes, and parentheses balanced within it; regexps from escapeRegexp escape them.)
export function quoteValue(v) {
  if (!/[\s"']/.test(v)) return v;
  return '"' + v.replace(/[\\"]/g, '\\$&') + '"';
}

// Items whose keys match what was typed: an exact name or alias first, then names that start
// with it, then aliases that do, then names or aliases containing it.
// The filter that selects exactly one repository: repo:^NAME$ (quoted when needed).
export function repoFilter(name) {
  return 'repo:' + quoteValue('^' + escapeRegexp(name) + '$');
}

function rank(items, typed, keyOf) {
  const t = typed.toLowerCase();
  const tiers = [[], [], [], []];
  for (const it of items) {
    const [name, ...aliases] = keyOf(it).map((k) => k.toLowerCase());
    const all = [name, ...aliases];
    if (t && all.includes(t)) tiers[0].push(it);
    else if (name.startsWith(t)) tiers[1].push(it);
    else if (aliases.some((k) => k.startsWith(t))) tiers[2].push(it);
    else if (t.length >= 2 && all.some((k) => k.includes(t))) tiers[3].push(it);
  }
  return tiers.flat().slice(0, MAX_ITEMS);
}

// The name a repo: value stands for: its quote, regexp anchors and escapes dropped.
function repoValue(typed) {
  return typed.replace(/^\^/, '').replace(/\$$/, '').replace(/\\(.)/g, '$1');
}

// The repository name typed as a repo: value up to the cursor, or null when the cursor is in no
// repo: value: what the query box asks the server's list for (/api/v1/repos?q=).
export function repoTyped(q, cursor) {
  if (cursor < 0 || cursor > q.length) return null;
  let from = cursor;
  while (from > 0 && !isWs(q[from - 1]) && q[from - 1] !== '(') from--;
  const m = /^-?([A-Za-z]+):(.*)$/s.exec(q.slice(from, cursor));
  if (!m) return null;
  const field = fieldByName(m[1].toLowerCase());
  if ((field ? field.name : m[1].toLowerCase()) !== 'repo') return null;
  const typed = m[2].startsWith('"') || m[2].startsWith("'") ? m[2].slice(1) : m[2];
  return repoValue(typed);
}

// suggest(q, cursor, {repos, languages}) -> {from, to, items: [{label, detail, insert, more}]}
// or null. Accepting an item replaces q[from, to) by item.insert; `more` says the value comes
// next (keep suggesting).
export function suggest(q, cursor, { repos = [], languages = [] } = {}) {
  if (cursor < 0 || cursor > q.length) return null;
  // The word under the cursor: back to whitespace or "(", forward to whitespace.
  let from = cursor;
  while (from > 0 && !isWs(q[from - 1]) && q[from - 1] !== '(') from--;
  let to = cursor;
  while (to < q.length && !isWs(q[to])) to++;
  const word = q.slice(from, cursor);
  const trail = to >= q.length ? ' ' : '';

  let m = /^(-?)([A-Za-z]+)$/.exec(word);
  if (m) {
    const neg = m[1];
    // Shown in the server's order; aliases are accepted by the parser but not offered.
    const items = getFields().filter((f) => f.name.startsWith(m[2].toLowerCase()) && (!neg || f.negatable))
      .map((f) => ({ label: neg + f.name + ':', detail: f.description, insert: neg + f.name + ':', more: true }));
    // Nothing to offer once the whole word is a name typed out (the user may mean the text).
    if (items.length === 0) return null;
    return { from, to, items };
  }
  m = /^(-?)([A-Za-z]+):(.*)$/s.exec(word);
  if (!m) return null;
  const head = m[1] + m[2] + ':';
  const field = fieldByName(m[2].toLowerCase());
  const name = field ? field.name : m[2].toLowerCase();
  let typed = m[3];
  if (typed.startsWith('"') || typed.startsWith("'")) typed = typed.slice(1);
  let items = [];
  if (name === 'lang') {
    const pool = typed ? languages : languages.filter(([n]) => COMMON_LANGS.includes(n));
    items = rank(pool, typed, ([n, aliases]) => [n, ...aliases]).map(([n]) => ({
      label: n, detail: 'language', insert: head + quoteValue(n) + trail,
    }));
  } else if (name === 'repo') {
    const t = repoValue(typed);
    items = rank(repos, t, (r) => [r]).map((r) => ({
      label: r, detail: 'repository', insert: head + quoteValue('^' + escapeRegexp(r) + '$') + trail,
    }));
  } else if (field && field.values.length) {
    items = rank(field.values, typed, (v) => [v]).map((v) => ({
      label: v, detail: name, insert: head + v + trail,
    }));
  }
  if (items.length === 0) return null;
  // Nothing to suggest when the value typed is already exactly the only suggestion.
  if (items.length === 1 && items[0].insert.trimEnd() === q.slice(from, to)) return null;
  return { from, to, items };
}

// Symbol names (docs/ui.md, "Suggestions"): while a bare word is typed, the names of symbols
// that start with it, from /api/v1/symbols (the query box fetches them: debounced, the stale
// request aborted).
export const SYMBOL_MIN = 2;
export const SYMBOL_MAX_ITEMS = 8;
// More than shown are asked for: one name often has several symbols (a declaration and its
// definition, one per architecture), and the list shows each name once.
export const SYMBOL_FETCH = 40;
const OPERATORS = ['AND', 'OR', 'NOT'];

// The bare word the caret is at the end of, if symbol names may complete it: identifier
// characters only (not a filter, a quoted phrase, a /regexp/ or an operator), at least
// SYMBOL_MIN of them. {from, to, word} or null.
export function symbolWord(q, cursor) {
  if (cursor < 0 || cursor > q.length) return null;
  if (cursor < q.length && !isWs(q[cursor]) && q[cursor] !== ')') return null;
  let from = cursor;
  while (from > 0 && !isWs(q[from - 1]) && q[from - 1] !== '(') from--;
  const word = q.slice(from, cursor);
  if (word.length < SYMBOL_MIN || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(word) || OPERATORS.includes(word)) return null;
  return { from, to: cursor, word };
}

// The /api/v1/symbols query for a word: the names that start with it (case-insensitive).
export function symbolQuery(word) {
  return '^' + word;
}

// The suggestions for word from the answer's symbols (best first): each name once, at most
// SYMBOL_MAX_ITEMS, with the kind and place of its best symbol. Accepting one puts the name in
// place of the word.
export function symbolItems(q, sw, symbols) {
  const seen = new Set();
  const items = [];
  const trail = sw.to >= q.length ? ' ' : '';
  for (const s of Array.isArray(symbols) ? symbols : []) {
    if (!s || typeof s.name !== 'string' || seen.has(s.name)) continue;
    seen.add(s.name);
    const where = (s.repo || '') + '/' + (s.path || '') + (s.line ? ':' + s.line : '');
    items.push({ label: s.name, detail: (s.kind || 'symbol') + ' · ' + where, insert: s.name + trail, symbol: true });
    if (items.length === SYMBOL_MAX_ITEMS) break;
  }
  // Nothing to offer when the word is already the only name.
  if (items.length === 0 || (items.length === 1 && items[0].label === sw.word)) return null;
  return { from: sw.from, to: sw.to, items };
}
