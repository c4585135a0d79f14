// The repository list (/repos): index state, branches and commits, last sync, errors, files and
// skipped files of every repository the server knows.
import { append, el } from './dom.js';
import { getJSON } from './api.js';
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

export class ReposView {
  constructor(root) {
    this.root = root;
    this.abort = new AbortController();
    this.load();
  }

  stop() { this.abort.abort(); }

  async load() {
    append(this.root, el('h1', null, 'Repositories'));
    const status = el('p', { class: 'loading' }, 'Loading…');
    this.root.appendChild(status);
    let body;
    try {
      body = await getJSON('/api/v1/repos', { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      status.replaceWith(el('div', { class: 'qerror' }, el('p', null, 'Error: ' + (err.message || String(err)))));
      return;
    }
    const repos = Array.isArray(body.repos) ? body.repos.filter((r) => r && typeof r.name === 'string') : [];
    if (!repos.length) {
      status.replaceWith(el('p', { class: 'empty' }, 'No repositories yet.'));
      return;
    }
    const list = el('div', { class: 'repos' });
    for (const r of repos) list.appendChild(repoCard(r));
    status.replaceWith(el('p', { class: 'summary' }, `${repos.length} ${repos.length === 1 ? 'repository' : 'repositories'}`), list);
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
