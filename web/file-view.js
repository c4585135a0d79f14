// The file view (/file/{repo}/{path}?rev=REV&m=LINES#L10-L20): the file with line numbers and
// syntax highlighting, the lines a search matched (m=) marked, and a permalink selection (#L...)
// set by clicking a line number (shift-click extends it to a range); code navigation (nav.js:
// go to definition, find references) at the clicked identifier, and the file's outline.
import { append, el, segments } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { repoFilter } from './suggest.js';
import { tokenize, splitLines } from './highlight.js';
import { Nav } from './nav.js';
import { outlinePanel } from './outline.js';
import { apiFile, formatLineHash, parseLineHash, parseMatchLines, rawHref, searchHref } from './urls.js';

const HIGHLIGHT_MAX = 1 << 20; // characters; larger files are shown without colours

function formatSize(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

export class FileView {
  constructor(root, { repo, path }, params) {
    this.root = root;
    this.repo = repo;
    this.path = path;
    this.rev = params.get('rev') || undefined;
    this.matches = new Set(parseMatchLines(params.get('m')));
    this.lines = [];
    this.anchor = null;
    this.abort = new AbortController();
    this.load();
  }

  stop() {
    this.abort.abort();
    if (this.nav) this.nav.stop();
  }

  async load() {
    append(this.root, el('p', { class: 'loading' }, 'Loading…'));
    let f;
    try {
      f = await getJSON(apiFile(this.repo, this.path, this.rev), { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      this.root.replaceChildren(el('div', { class: 'qerror' },
        el('p', null, err instanceof ApiError && err.code === 'not_found'
          ? 'No such file, revision or repository.' : 'Error: ' + (err.message || String(err)))));
      return;
    }
    this.render(f);
  }

  render(f) {
    const s = (v) => (typeof v === 'string' ? v : '');
    const rev = s(f.rev) || this.rev;
    const commit = s(f.commit);
    const path = s(f.path) || this.path;
    const crumbs = el('h1', { class: 'fpath' },
      el('a', { class: 'rrepo', href: searchHref(repoFilter(this.repo)) }, this.repo),
      el('span', { class: 'rsep' }, ' › '), path);
    const meta = el('div', { class: 'fmeta' },
      rev ? el('span', { class: 'frev', title: 'revision' }, rev) : null,
      commit ? el('code', { class: 'fcommit', title: commit }, commit.slice(0, 12)) : null,
      s(f.language) ? el('span', { class: 'rlang' }, f.language) : null,
      Number.isFinite(f.size) ? el('span', { class: 'fsize' }, formatSize(f.size)) : null,
      this.matches.size ? el('span', { class: 'fmatches' }, `${this.matches.size} matching lines`) : null,
      el('a', { class: 'fraw', href: rawHref(this.repo, path, this.rev) }, 'Raw'));
    const nodes = [crumbs, meta];
    if (f.binary || f.skipped || typeof f.content !== 'string') {
      const why = f.binary ? 'This file is binary.' : f.skipped ? 'This file was not indexed: ' + s(f.skipped) + '.' : 'No content.';
      nodes.push(el('p', { class: 'notice' }, why));
      this.root.replaceChildren(...nodes);
      return;
    }
    this.nav = new Nav(this);
    nodes.push(this.nav.menu, this.nav.panel,
      el('div', { class: 'fbody' }, outlinePanel(this.repo, path, this.rev, this.abort.signal), this.code(f.content, s(f.language))),
      el('p', { class: 'navhelp' }, 'Click an identifier, then ', el('kbd', null, 'F12'), ' or ', el('kbd', null, 'g'), ' ', el('kbd', null, 'd'),
        ' goes to its definition; ', el('kbd', null, 'Shift+F12'), ' or ', el('kbd', null, 'g'), ' ', el('kbd', null, 'r'), ' finds its references.'));
    this.root.replaceChildren(...nodes);
    document.title = path + ' · ' + this.repo + ' · trawl';
    this.onHash(true);
  }

  code(content, language) {
    const tokens = content.length <= HIGHLIGHT_MAX ? tokenize(content, language) : [];
    const box = el('div', { class: 'code' });
    const frag = document.createDocumentFragment();
    splitLines(content, tokens).forEach((segs, i) => {
      const n = i + 1;
      const line = el('div', { class: this.matches.has(n) ? 'cl match' : 'cl' },
        el('a', { class: 'ln', 'data-n': n, href: '#L' + n, 'aria-label': 'line ' + n }));
      const lc = el('span', { class: 'lc' });
      segments(lc, segs);
      line.appendChild(lc);
      this.lines.push(line);
      frag.appendChild(line);
    });
    box.appendChild(frag);
    box.addEventListener('click', (e) => {
      const a = e.target.closest('a.ln');
      if (this.nav && !a) this.nav.clicked();
      if (!a || e.ctrlKey || e.metaKey || e.altKey || e.button !== 0) return;
      e.preventDefault();
      const n = Number(a.dataset.n);
      let start = n, end = n;
      if (e.shiftKey && this.anchor !== null) {
        start = Math.min(this.anchor, n);
        end = Math.max(this.anchor, n);
      } else {
        this.anchor = n;
      }
      history.replaceState(history.state, '', location.pathname + location.search + formatLineHash(start, end));
      this.select(start, end);
    });
    return box;
  }

  select(start, end) {
    for (const l of this.root.querySelectorAll('.cl.sel')) l.classList.remove('sel');
    for (let n = start; n <= end && n <= this.lines.length; n++) this.lines[n - 1].classList.add('sel');
  }

  // The hash changed (or the file just loaded): select #L.. and scroll to it, or to the first
  // matched line when arriving from a search.
  onHash(initial = false) {
    if (!this.lines.length) return;
    const sel = parseLineHash(location.hash);
    if (sel) {
      this.anchor = sel.start;
      this.select(sel.start, sel.end);
      // Centre the range when it fits in the window, else show its start at the top.
      const last = Math.min(sel.end, this.lines.length);
      const first = Math.min(sel.start, last);
      const height = this.lines[last - 1].getBoundingClientRect().bottom - this.lines[first - 1].getBoundingClientRect().top;
      if (height < innerHeight * 0.8) this.lines[Math.floor((first + last) / 2) - 1].scrollIntoView({ block: 'center' });
      else this.lines[first - 1].scrollIntoView({ block: 'start' });
    } else {
      this.select(0, -1);
      if (initial && this.matches.size) {
        const first = Math.min(...this.matches);
        if (first <= this.lines.length) this.lines[first - 1].scrollIntoView({ block: 'center' });
      }
    }
  }
}
