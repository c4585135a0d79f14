// A lexer of the query language (docs/query-syntax.md) for the query box: it cuts a query into
// tokens to colour and to complete. It follows the parser's rules for what is a term, a phrase,
// a regexp, a filter and an operator, but it never refuses anything: the server's parser is the
// judge, and its errors are shown with their column. Linear in the query's length.

// Which names are filters and which settings comes from the server's list (fields.js).
import { fieldByName } from './fields.js';

const isWs = (c) => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';
// What may follow a closing quote or slash: whitespace, ")" or the end.
const isEnd = (s, i) => i >= s.length || isWs(s[i]) || s[i] === ')';

// A phrase or regexp delimited by s[i]: the index after its closing delimiter, or -1 when the
// first unescaped closing delimiter is missing or not followed by the end of a term.
function scanDelimited(s, i, minLen) {
  const d = s[i];
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\' && j + 1 < s.length) { j++; continue; }
    if (s[j] === d) return j - i - 1 >= minLen && isEnd(s, j + 1) ? j + 1 : -1;
  }
  return -1;
}

// A bare term or value from i: to whitespace or to a ")" that closes nothing inside it.
function scanBare(s, i) {
  let depth = 0, j = i;
  while (j < s.length) {
    const c = s[j];
    if (isWs(c)) break;
    if (c === '\\' && j + 1 < s.length && !isWs(s[j + 1])) { j += 2; continue; }
    if (c === '(') depth++;
    else if (c === ')') { if (depth === 0) break; depth--; }
    j++;
  }
  return j;
}

const FILTER_RE = /-?([A-Za-z]+):/y;

function isLiteralType(s) {
  return /(^|[\s(])patterntype:(["']?)literal\2(?=$|[\s)])/i.test(s);
}

// lexQuery(s) -> [{type, start, end, name?}], covering s from 0 to s.length without gaps.
// Types: ws, paren, op, filter, filter-neg, setting, value, value-quoted, quoted, regexp, term,
// unknown (a name: that the parser refuses). `name` (lower case) is set on filter/setting/unknown
// tokens and on their value tokens.
export function lexQuery(s) {
  const toks = [];
  const literal = isLiteralType(s);
  const push = (type, start, end, name) => {
    if (end > start) toks.push(name === undefined ? { type, start, end } : { type, start, end, name });
  };
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (isWs(c)) {
      let j = i + 1;
      while (j < s.length && isWs(s[j])) j++;
      push('ws', i, j);
      i = j;
      continue;
    }
    if (c === '(' || c === ')') {
      push('paren', i, i + 1);
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const j = scanDelimited(s, i, 1);
      if (j > 0) { push('quoted', i, j); i = j; continue; }
    } else if (c === '/' && !literal) {
      const j = scanDelimited(s, i, 1);
      if (j > 0) { push('regexp', i, j); i = j; continue; }
    }
    FILTER_RE.lastIndex = i;
    const fm = FILTER_RE.exec(s);
    if (fm && s[FILTER_RE.lastIndex] !== ':' && !s.startsWith('//', FILTER_RE.lastIndex)) {
      const name = fm[1].toLowerCase();
      const neg = fm[0][0] === '-';
      const vstart = FILTER_RE.lastIndex;
      const field = fieldByName(name);
      const known = field !== null;
      if (known || !isEnd(s, vstart)) {
        const type = !known ? 'unknown' : field.kind === 'setting' ? 'setting' : neg ? 'filter-neg' : 'filter';
        push(type, i, vstart, name);
        let vend = -1;
        if (s[vstart] === '"' || s[vstart] === "'") {
          vend = scanDelimited(s, vstart, 0);
          if (vend > 0) push('value-quoted', vstart, vend, name);
        }
        if (vend < 0) {
          vend = scanBare(s, vstart);
          push('value', vstart, vend, name);
        }
        i = vend;
        continue;
      }
    }
    const j = scanBare(s, i);
    const word = s.slice(i, j);
    const upper = word.toUpperCase();
    push(upper === 'AND' || upper === 'OR' || upper === 'NOT' ? 'op' : 'term', i, j);
    // A term always consumes at least one character: "(" and ")" at its start were taken above,
    // and whitespace too, so scanBare moved.
    i = j;
  }
  return toks;
}
