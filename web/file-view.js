// The file view (/file/{repo}/{path}?rev=REV&m=LINES#L10-L20): the file with line numbers and
// syntax highlighting, the lines a search matched (m=) tinted and the matched text in them
// marked, and a selection (#L...) set by clicking a line number (shift-click extends it to a
// range); code navigation (nav.js: go to definition, find references) at the clicked
// identifier, and the file's outline. A sticky header holds the breadcrumbs, the branch
// selector, Raw and Copy permalink. The same URL naming a directory shows the directory page
// (its listing and README: tree-view.js); a trailing "/" says so up front.
import { append, el, segments } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { tokenize, splitLines } from './highlight.js';
import { Nav } from './nav.js';
import { outlinePanel } from './outline.js';
import { branchSelector, branchesOf, breadcrumbs, directory } from './tree-view.js';
import { byteRangesToIndexes } from './utf8.js';
import { apiFile, apiRepo, dirHref, fileHref, formatLineHash, parseLineHash, parseMatches, permalinkHref,
  rawHref, repoHref } from './urls.js';

const HIGHLIGHT_MAX = 1 << 20; // characters; larger files are shown without colours

function formatSize(n) {
  if (!Number.isFinite(n)) return '';
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
  return (n / 1024 / 1024).toFixed(1) + ' MiB';
}

const notFound = (err) => err instanceof ApiError && err.code === 'not_found';

// segs ([[text, class|null], ...], one line's syntax colours) with the string ranges marks
// ([[start, end], ...], sorted, not overlapping) marked as well: a mark that spans several
// tokens becomes one marked piece of each, so colours and marks both survive.
export function overlayMarks(segs, marks, cls) {
  if (!marks.length) return segs;
  const out = [];
  let at = 0, m = 0;
  for (const [text, c] of segs) {
    const end = at + text.length;
    let i = at;
    while (i < end) {
      while (m < marks.length && marks[m][1] <= i) m++;
      const mark = m < marks.length ? marks[m] : null;
      if (!mark || mark[0] >= end) {
        out.push([text.slice(i - at), c]);
        i = end;
      } else if (mark[0] > i) {
        out.push([text.slice(i - at, mark[0] - at), c]);
        i = mark[0];
      } else {
        const e = Math.min(mark[1], end);
        out.push([text.slice(i - at, e - at), c ? c + ' ' + cls : cls]);
        i = e;
      }
    }
    at = end;
  }
  return out;
}

export class FileView {
  // opts: {navigate(url), replace(url)}: go to a page; replace the URL of this one in place.
  constructor(root, { repo, path }, params, opts = {}) {
    this.root = root;
    this.repo = repo;
    this.isDir = path.endsWith('/');
    this.path = path.replace(/\/+$/, '');
    this.rev = params.get('rev') || undefined;
    // line -> its matched byte ranges ([] when only the line is known)
    this.matches = new Map(parseMatches(params.get('m')).map((m) => [m.line, m.ranges]));
    this.navigate = opts.navigate || ((url) => { location.href = url; });
    this.replace = opts.replace || ((url) => history.replaceState(history.state, '', url));
    this.lines = [];
    this.anchor = null;
    this.commit = '';
    this.abort = new AbortController();
    this.load();
  }

  stop() {
    this.abort.abort();
    if (this.nav) this.nav.stop();
  }

  // The branches (for the selector) come with the page; a failure there only hides the selector.
  async load() {
    const signal = this.abort.signal;
    append(this.root, el('p', { class: 'loading' }, 'Loading…'));
    // Never rejects: the page may be left (aborted) before anything awaits it.
    const info = getJSON(apiRepo(this.repo), { signal }).catch(() => null);
    try {
      if (!this.isDir) {
        try {
          const f = await getJSON(apiFile(this.repo, this.path, this.rev), { signal });
          this.branches = branchesOf(await info);
          if (signal.aborted) return;
          this.render(f);
          return;
        } catch (err) {
          if (!notFound(err)) throw err;
        }
      }
      // A directory (or nothing at all: the tree says which).
      const content = await directory(this.repo, this.path, this.rev, signal);
      this.branches = branchesOf(await info);
      if (signal.aborted) return;
      this.renderDir(content);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      const body = await info;
      if (signal.aborted) return;
      this.branches = branchesOf(body);
      this.renderMissing(err, body);
    }
  }

  // The sticky header: breadcrumbs, then the branch selector and what else the page gives.
  header(meta) {
    const go = (b) => this.navigate(this.isDir ? dirHref(this.repo, this.path, b) : fileHref(this.repo, this.path, { rev: b }));
    return el('div', { class: 'fheader' }, breadcrumbs(this.repo, this.path, this.rev),
      el('div', { class: 'fmeta' }, branchSelector(this.branches || [], this.rev, go), ...meta));
  }

  renderDir(content) {
    this.isDir = true;
    document.title = this.path + '/ · ' + this.repo + ' · trawl';
    this.root.replaceChildren(this.header([]), ...content.filter(Boolean));
  }

