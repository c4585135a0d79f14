// The search page: results streamed from /api/v1/search/stream (server-sent events, docs/api.md)
// with the matches highlighted, a few lines of context, progress, alerts, the summary, and query
// errors with a caret under their column.
import { append, clear, el, segments } from './dom.js';
import { ApiError, errorOf, getJSON } from './api.js';
import { repoFilter } from './suggest.js';
import { columnToIndex, byteRangesToIndexes, markSegments } from './utf8.js';
import { fileHref, searchApiHref, searchHref, streamHref } from './urls.js';
import { lexQuery } from './query-lex.js';

const CONTEXT = 2;
const MAX_LINE = 1000; // characters of a line shown in a result (minified files have huge lines)
const EXAMPLES = [
  ['lang:c "static int"', 'a phrase in C files'],
  ['/func \\w+\\(ctx/ lang:go', 'a regular expression'],
  ['TODO -file:test count:50', 'excluding paths, fewer results'],
  ['(error OR warning) file:\\.md$', 'OR and parentheses'],
  ['repo:trawl type:path server', 'paths instead of content'],
];

const str = (v) => (typeof v === 'string' ? v : '');
const int = (v) => (Number.isFinite(v) ? v : 0);
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

export class SearchView {
  constructor(root, box) {
    this.box = box;
    this.es = null;
    this.abort = null;
    this.status = el('div', { class: 'status', role: 'status' });
    this.alerts = el('ul', { class: 'alerts' });
    this.error = el('div', { class: 'qerror', hidden: true });
    this.results = el('div', { class: 'results' });
    append(root, [this.status, this.error, this.alerts, this.results]);
  }

  stop() {
    if (this.es) { this.es.close(); this.es = null; }
    if (this.abort) { this.abort.abort(); this.abort = null; }
  }

  run(q) {
    this.stop();
    clear(this.status); clear(this.alerts); clear(this.results); clear(this.error);
    this.error.hidden = true;
    this.count = 0;
    if (!q) { this.showHelp(); return; }
    this.q = q;
    this.selectsRev = selectsRevision(q);
    this.progress = el('progress', { max: 1, value: 0 });
    this.progressText = el('span', { class: 'progress-text' }, 'Searching…');
    append(this.status, [this.progress, ' ', this.progressText]);
    this.status.classList.add('running');
    this.stream(q);
  }

  stream(q) {
    const es = new EventSource(streamHref(q, CONTEXT));
    this.es = es;
    let seen = false, finished = false;
    const json = (e) => {
      seen = true;
      try { return JSON.parse(e.data); } catch { return null; }
    };
    es.addEventListener('matches', (e) => {
      const batch = json(e);
      if (Array.isArray(batch)) for (const r of batch) this.addResult(r);
    });
    es.addEventListener('progress', (e) => this.showProgress(json(e)));
    es.addEventListener('alert', (e) => this.addAlert(json(e)));
    es.addEventListener('done', (e) => {
      finished = true;
      es.close();
      this.showSummary(json(e));
    });
    es.addEventListener('error', (e) => {
      es.close();
      if (finished || this.es !== es) return;
      if (typeof e.data === 'string') { // the server's "error" event: the query failed
        finished = true;
        const body = json(e);
        const err = errorOf(body) || errorOf({ error: body });
        this.showError(err ? new ApiError(400, err.code, err.message, err.column)
          : new ApiError(0, 'error', 'the search failed', null));
        return;
      }
      // The connection failed. Before any event, this is how EventSource reports an HTTP error
      // (it cannot read the body): ask the JSON endpoint, which says what went wrong, or gives
      // the results if the stream alone failed. EventSource would retry; we do not.
      if (!seen) this.fallback(q);
      else this.showError(new ApiError(0, 'network', 'the connection was lost; the results may be incomplete', null));
    });
  }

  async fallback(q) {
    this.es = null;
    this.abort = new AbortController();
    try {
      const body = await getJSON(searchApiHref(q, CONTEXT), { signal: this.abort.signal });
      for (const r of Array.isArray(body.results) ? body.results : []) this.addResult(r);
      for (const a of Array.isArray(body.alerts) ? body.alerts : []) this.addAlert(a);
      this.showSummary(body.summary);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      this.showError(err instanceof ApiError ? err : new ApiError(0, 'error', String(err), null));
    }
  }

