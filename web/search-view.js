// The search page: results streamed from /api/v1/search/stream (server-sent events, docs/api.md,
// read by results-stream.js) into a list rendered a chunk at a time near the viewport (results-list.js), with the filter
// sidebar (results-facets.js), progress with counts (drawn a few times a second), alerts with a
// suggested query, the summary (also announced to screen readers when the search is done),
// "Show more results", tips when nothing matched, and query errors with a caret under their
// column. The keyboard moves between results (shortcut: next, prev, open).
import { append, clear, el } from './dom.js';
import { ApiError, errorOf, getJSON } from './api.js';
import { columnToIndex } from './utf8.js';
import { searchApiHref, searchHref, streamHref } from './urls.js';
import { lexQuery } from './query-lex.js';
import { plural, renderResult } from './results-render.js';
import { ResultList } from './results-list.js';
import { Facets } from './results-facets.js';
import { readEvents } from './results-stream.js';
import { moreResultsQuery, withCount, withoutFields } from './results-query.js';

const CONTEXT = 2;
const PROGRESS_MS = 250; // the progress line is redrawn at most this often
// The results kept for showing, in characters of their events' JSON: a result past it is
// counted (progress, sidebar) but not kept, so a stream of a gigabyte does not take the tab's
// memory with it (the JS heap holds two to four times the JSON). Exported for the tests.
export const limits = { keepChars: 128 * 1024 * 1024 };
const EXAMPLES = [
  ['lang:c "static int"', 'a phrase in C files'],
  ['/func \\w+\\(ctx/ lang:go', 'a regular expression'],
  ['TODO -file:test count:50', 'excluding paths, fewer results'],
  ['(error OR warning) file:\\.md$', 'OR and parentheses'],
  ['repo:trawl type:path server', 'paths instead of content'],
];

// What an alert suggests, by its reason (docs/api.md, "alerts"): [link text, the query].
const SUGGEST = {
  count: (q) => ['Search again with count:all', withCount(q, 'all')],
  repo: (q) => ['Search every repository', withoutFields(q, ['repo'])],
  rev: (q) => ['Search the default branches', withoutFields(q, ['rev'])],
  timeout: (q) => ['Search again with timeout:60s', withoutFields(q, ['timeout']) + ' timeout:60s'],
};

const str = (v) => (typeof v === 'string' ? v : '');
const int = (v) => (Number.isFinite(v) ? v : 0);

export class SearchView {
  constructor(root, box) {
    this.box = box;
    this.abort = null;
    this.list = null;
    this.facets = null;
    this.progressTimer = 0;
    this.status = el('div', { class: 'status' });
    // Announced once, when the search is done: not every progress event.
    this.live = el('p', { class: 'sr-only', 'aria-live': 'polite' });
    this.alerts = el('ul', { class: 'alerts' });
    this.error = el('div', { class: 'qerror', hidden: true });
    this.body = el('div', { class: 'search-body' });
    append(root, [this.status, this.live, this.error, this.alerts, this.body]);
  }

  stop() {
    if (this.abort) { this.abort.abort(); this.abort = null; }
    if (this.list) this.list.stop();
    if (this.facets) this.facets.stop();
    clearTimeout(this.progressTimer);
    this.progressTimer = 0;
  }

  run(q) {
    this.stop();
    clear(this.status); clear(this.alerts); clear(this.body); clear(this.error);
    this.live.textContent = '';
    this.error.hidden = true;
    this.count = 0;
    this.keptChars = 0;
    this.dropped = 0;
    this.reasons = new Set();
    if (!q) { this.showHelp(); return; }
    this.q = q;
    const opts = { selectsRev: selectsRevision(q) };
    this.list = new ResultList((r) => renderResult(r, opts));
    this.list.onPaint = () => performance.mark('trawl-results-painted');
    this.facets = new Facets(q);
    this.footer = el('div', { class: 'results-footer' });
    append(this.body, this.facets.node, el('div', { class: 'results-main' },
      el('h2', { class: 'sr-only' }, 'Results'), this.list.node, this.footer));
    this.progress = el('progress', { max: 1, value: 0, 'aria-label': 'search progress' });
    this.progressText = el('span', { class: 'progress-text' }, 'Searching…');
    append(this.status, [this.progress, ' ', this.progressText]);
    this.status.classList.add('running');
    this.lastProgress = null;
    this.progressAt = 0;
    this.stream(q);
  }

