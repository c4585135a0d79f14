// The repository list (/repos): index state, branches and commits, last sync (the last
// successful one apart from a failed last attempt), errors, files and skipped files of the
// repositories the server knows, a page at a time ("Show more") and filtered by a substring of
// the name (?q= in the URL, sent to the server). Each name leads to the repository's page
// (/repos/NAME); administrators get a "Sync now" button on each registered repository.
import { append, clear, el } from './dom.js';
import { getJSON, send } from './api.js';
import { button, input } from './forms.js';
import { repoFilter } from './suggest.js';
import { repoHref, safeHref, searchHref } from './urls.js';

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
    this.isAdmin = false;
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

  // Whether the caller may ask for syncs (an administrator, or laptop mode's local user); the
  // server decides in the end (403 otherwise), this only spares others a button that fails.
  async loadAdmin() {
    try {
      const me = await getJSON('/api/v1/me', { signal: this.abort.signal, quiet: true });
      this.isAdmin = !!me && me.is_admin === true;
    } catch {
      this.isAdmin = false;
    }
  }

  async load() {
    append(this.root, el('h1', null, 'Repositories'), this.filterForm());
    const admin = this.loadAdmin();
    if (this.q) this.filterInput.focus(); // back from filtering: on with the next one
    const status = el('p', { class: 'loading' }, 'Loading…');
    this.root.appendChild(status);
    let page;
    try {
      [page] = await Promise.all([this.fetchPage(null), admin]);
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
    for (const r of page.repos) this.list.appendChild(this.card(r));
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

  card(r) {
    const card = repoCard(r);
    // Registered repositories have a source URL (administrators see it); index-only ones none.
    if (this.isAdmin && typeof r.url === 'string' && r.url) card.appendChild(this.syncControl(r, card));
    return card;
  }

  // "Sync now": asks the server (202), then follows the repository until a sync newer than
  // the one shown has ended, and shows the card again with what it recorded.
  syncControl(r, card) {
    const status = el('span', { class: 'rsync-status', role: 'status' });
    const b = button('Sync now', async () => {
      b.disabled = true;
      status.className = 'rsync-status';
      status.textContent = 'Sync requested…';
      const path = '/api/v1/repos/' + encodeURIComponent(r.name);
      try {
        await send('POST', path + '/sync', undefined, { signal: this.abort.signal });
        const done = await this.waitForSync(path, s(r.last_sync));
        const fresh = this.card(done);
        card.replaceWith(fresh);
        const st = fresh.querySelector('.rsync-status');
        if (st) st.textContent = done.state === 'error' ? 'Sync failed' : 'Synced';
      } catch (err) {
        if (err && err.name === 'AbortError') return;
        b.disabled = false;
        status.className = 'rsync-status rerror';
        status.textContent = 'Error: ' + (err.message || String(err));
      }
    }, { class: 'rsync', 'aria-label': 'Sync ' + r.name + ' now' });
    return el('p', { class: 'rsync-row' }, b, ' ', status);
  }

  // The repository once a sync after `since` (its last_sync when asked) has ended; polls every
  // second for at most ten minutes.
  async waitForSync(path, since) {
    for (let i = 0; i < 600; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (this.abort.signal.aborted) throw new DOMException('stopped', 'AbortError');
      const r = await getJSON(path, { signal: this.abort.signal });
      if (r && r.state !== 'syncing' && s(r.last_sync) !== since) return r;
    }
    throw new Error('no sync has ended within ten minutes; the list shows its state when reloaded');
  }
}

// "Last sync": when the last attempt failed, the last success apart (the index is that old).
function syncFacts(r) {
  if (r.state !== 'error' || !s(r.last_sync)) return [el('dt', null, 'Last sync'), el('dd', null, when(r.last_sync))];
  const ok = s(r.last_success) ? 'last synced OK at ' + when(r.last_success) : 'no successful sync recorded';
  const err = s(r.last_error) ? ': ' + r.last_error : '';
  return [el('dt', null, 'Last sync'), el('dd', { class: 'rsync-failed' }, `${ok}; last attempt at ${when(r.last_sync)} failed${err}`)];
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
    syncFacts(r),
    el('dt', null, 'Files'), el('dd', null, Number.isFinite(r.files) ? String(r.files) : '—',
      skipped ? ` (${skipped} skipped)` : ''),
    Number.isFinite(r.index_bytes) ? [el('dt', null, 'Index'), el('dd', null, size(r.index_bytes))] : null,
    // In error, syncFacts says it with the failed attempt.
    s(r.last_error) && r.state !== 'error' ? [el('dt', null, 'Last error'), el('dd', { class: 'rerror' }, r.last_error)] : null);
  return el('section', { class: 'repo' },
    el('h2', null, el('a', { href: repoHref(r.name) }, r.name)),
    el('p', { class: 'rlinks' }, el('a', { class: 'rsearch', href: searchHref(repoFilter(r.name)) }, 'Search in ' + r.name)),
    dl);
}
