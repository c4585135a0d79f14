// Queries derived from the one shown, for the links of the results page: a higher count:, a
// filter added from the sidebar, filters removed by an alert's suggestion. Pure (no DOM), built
// on the query box's lexer so that they edit the query as the parser reads it.
import { lexQuery } from './query-lex.js';
import { fieldByName } from './fields.js';
import { escapeRegexp } from './urls.js';
import { quoteValue, repoFilter } from './suggest.js';

// The server's count: when the query has none (docs/query-syntax.md).
export const DEFAULT_COUNT = 500;

const isNamed = (t) => t.type === 'filter' || t.type === 'filter-neg' || t.type === 'setting' || t.type === 'unknown';
// A name as written (an alias such as r:) to the field's own name, once the list is loaded.
const canonical = (name) => { const f = fieldByName(name); return f ? f.name : name; };

// The [start, end) of each "name:value" of the given fields (canonical names) in q.
function spans(q, names) {
  const toks = lexQuery(q);
  const out = [];
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (!isNamed(t) || !names.includes(canonical(t.name))) continue;
    const v = toks[i + 1];
    const end = v && v.type.startsWith('value') ? v.end : t.end;
    out.push({ start: t.start, end, value: v && v.type.startsWith('value') ? q.slice(v.start, v.end) : '' });
  }
  return out;
}

function tidy(q) {
  return q.replace(/\s+/g, ' ').trim();
}

// The count: the query asks for: a number, 'all', or DEFAULT_COUNT without one.
export function queryCount(q) {
  const s = spans(q, ['count']);
  if (!s.length) return DEFAULT_COUNT;
  const v = s[s.length - 1].value.replace(/^["']|["']$/g, '').toLowerCase();
  if (v === 'all') return 'all';
  const n = Number(v);
  return Number.isInteger(n) && n > 0 ? n : DEFAULT_COUNT;
}

// q with its count: set to n (a number or 'all'): the last count: replaced, else appended.
export function withCount(q, n) {
  const s = spans(q, ['count']);
  if (!s.length) return tidy(q) + ' count:' + n;
  const last = s[s.length - 1];
  return tidy(q.slice(0, last.start) + 'count:' + n + q.slice(last.end));
}

// The query for "Show more results": twice the count, or null when it is already count:all.
export function moreResultsQuery(q) {
  const c = queryCount(q);
  return c === 'all' ? null : withCount(q, c * 2);
}

// q without the given fields (their canonical names), negated or not.
export function withoutFields(q, names) {
  let out = '', at = 0;
  for (const s of spans(q, names)) {
    out += q.slice(at, s.start);
    at = s.end;
  }
  return tidy(out + q.slice(at));
}

// The filters the sidebar offers, as the query language writes them.
export const facetFilter = {
  repo: (name) => repoFilter(name),
  lang: (name) => 'lang:' + quoteValue(name),
  dir: (dir) => 'file:' + quoteValue('^' + escapeRegexp(dir) + '/'),
};

// q with filter added (nothing when q already has exactly this filter).
export function withFilter(q, filter) {
  const t = tidy(q);
  return (' ' + t + ' ').includes(' ' + filter + ' ') ? t : tidy(t + ' ' + filter);
}
