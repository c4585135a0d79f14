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
    const t = typed.replace(/^\^/, '').replace(/\$$/, '').replace(/\\(.)/g, '$1');
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
