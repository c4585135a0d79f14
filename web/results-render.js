// One search result as DOM: a file with its matching lines (merged with their context into
// groups, the first few shown and a "Show N more" button for the rest), coloured as the file
// view colours them (highlight.js) with the matches marked on top; a path, a repository or a
// file's symbols. Each result is an <article> whose heading holds the one link Tab stops at
// (the path); the repository and line-number links are reachable by mouse, not by Tab.
import { el, segments } from './dom.js';
import { repoFilter } from './suggest.js';
import { tokenize } from './highlight.js';
import { byteRangesToIndexes, markSegments } from './utf8.js';
import { fileHref, searchHref } from './urls.js';

const MAX_LINE = 1000; // characters of a line shown in a result (minified files have huge lines)
export const GROUPS_SHOWN = 5; // match groups shown before "Show N more"
const COLOUR_MAX = 20000; // characters of a group coloured; longer groups are plain

const str = (v) => (typeof v === 'string' ? v : '');
const int = (v) => (Number.isFinite(v) ? v : 0);
export const plural = (n, one, many) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

// The revision a result's link opens. A result lists every branch its file is on, also ones not
// searched: without rev: the default branch was searched and the file is on it, so the link
// names no revision (the file view's default); with rev:, the first branch listed (the file is
// the same on all of them).
function revOf(r, selectsRev) {
  if (!selectsRev) return undefined;
  return Array.isArray(r.branches) && typeof r.branches[0] === 'string' ? r.branches[0] : undefined;
}

// The branches the file exists on (all of them, also those not searched), as muted text.
function branchList(r) {
  const names = Array.isArray(r.branches) ? r.branches.filter((b) => typeof b === 'string') : [];
  return names.length ? el('span', { class: 'rbranches', title: 'branches' }, names.join(', ')) : null;
}

function resultHeader(r, href, extra) {
  return el('header', { class: 'rhead' },
    el('h3', { class: 'rtitle' },
      el('a', { class: 'rrepo', href: searchHref(repoFilter(r.repo)), tabindex: -1 }, r.repo),
      el('span', { class: 'rsep', 'aria-hidden': 'true' }, ' › '),
      el('a', { class: 'rpath rlink', href }, r.path)),
    str(r.language) ? el('span', { class: 'rlang' }, r.language) : null,
    branchList(r),
    extra);
}

// renderResult(r, { selectsRev }) -> an <article>, or null for a result it does not know.
export function renderResult(r, opts) {
  if (!r || typeof r !== 'object' || typeof r.repo !== 'string') return null;
  if (r.type === 'file' && typeof r.path === 'string') return fileResult(r, opts.selectsRev);
  if (r.type === 'path' && typeof r.path === 'string') return pathResult(r, opts.selectsRev);
  if (r.type === 'repo') return repoResult(r);
  if (r.type === 'symbol' && typeof r.path === 'string') return symbolResult(r, opts.selectsRev);
  return null;
}

// The matching lines and their context, merged by line number (a context line of one match may
// be another match) into groups of consecutive lines: [{ lines: [{ num, text, ranges }], matches }].
// ranges is null on a context line.
export function matchGroups(lines) {
  const byLine = new Map();
  for (const l of lines) {
    for (const c of [...(Array.isArray(l.before) ? l.before : []), ...(Array.isArray(l.after) ? l.after : [])]) {
      if (c && Number.isInteger(c.line) && !byLine.has(c.line)) byLine.set(c.line, { num: c.line, text: str(c.text), ranges: null });
    }
  }
  for (const l of lines) byLine.set(l.line, { num: l.line, text: str(l.text), ranges: Array.isArray(l.ranges) ? l.ranges : [] });
  const groups = [];
  let g = null;
  for (const num of [...byLine.keys()].sort((a, b) => a - b)) {
    if (!g || num > g.lines[g.lines.length - 1].num + 1) groups.push(g = { lines: [], matches: 0 });
    const line = byLine.get(num);
    g.lines.push(line);
    if (line.ranges) g.matches++;
  }
  return groups;
}