  // Results into the list and the sidebar's counts: O(results), no DOM (both draw later).
  // chars: the size of the batch's JSON (0 from the JSON endpoint, whose answer is capped).
  addResults(batch, chars = 0) {
    if (!Array.isArray(batch) || !batch.length) return;
    if (this.count === 0) performance.mark('trawl-results-received');
    this.count += batch.length;
    this.facets.add(batch);
    this.keptChars += chars;
    if (this.keptChars <= limits.keepChars) this.list.push(batch);
    else this.dropped += batch.length;
  }

  stream(q) {
    const ctl = new AbortController();
    this.abort = ctl;
    let seen = false, finished = false;
    const lost = () => new ApiError(0, 'network', 'the connection was lost; the results may be incomplete', null);
    const onEvent = (name, data) => {
      seen = true;
      if (finished) return;
      let v = null;
      try { v = JSON.parse(data); } catch { /* shown as nothing */ }
      if (name === 'matches') this.addResults(v, data.length);
      else if (name === 'progress') this.onProgress(v);
      else if (name === 'alert') this.addAlert(v);
      else if (name === 'done') {
        finished = true;
        ctl.abort();
        this.showSummary(v);
      } else if (name === 'error') { // the server's "error" event: the query failed, or access ended
        finished = true;
        const err = errorOf(v) || errorOf({ error: v });
        this.showError(err ? new ApiError(400, err.code, err.message, err.column)
          : new ApiError(0, 'error', 'the search failed', null));
      }
    };
    readEvents(streamHref(q, CONTEXT), { signal: ctl.signal, onEvent }).then(({ isStream }) => {
      if (finished || ctl.signal.aborted) return;
      // Not a stream (an HTTP error): the JSON endpoint says what went wrong (an error's message
      // and column, a 401 to the sign-in page), or gives the results if the stream alone failed.
      if (!isStream && !seen) this.fallback(q);
      else this.showError(lost());
    }, () => {
      if (finished || ctl.signal.aborted) return;
      if (!seen) this.fallback(q);
      else this.showError(lost());
    });
  }