  // Nothing of that name on the revision: say what is missing, with a way on.
  renderMissing(err, info) {
    let msg;
    const links = [];
    if (!notFound(err)) {
      msg = 'Error: ' + (err.message || String(err));
    } else if (!info) {
      msg = 'No such file, revision or repository.';
    } else if (this.rev && this.branches.length && !this.branches.some((b) => b.name === this.rev) && !/^[0-9a-f]{40}$/.test(this.rev)) {
      msg = 'The repository has no branch ' + this.rev + ' in the index.';
      links.push(el('a', { href: repoHref(this.repo) }, 'Go to the repository’s default branch'));
    } else {
      msg = this.path + ' does not exist on ' + (this.rev ? 'revision ' + this.rev : 'the default branch') + '.';
      links.push(el('a', { href: repoHref(this.repo, this.rev) }, 'Go to the root of ' + (this.rev || 'the default branch')));
    }
    this.root.replaceChildren(this.header([]), el('div', { class: 'qerror' }, el('p', null, msg), links.length ? el('p', null, ...links) : null));
  }

  render(f) {
    const s = (v) => (typeof v === 'string' ? v : '');
    const rev = s(f.rev) || this.rev;
    this.commit = s(f.commit);
    const path = s(f.path) || this.path;
    this.status = el('span', { class: 'fstatus', role: 'status', 'aria-live': 'polite' });
    this.copyField = el('input', { class: 'fpermalink', type: 'text', readonly: true, 'aria-label': 'Permalink', hidden: true });
    const meta = [
      rev && !(this.branches || []).length ? el('span', { class: 'frev', title: 'revision' }, rev) : null,
      this.commit ? el('code', { class: 'fcommit', title: this.commit }, this.commit.slice(0, 12)) : null,
      s(f.language) ? el('span', { class: 'rlang' }, f.language) : null,
      Number.isFinite(f.size) ? el('span', { class: 'fsize' }, formatSize(f.size)) : null,
      this.matches.size ? el('span', { class: 'fmatches' }, `${this.matches.size} matching lines`) : null,
      el('a', { class: 'fraw', href: rawHref(this.repo, path, this.rev) }, 'Raw'),
      this.permalinkButton(),
      this.copyField, this.status];
    const nodes = [this.header(meta)];
    // A commit permalink whose branch has moved on is read from the repository's mirror
    // (docs/api.md, "indexed"): say so, since search and navigation see the branch's tip.
    if (f.indexed === false) {
      nodes.push(el('p', { class: 'notice fmirror' }, 'This commit is no longer indexed: the file is shown from the repository\u2019s mirror, as it was at ',
        el('code', null, this.commit.slice(0, 12)), '.'));
    }
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

  permalinkButton() {
    const b = el('button', { type: 'button', class: 'fcopy', title: 'Copy a link to this file at its commit (y)' }, 'Copy permalink');
    b.addEventListener('click', () => this.permalink());
    return b;
  }

  // The shortcuts web/shortcuts.js passes to the page's view: y pins the URL to the commit.
  shortcut(name) {
    if (name !== 'permalink' || !this.status) return false;
    this.permalink();
    return true;
  }

  // Replaces the URL with the file at its commit (rev=<commit>, keeping m= and #L..) and copies
  // it: with the Clipboard API when the browser allows it (not on plain http from another
  // host), else by showing it in a selected text field for the user to copy.
  async permalink() {
    if (!this.commit) {
      this.status.textContent = 'This file has no commit to pin to (its repository is a directory, not git).';
      return;
    }
    this.replace(permalinkHref(this.repo, this.path, this.commit, location.search, location.hash));
    const url = location.href;
    try {
      if (!navigator.clipboard || !navigator.clipboard.writeText) throw new Error('no clipboard');
      await navigator.clipboard.writeText(url);
      this.copyField.hidden = true;
      this.status.textContent = 'Permalink copied';
    } catch {
      this.copyField.value = url;
      this.copyField.hidden = false;
      this.copyField.focus();
      this.copyField.select();
      this.status.textContent = 'Permalink selected: press Ctrl+C to copy it';
    }
  }

  code(content, language) {
    const tokens = content.length <= HIGHLIGHT_MAX ? tokenize(content, language) : [];
    const box = el('div', { class: 'code' });
    const frag = document.createDocumentFragment();
    splitLines(content, tokens).forEach((segs, i) => {
      const n = i + 1;
      const ranges = this.matches.get(n);
      const line = el('div', { class: ranges ? 'cl match' : 'cl' },
        el('a', { class: 'ln', 'data-n': n, href: '#L' + n, 'aria-label': 'line ' + n }));
      const lc = el('span', { class: 'lc' });
      // The matched text: byte ranges of the line (as the search API gives them) to string offsets.
      const marks = ranges && ranges.length ? byteRangesToIndexes(segs.map((x) => x[0]).join(''), ranges) : [];
      segments(lc, overlayMarks(segs, marks, 'hl fmark'));
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
        const first = Math.min(...this.matches.keys());
        if (first <= this.lines.length) this.lines[first - 1].scrollIntoView({ block: 'center' });
      }
    }
  }
}