function fileResult(r, selectsRev) {
  const lines = Array.isArray(r.lines) ? r.lines.filter((l) => l && Number.isInteger(l.line)) : [];
  const rev = revOf(r, selectsRev);
  // The file view marks the matched text from the ranges (m=3:4-9.12-15).
  const matches = lines.map((l) => ({ line: l.line, ranges: Array.isArray(l.ranges) ? l.ranges : [] }));
  const href = fileHref(r.repo, r.path, { rev, matches });
  const n = int(r.matching_lines) || lines.length;
  const article = el('article', { class: 'result' },
    resultHeader(r, href, el('span', { class: 'rcount' }, plural(n, 'match', 'matches'))));
  const groups = matchGroups(lines);
  if (!groups.length) return article;
  const ctx = { r, rev, matches, language: str(r.language) };
  const code = el('div', { class: 'snippet' });
  renderGroups(code, groups.slice(0, GROUPS_SHOWN), ctx, false);
  article.appendChild(code);
  const rest = groups.slice(GROUPS_SHOWN);
  if (rest.length) {
    const hidden = rest.reduce((s, g) => s + g.matches, 0);
    const more = el('button', { type: 'button', class: 'rmore-lines' }, 'Show ' + plural(hidden, 'more match', 'more matches'));
    more.addEventListener('click', () => {
      renderGroups(code, rest, ctx, true);
      more.remove();
      article.querySelector('.rlink').focus();
    });
    article.appendChild(more);
  }
  return article;
}

// Groups into the snippet, a gap marker before each but the first (unless continuing).
function renderGroups(code, groups, ctx, continuing) {
  const frag = document.createDocumentFragment();
  groups.forEach((g, i) => {
    if (i > 0 || continuing) frag.appendChild(el('div', { class: 'gap', 'aria-hidden': 'true' }, '⋯'));
    const shown = g.lines.map((l) => cutLine(l.text, l.ranges ? byteRangesToIndexes(l.text, l.ranges) : []));
    const toks = lineTokens(shown.map((s) => s.text), ctx.language);
    g.lines.forEach((l, k) => frag.appendChild(snippetLine(ctx, l.num, l.ranges !== null, shown[k], toks[k])));
  });
  code.appendChild(frag);
}

// Long lines are cut, starting a little before the first match: { text, marks } of what is shown.
function cutLine(text, marks) {
  if (text.length <= MAX_LINE) return { text, marks };
  let from = marks.length ? Math.max(0, marks[0][0] - 100) : 0;
  if (from > 0 && /[\udc00-\udfff]/.test(text[from])) from--;
  let to = Math.min(text.length, from + MAX_LINE);
  if (to < text.length && /[\ud800-\udbff]/.test(text[to - 1])) to--;
  const shift = from > 0 ? 1 - from : 0;
  return {
    text: (from > 0 ? '…' : '') + text.slice(from, to) + (to < text.length ? '…' : ''),
    marks: marks.map(([s, e]) => [Math.max(s, from), Math.min(e, to)]).filter(([s, e]) => e > s)
      .map(([s, e]) => [s + shift, e + shift]),
  };
}

// The syntax tokens of consecutive lines, per line ([[start, end, class], ...] within the line):
// the group is tokenized as one text, so a comment or string spanning its lines is coloured
// across them. Only rendered groups are tokenized (the cost follows what is on screen).
export function lineTokens(texts, language) {
  const out = texts.map(() => []);
  const joined = texts.join('\n');
  if (!language || joined.length > COLOUR_MAX) return out;
  const starts = [];
  let o = 0;
  for (const t of texts) { starts.push(o); o += t.length + 1; }
  let line = 0;
  for (const [s, e, cls] of tokenize(joined, language)) {
    while (line + 1 < texts.length && starts[line + 1] <= s) line++;
    for (let k = line; k < texts.length && starts[k] < e; k++) {
      const a = Math.max(s, starts[k]), b = Math.min(e, starts[k] + texts[k].length);
      if (b > a) out[k].push([a - starts[k], b - starts[k], cls]);
    }
  }
  return out;
}