  async fallback(q) {
    this.abort = new AbortController();
    try {
      const body = await getJSON(searchApiHref(q, CONTEXT), { signal: this.abort.signal });
      this.addResults(Array.isArray(body.results) ? body.results : []);
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
    append(this.body, el('div', { class: 'help' },
      el('p', null, 'Search code across every indexed repository. Terms must all occur in a file; ',
        el('code', null, '"quotes"'), ' make a phrase, ', el('code', null, '/slashes/'),
        ' a regular expression. Press ', el('kbd', null, '/'), ' to focus the search box.'),
      list));
  }

  // Progress events come per shard (thousands on a large index): the line is redrawn at most
  // every PROGRESS_MS, with the last numbers.
  onProgress(p) {
    if (!p || typeof p !== 'object') return;
    const first = this.lastProgress === null;
    this.lastProgress = p;
    if (first) { this.showProgress(); return; } // at once: the stream may end before a timer runs
    if (this.progressTimer) return;
    const wait = Math.max(0, this.progressAt + PROGRESS_MS - performance.now());
    this.progressTimer = setTimeout(() => { this.progressTimer = 0; this.showProgress(); }, wait);
  }

  showProgress() {
    const p = this.lastProgress;
    if (!p || !this.progress) return;
    this.progressAt = performance.now();
    const total = int(p.shards_total), done = int(p.shards_done);
    this.progress.max = Math.max(total, 1);
    this.progress.value = Math.min(done, Math.max(total, 1));
    this.progressText.textContent = `Searching… ${done}/${total} shards, ` +
      `${plural(int(p.matching_lines), 'match', 'matches')} in ${plural(int(p.files), 'file', 'files')}` +
      (this.count ? `, ${plural(this.count, 'result', 'results')} received` : '');
  }

  addAlert(a) {
    if (!a || typeof a !== 'object') return;
    const kind = ['warning', 'limit', 'timeout'].includes(a.kind) ? a.kind : 'warning';
    const reason = str(a.reason);
    this.reasons.add(reason);
    const li = el('li', { class: 'alert alert-' + kind }, str(a.message) || kind);
    const suggest = Object.hasOwn(SUGGEST, reason) && this.q ? SUGGEST[reason](this.q) : null;
    if (suggest && suggest[1] !== this.q) append(li, ' ', el('a', { class: 'alert-query', href: searchHref(suggest[1]) }, suggest[0]));
    this.alerts.appendChild(li);
  }

  showSummary(s) {
    clearTimeout(this.progressTimer);
    this.progressTimer = 0;
    this.status.classList.remove('running');
    clear(this.status);
    // The first chunk now, not at the next frame: the summary never comes before the results.
    if (this.list) this.list.flush();
    if (this.facets) this.facets.draw();
    if (!s || typeof s !== 'object') {
      append(this.status, plural(this.count, 'result', 'results'));
      this.live.textContent = plural(this.count, 'result', 'results');
      this.showEmpty();
      return;
    }
    const ms = Number.isFinite(s.elapsed_ms) ? s.elapsed_ms : 0;
    const found = int(s.matching_lines) > 0
      ? `${plural(int(s.matching_lines), 'match', 'matches')} in ${plural(int(s.files), 'file', 'files')}`
      : plural(this.count, 'result', 'results');
    const parts = [found, `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`, `${int(s.shards_searched)}/${int(s.shards_total)} shards`];
    append(this.status, el('span', { class: 'summary' }, parts.join(' · ')));
    if (s.limit_hit) {
      append(this.status, ' ', el('span', { class: 'limit' }, 'limit hit: more may match'));
    }
    if (s.timeout_hit) {
      append(this.status, ' ', el('span', { class: 'limit' }, 'timed out: these are the results found in time'));
    }
    this.live.textContent = (this.count ? found : 'No results') + (s.limit_hit ? ', more may match' : '');
    if (this.dropped) {
      this.footer.appendChild(el('p', { class: 'notice dropped' }, `${plural(this.dropped, 'more result', 'more results')} ` +
        `arrived and ${this.dropped === 1 ? 'was' : 'were'} counted but not kept: this page keeps ` +
        `${Math.round(limits.keepChars / 1048576)} MB of results. Narrow the query, or use the API or the command line.`));
    }
    // More of the same search: the count limit stopped it (not memory or time).
    const more = s.limit_hit && this.reasons.has('count') ? moreResultsQuery(this.q) : null;
    if (more) {
      this.footer.appendChild(el('a', { class: 'button more-results', href: searchHref(more) }, 'Show more results'));
    }
    this.showEmpty();
  }

  // Nothing matched: what to try next.
  showEmpty() {
    if (this.count !== 0 || !this.error.hidden || !this.q) return;
    const q = this.q;
    const tips = [];
    const names = new Set(lexQuery(q).filter((t) => t.name).map((t) => t.name));
    tips.push(el('li', null, 'Check the spelling; terms must all occur in the same file.'));
    if (names.has('case')) tips.push(el('li', null, 'Remove ', el('code', null, 'case:'), ' to ignore case: ',
      el('a', { href: searchHref(withoutFields(q, ['case'])) }, withoutFields(q, ['case']))));
    else tips.push(el('li', null, 'Matching ignores case unless you add ', el('code', null, 'case:yes'), '.'));
    if (/\/.*\//.test(q) || /[\\^$*+?()[\]{}|]/.test(q)) {
      tips.push(el('li', null, 'Regular expressions go between slashes (', el('code', null, '/fo+/'),
        '); ', el('code', null, 'patterntype:literal'), ' searches the text exactly as typed.'));
    }
    const filters = ['repo', 'file', 'lang'].filter((f) => names.has(f) || (f === 'repo' && names.has('r')) || (f === 'file' && names.has('f')));
    if (filters.length) {
      const wider = withoutFields(q, filters);
      if (wider && wider !== q) tips.push(el('li', null, 'Widen the search: ', el('a', { href: searchHref(wider) }, wider)));
    }
    this.footer.appendChild(el('div', { class: 'empty' }, el('p', null, 'No results.'),
      el('ul', { class: 'tips' }, tips)));
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

  // Keyboard (shortcuts.js): next/prev move the focus between results (rendering ahead when
  // needed), open follows the focused result's link. True when handled.
  shortcut(name) {
    if (!this.list) return false;
    const cur = this.list.indexOf(document.activeElement);
    if (name === 'next' || name === 'prev') {
      const i = name === 'next' ? cur + 1 : (cur < 0 ? 0 : cur - 1);
      const node = i >= 0 ? this.list.at(i) : null;
      const link = node && node.querySelector('.rlink');
      if (!link) return false;
      link.focus({ preventScroll: true });
      node.scrollIntoView({ block: 'nearest' });
      return true;
    }
    if (name === 'open') {
      const node = this.list.at(cur < 0 ? 0 : cur);
      const link = node && node.querySelector('.rlink');
      if (!link) return false;
      link.click();
      return true;
    }
    return false;
  }
}

// Whether the query names revisions (rev:, revision:, repo:NAME@REV); without, the default
// branch was searched. By name, whether or not the list of fields (fields.js) is in yet: the
// results may arrive first.
function selectsRevision(q) {
  return lexQuery(q).some((t) => ((t.type === 'setting' || t.type === 'unknown') && (t.name === 'rev' || t.name === 'revision')) ||
    (t.type.startsWith('value') && (t.name === 'repo' || t.name === 'r') && q.slice(t.start, t.end).includes('@')));
}
