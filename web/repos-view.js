// The repository list (/repos): index state, branches and commits, last sync, errors, files and
// skipped files of the repositories the server knows, a page at a time ("Show more") and
// filtered by a substring of the name (?q= in the URL, sent to the server).
import { append, clear, el } from './dom.js';
import { getJSON } from './api.js';
import { button, input } from './forms.js';
import { repoFilter } from './suggest.js';
import { safeHref, searchHref } from './urls.js';

const STATES = ['new', 'syncing', 'indexed', 'error'];
const s = (v) => (typeof v === 'string' ? v : '');

function when(iso) {
  const t = Date.parse(s(iso));
  return Number.isFinite(t) ? new Date(t).toLocaleString() : s(iso) || 'never';
}

function size(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

// A page of the list (docs/api.md): PAGE_SIZE names, or ?limit=N (1 to 1000) of the URL.
const PAGE_SIZE = 100;

export class ReposView {
  // params: the page's URLSearchParams (q: the name filter); go(url): navigate.
  constructor(root, params, go) {
    this.root = root;
    this.go = go;
    this.abort = new AbortController();
    this.q = params.get('q') || '';
    const limit = Number.parseInt(params.get('limit') || '', 10);
    this.limit = limit >= 1 && limit <= 1000 ? limit : PAGE_SIZE;
    this.shown = 0;
    this.load();
  }

  stop() { this.abort.abort(); }

  url(cursor) {
    const sp = new URLSearchParams({ limit: String(this.limit) });
    if (this.q) sp.set('q', this.q);
    if (cursor) sp.set('cursor', cursor);
    return '/api/v1/repos?' + sp.toString();
  }

  filterForm() {
    const filter = input('Filter repositories', { type: 'search', name: 'q', value: this.q, placeholder: 'name contains…', autocapitalize: 'off' });
    const form = el('form', { class: 'panel row rfilter', role: 'search', 'aria-label': 'Filter the repositories' },
      filter.wrap, el('button', { type: 'submit', class: 'primary' }, 'Filter'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const sp = new URLSearchParams();
      if (filter.node.value) sp.set('q', filter.node.value);
      if (this.limit !== PAGE_SIZE) sp.set('limit', String(this.limit));
      const qs = sp.toString();
      this.go('/repos' + (qs ? '?' + qs : ''));
    });
    this.filterInput = filter.node;
    return form;
  }

  async fetchPage(cursor) {
    const body = await getJSON(this.url(cursor), { signal: this.abort.signal });
    const repos = body && Array.isArray(body.repos) ? body.repos.filter((r) => r && typeof r.name === 'string') : [];
    return { repos, total: Number.isInteger(body && body.total) ? body.total : null,
      next: body && typeof body.next === 'string' ? body.next : null };
  }

  async load() {
    append(this.root, el('h1', null, 'Repositories'), this.filterForm());
    if (this.q) this.filterInput.focus(); // back from filtering: on with the next one
    const status = el('p', { class: 'loading' }, 'Loading…');
    this.root.appendChild(status);
    let page;
    try {
      page = await this.fetchPage(null);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      status.replaceWith(el('div', { class: 'qerror' }, el('p', null, 'Error: ' + (err.message || String(err)))));
      return;
    }
    if (!page.repos.length) {
      status.replaceWith(el('p', { class: 'empty' }, this.q ? 'No repository name contains “' + this.q + '”.' : 'No repositories yet.'));
      return;
    }
    this.summary = el('p', { class: 'summary', 'aria-live': 'polite' });
    this.list = el('div', { class: 'repos' });
    this.more = el('p', { class: 'rmore' });
    status.replaceWith(this.summary, this.list, this.more);
    this.add(page);
  }

  // Appends a page's repositories; "Show more" fetches the next one while there is one.
  add(page) {
    for (const r of page.repos) this.list.appendChild(repoCard(r));
    this.shown += page.repos.length;
    const total = page.total === null ? this.shown : page.total;
    const noun = total === 1 ? 'repository' : 'repositories';
    const what = this.q ? ` whose name contains “${this.q}”` : '';
    this.summary.textContent = this.shown < total ? `${this.shown} of ${total} ${noun}${what}` : `${total} ${noun}${what}`;
    clear(this.more);
    if (!page.next) return;
    const more = button('Show more', async () => {
      more.disabled = true;
      let next;
      try {
        next = await this.fetchPage(page.next);
      } catch (err) {
        if (err && err.name === 'AbortError') return;
        more.disabled = false;
        clear(this.more).append(more, ' ', el('span', { class: 'rerror' }, 'Error: ' + (err.message || String(err))));
        return;
      }
      this.add(next);
    });
    this.more.appendChild(more);
  }
}

function repoCard(r) {
  const state = STATES.includes(r.state) ? r.state : 'unknown';
  const url = s(r.url);
  const href = safeHref(url);
  const branches = el('ul', { class: 'branches' });
  for (const b of Array.isArray(r.branches) ? r.branches : []) {
    if (!b || typeof b.name !== 'string') continue;
    branches.appendChild(el('li', null, el('span', { class: 'frev' }, b.name), ' ',
      s(b.commit) ? el('code', { class: 'fcommit', title: b.commit }, b.commit.slice(0, 12)) : null,
      b.default ? el('span', { class: 'tag' }, 'default') : null));
  }
  const skipped = Number.isFinite(r.skipped_count) ? r.skipped_count
    : Array.isArray(r.skipped) ? r.skipped.length : 0;
  const dl = el('dl', { class: 'rfacts' },
    el('dt', null, 'State'), el('dd', null, el('span', { class: 'state state-' + state }, s(r.state) || 'unknown')),
    // Only administrators get a repository's source (docs/api.md, "Repositories").
    'url' in r ? [el('dt', null, 'Source'), el('dd', null, href && /^https?:/i.test(href) ? el('a', { href, rel: 'noopener noreferrer' }, url) : el('code', null, url || '—'))] : null,
    el('dt', null, 'Branches'), el('dd', null, branches.childNodes.length ? branches : '—'),
    el('dt', null, 'Last sync'), el('dd', null, when(r.last_sync)),
    el('dt', null, 'Files'), el('dd', null, Number.isFinite(r.files) ? String(r.files) : '—',
      skipped ? ` (${skipped} skipped)` : ''),
    Number.isFinite(r.index_bytes) ? [el('dt', null, 'Index'), el('dd', null, size(r.index_bytes))] : null,
    s(r.last_error) ? [el('dt', null, 'Last error'), el('dd', { class: 'rerror' }, r.last_error)] : null);
  return el('section', { class: 'repo' },
    el('h2', null, el('a', { href: searchHref(repoFilter(r.name)) }, r.name)),
    dl);
}