  showHelp() {
    const list = el('ul', { class: 'examples' });
    for (const [q, what] of EXAMPLES) {
      list.appendChild(el('li', null, el('a', { href: searchHref(q) }, el('code', null, q)), ' ', what));
    }
    append(this.results, el('div', { class: 'help' },
      el('p', null, 'Search code across every indexed repository. Terms must all occur in a file; ',
        el('code', null, '"quotes"'), ' make a phrase, ', el('code', null, '/slashes/'),
        ' a regular expression. Press ', el('kbd', null, '/'), ' to focus the search box.'),
      list));
  }

  showProgress(p) {
    if (!p || !this.progress) return;
    const total = int(p.shards_total), done = int(p.shards_done);
    this.progress.max = Math.max(total, 1);
    this.progress.value = Math.min(done, Math.max(total, 1));
    this.progressText.textContent = `Searching… ${done}/${total} shards, ` +
      `${plural(int(p.matching_lines), 'match', 'matches')} in ${plural(int(p.files), 'file', 'files')}`;
  }

  addAlert(a) {
    if (!a || typeof a !== 'object') return;
    const kind = ['warning', 'limit', 'timeout'].includes(a.kind) ? a.kind : 'warning';
    this.alerts.appendChild(el('li', { class: 'alert alert-' + kind }, str(a.message) || kind));
  }