// text with its tokens coloured and its marks (sorted, disjoint) on top: each mark is one
// span.hl holding the coloured pieces inside it, so a match reads as one highlight.
export function paint(parent, text, tokens, marks) {
  const colour = (into, from, to) => {
    let at = from;
    for (const [s, e, cls] of tokens) {
      if (e <= from || s >= to) continue;
      const a = Math.max(s, from), b = Math.min(e, to);
      if (a > at) into.appendChild(document.createTextNode(text.slice(at, a)));
      segments(into, [[text.slice(a, b), cls]]);
      at = b;
    }
    if (to > at) into.appendChild(document.createTextNode(text.slice(at, to)));
  };
  if (!tokens.length) return segments(parent, markSegments(text, marks, 'hl'));
  let at = 0;
  for (const [s, e] of marks) {
    colour(parent, at, s);
    const hl = el('span', { class: 'hl' });
    colour(hl, s, e);
    parent.appendChild(hl);
    at = e;
  }
  colour(parent, at, text.length);
  return parent;
}

function snippetLine(ctx, num, isMatch, shown, tokens) {
  const code = paint(el('span', { class: 'lc' }), shown.text, tokens, shown.marks);
  return el('div', { class: isMatch ? 'cl match' : 'cl' },
    el('a', { class: 'ln', 'data-n': num, tabindex: -1, 'aria-label': 'line ' + num,
      href: fileHref(ctx.r.repo, ctx.r.path, { rev: ctx.rev, matches: ctx.matches, line: num }) }),
    code);
}

function pathResult(r, selectsRev) {
  const href = fileHref(r.repo, r.path, { rev: revOf(r, selectsRev) });
  return el('article', { class: 'result result-path' }, resultHeader(r, href, null));
}

// A symbol result (type:symbol): the file, then a line per symbol: its line number (a link to
// it), kind, name, scope and the line's text.
function symbolResult(r, selectsRev) {
  const syms = Array.isArray(r.symbols) ? r.symbols.filter((s) => s && typeof s.name === 'string') : [];
  const rev = revOf(r, selectsRev);
  const nums = syms.map((s) => s.line).filter((n) => Number.isInteger(n) && n > 0);
  const article = el('article', { class: 'result result-symbol' },
    resultHeader(r, fileHref(r.repo, r.path, { rev, matches: nums }),
      el('span', { class: 'rcount' }, plural(syms.length, 'symbol', 'symbols'))));
  const code = el('div', { class: 'snippet' });
  for (const s of syms) {
    const num = Number.isInteger(s.line) && s.line > 0 ? s.line : 0;
    code.appendChild(el('div', { class: 'cl match sym' },
      num ? el('a', { class: 'ln', 'data-n': num, tabindex: -1, href: fileHref(r.repo, r.path, { rev, matches: nums, line: num }),
        'aria-label': 'line ' + num }) : el('span', { class: 'ln' }),
      el('span', { class: 'lc' },
        el('span', { class: 'skind' }, str(s.kind) || 'symbol'), ' ',
        el('span', { class: 'hl sname' }, s.name),
        str(s.scope) ? ' (' + s.scope + ')' : '', ' — ', str(s.text).slice(0, MAX_LINE))));
  }
  if (syms.length) article.appendChild(code);
  return article;
}

function repoResult(r) {
  return el('article', { class: 'result result-repo' },
    el('header', { class: 'rhead' },
      el('h3', { class: 'rtitle' }, el('a', { class: 'rrepo rlink', href: searchHref(repoFilter(r.repo)) }, r.repo))));
}