  showSummary(s) {
    this.status.classList.remove('running');
    clear(this.status);
    if (!s || typeof s !== 'object') {
      append(this.status, plural(this.count, 'result', 'results'));
      return;
    }
    const ms = Number.isFinite(s.elapsed_ms) ? s.elapsed_ms : 0;
    const parts = [];
    if (int(s.matching_lines) > 0) {
      parts.push(`${plural(int(s.matching_lines), 'match', 'matches')} in ${plural(int(s.files), 'file', 'files')}`);
    } else {
      parts.push(plural(this.count, 'result', 'results'));
    }
    parts.push(`${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);
    parts.push(`${int(s.shards_searched)}/${int(s.shards_total)} shards`);
    append(this.status, el('span', { class: 'summary' }, parts.join(' · ')));
    if (s.limit_hit) {
      append(this.status, ' ', el('span', { class: 'limit' }, 'limit hit: more may match (add count:all)'));
    }
    if (s.timeout_hit) {
      append(this.status, ' ', el('span', { class: 'limit' }, 'timed out: these are the results found in time'));
    }
    if (this.count === 0 && this.error.hidden) {
      this.results.appendChild(el('p', { class: 'empty' }, 'No results.'));
    }
  }

  showError(err) {
    this.stop();
    this.status.classList.remove('running');
    clear(this.status);
    clear(this.error);
    this.error.hidden = false;
    append(this.error, el('p', { class: 'qerror-msg' },
      err.code === 'bad_query' ? 'Query error: ' : 'Error: ', err.message));
    if (err.column && this.q) {
      // The column counts characters from 1; show the query with a caret under that character.
      const q = this.q;
      const i = columnToIndex(q, err.column);
      const n = q.codePointAt(i) > 0xffff ? 2 : 1;
      const caretPad = Array.from(q.slice(0, i)).map((c) => (c === '\t' ? '\t' : ' ')).join('');
      append(this.error, el('pre', { class: 'qerror-query' },
        q.slice(0, i), el('span', { class: 'qerror-at' }, q.slice(i, i + n) || ' '), q.slice(i + n), '\n',
        el('span', { class: 'caret' }, caretPad + '^'), ` column ${err.column}`));
      if (this.box.value === q) this.box.setErrorColumn(err.column);
    }
  }

  addResult(r) {
    if (!r || typeof r !== 'object' || typeof r.repo !== 'string') return;
    let node = null;
    if (r.type === 'file' && typeof r.path === 'string') node = fileResult(r, this.selectsRev);
    else if (r.type === 'path' && typeof r.path === 'string') node = pathResult(r, this.selectsRev);
    else if (r.type === 'repo') node = repoResult(r);
    else if (r.type === 'symbol' && typeof r.path === 'string') node = symbolResult(r, this.selectsRev);
    if (!node) return;
    this.count++;
    this.results.appendChild(node);
  }
}

// Whether the query names revisions (rev:, revision:, repo:NAME@REV); without, the default
// branch was searched. By name, whether or not the list of fields (fields.js) is in yet: the
// results may arrive first.
function selectsRevision(q) {
  return lexQuery(q).some((t) => ((t.type === 'setting' || t.type === 'unknown') && (t.name === 'rev' || t.name === 'revision')) ||
    (t.type.startsWith('value') && (t.name === 'repo' || t.name === 'r') && q.slice(t.start, t.end).includes('@')));
}

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
    el('a', { class: 'rrepo', href: searchHref(repoFilter(r.repo)) }, r.repo),
    el('span', { class: 'rsep' }, ' › '),
    el('a', { class: 'rpath', href }, r.path),
    str(r.language) ? el('span', { class: 'rlang' }, r.language) : null,
    branchList(r),
    extra);
}

function fileResult(r, selectsRev) {
  const lines = Array.isArray(r.lines) ? r.lines.filter((l) => l && Number.isInteger(l.line)) : [];
  const matchNums = lines.map((l) => l.line);
  const rev = revOf(r, selectsRev);
  const href = fileHref(r.repo, r.path, { rev, matches: matchNums });
  const n = int(r.matching_lines) || lines.length;
  const article = el('article', { class: 'result' },
    resultHeader(r, href, el('span', { class: 'rcount' }, plural(n, 'match', 'matches'))));

  // Matching lines and their context, merged by line number (a context line of one match may be
  // another match), with a gap marker between runs that are not adjacent.
  const byLine = new Map();
  for (const l of lines) {
    for (const c of [...(Array.isArray(l.before) ? l.before : []), ...(Array.isArray(l.after) ? l.after : [])]) {
      if (c && Number.isInteger(c.line) && !byLine.has(c.line)) byLine.set(c.line, { text: str(c.text), ranges: null });
    }
  }
  for (const l of lines) byLine.set(l.line, { text: str(l.text), ranges: Array.isArray(l.ranges) ? l.ranges : [] });
  const nums = [...byLine.keys()].sort((a, b) => a - b);
  const code = el('div', { class: 'snippet' });
  let prev = null;
  for (const num of nums) {
    if (prev !== null && num > prev + 1) code.appendChild(el('div', { class: 'gap' }, '⋯'));
    prev = num;
    const { text, ranges } = byLine.get(num);
    code.appendChild(snippetLine(r, rev, matchNums, num, text, ranges));
  }
  if (nums.length) article.appendChild(code);
  return article;
}

function snippetLine(r, rev, matchNums, num, text, ranges) {
  const isMatch = ranges !== null;
  let marks = isMatch ? byteRangesToIndexes(text, ranges) : [];
  let shown = text;
  if (shown.length > MAX_LINE) {
    // Long lines are cut, starting a little before the first match.
    let from = marks.length ? Math.max(0, marks[0][0] - 100) : 0;
    if (from > 0 && /[\udc00-\udfff]/.test(shown[from])) from--;
    let to = Math.min(shown.length, from + MAX_LINE);
    if (to < shown.length && /[\ud800-\udbff]/.test(shown[to - 1])) to--;
    shown = (from > 0 ? '…' : '') + shown.slice(from, to) + (to < text.length ? '…' : '');
    const shift = from > 0 ? 1 - from : 0;
    marks = marks.map(([s, e]) => [Math.max(s, from), Math.min(e, to)]).filter(([s, e]) => e > s)
      .map(([s, e]) => [s + shift, e + shift]);
  }
  const code = el('span', { class: 'lc' });
  segments(code, markSegments(shown, marks, 'hl'));
  return el('div', { class: isMatch ? 'cl match' : 'cl' },
    el('a', { class: 'ln', 'data-n': num, href: fileHref(r.repo, r.path, { rev, matches: matchNums, line: num }),
      'aria-label': 'line ' + num }),
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
      num ? el('a', { class: 'ln', 'data-n': num, href: fileHref(r.repo, r.path, { rev, matches: nums, line: num }),
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
      el('a', { class: 'rrepo', href: searchHref(repoFilter(r.repo)) }, r.repo)));
}
