// "Go to file" (the t shortcut; docs/ui.md, "Go to file"): a modal dialog holding a combobox (a
// text field and a listbox of the 50 best paths) over every path of one repository on one
// revision, from GET /api/v1/repos/{name}/paths, fetched once per repository and revision and
// ranked in the browser as the user types (fuzzy.js). Long lists are ranked in slices between
// which the page stays responsive, and a longer query only rescans what the shorter one
// matched. The repository is the page's: the file or directory shown, the repository home page,
// or on the search page the focused result's; elsewhere the dialog says to open one first.
import { clear, el, segments } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { compareMatches, fuzzyFilter, fuzzyQuery, fuzzyScore } from './fuzzy.js';
import { apiRepo, fileHref, parseFileRoute } from './urls.js';

export const FINDER_SHOWN = 50;
const SLICE = 20000; // paths ranked between two chances for the page to paint and take input
const CACHED = 4;    // lists kept (repository and revision)

const lists = new Map(); // "repo\nrev" -> promise of {paths, lowers, truncated}

// The repository (and revision) the finder lists: the view's say (finderTarget()), else the
// page's URL (/file/REPO/..., /repos/REPO), else the focused search result's; null for none.
export function finderTarget(view, loc = location, active = document.activeElement) {
  if (view && typeof view.finderTarget === 'function') {
    const t = view.finderTarget();
    if (t && typeof t.repo === 'string' && t.repo) return t;
  }
  const rev = new URLSearchParams(loc.search).get('rev') || undefined;
  const file = parseFileRoute(loc.pathname);
  if (file) return { repo: file.repo, rev };
  const m = /^\/repos\/([^/]+)/.exec(loc.pathname);
  if (m) {
    try {
      return { repo: decodeURIComponent(m[1]), rev };
    } catch {
      return null;
    }
  }
  // The result with the focus, else the one j / k selected (if the search view marks it), else
  // the one repository the query names exactly.
  const result = (active && active.closest ? active.closest('.result') : null) ||
    document.querySelector('.result[aria-current="true"], .result.selected');
  if (!result) {
    const repo = exactRepo(new URLSearchParams(loc.search).get('q') || '');
    return repo ? { repo, rev } : null;
  }
  const link = result.querySelector('a.rpath[href], a.rrepo[href]');
  const r = result.dataset.repo || (result.querySelector('.rrepo') || {}).textContent;
  if (!r) return null;
  let resultRev;
  if (link && link.classList.contains('rpath')) {
    resultRev = new URL(link.href, loc.href).searchParams.get('rev') || undefined;
  }
  return { repo: r, rev: resultRev };
}

// The repository of a query's one repo:^NAME$ (as suggest.js's repoFilter writes it, unquoted,
// without regexp characters left after unescaping), else null.
export function exactRepo(q) {
  const found = [];
  for (const m of q.matchAll(/(?:^|[\s(])(?:repo|r):\^((?:\\.|[^\s\\$])+)\$(?=$|[\s)])/g)) found.push(m[1]);
  if (found.length !== 1) return null;
  const name = found[0].replace(/\\(.)/g, '$1');
  // Escapes undone, any regexp character left means the filter was a pattern, not a name.
  return /[\\^$.*+?()[\]{}|]/.test(found[0].replace(/\\./g, '')) ? null : name;
}

function loadPaths(repo, rev) {
  const key = repo + '\n' + (rev || '');
  let p = lists.get(key);
  if (p) return p;
  const url = apiRepo(repo) + '/paths' + (rev ? '?rev=' + encodeURIComponent(rev) : '');
  p = getJSON(url).then((body) => {
    const paths = Array.isArray(body.paths) ? body.paths.filter((x) => typeof x === 'string') : [];
    return { paths, lowers: paths.map((x) => x.toLowerCase()), truncated: body.truncated === true };
  });
  p.catch(() => lists.delete(key)); // a failure is not remembered
  if (lists.size >= CACHED) lists.delete(lists.keys().next().value);
  lists.set(key, p);
  return p;
}

const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));
const plural = (n, one, many) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

class Finder {
  constructor(target, go) {
    this.target = target;
    this.go = go;
    this.back = document.activeElement;
    this.list = null;     // {paths, lowers, truncated} once loaded
    this.shown = [];      // the paths in the listbox
    this.active = -1;
    this.token = 0;       // the ranking under way; a newer one makes older ones stop
    this.last = null;     // {q, matched}: the last complete ranking, to refine
    this.leaving = false; // closing to open a file: focus is not given back
    this.title = el('h2', { id: 'finder-title' }, 'Go to file',
      target ? [' in ', el('span', { class: 'finder-repo' }, target.repo), target.rev ? ' @ ' + target.rev : null] : null);
    this.status = el('p', { class: 'finder-status', role: 'status' });
    this.box = el('ul', { class: 'finder-list', id: 'finder-list', role: 'listbox', 'aria-label': 'Matching files', hidden: true });
    this.input = el('input', { type: 'text', class: 'finder-input', role: 'combobox', 'aria-labelledby': 'finder-title',
      'aria-controls': 'finder-list', 'aria-expanded': 'false', 'aria-autocomplete': 'list', autocomplete: 'off',
      spellcheck: 'false', autocapitalize: 'off', placeholder: 'File name or path (letters in order)' });
    const close = el('button', { type: 'button', class: 'dialog-close' }, 'Close');
    this.dialog = el('dialog', { class: 'finder', 'aria-labelledby': 'finder-title' },
      this.title, target ? this.input : null, this.status, this.box, close);
    close.addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => this.closed());
    this.input.addEventListener('input', () => this.rank());
    this.input.addEventListener('keydown', (e) => this.keydown(e));
    this.box.addEventListener('mousedown', (e) => e.preventDefault()); // keep the focus in the field
    this.box.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-i]');
      if (li) this.open(Number(li.dataset.i));
    });
  }

  show() {
    document.body.appendChild(this.dialog);
    this.dialog.showModal();
    if (!this.target) {
      this.status.textContent = 'Open a repository, a file or a search result first: the finder lists the files of one repository.';
      return;
    }
    this.input.focus();
    this.status.textContent = 'Loading the list of files…';
    loadPaths(this.target.repo, this.target.rev).then((list) => {
      if (!this.dialog.open) return;
      this.list = list;
      this.rank();
    }, (err) => {
      if (!this.dialog.open) return;
      this.status.textContent = err instanceof ApiError && err.code === 'not_found'
        ? 'No such repository or revision.' : 'Error: cannot load the list of files (' + (err.message || String(err)) + ').';
    });
  }

  closed() {
    this.token++;
    this.dialog.remove();
    if (current === this) current = null;
    if (!this.leaving && this.back && this.back.isConnected && typeof this.back.focus === 'function') this.back.focus();
  }

  // Ranks the list for the text typed; in slices for long lists, refining the last complete
  // ranking when the text only grew.
  async rank() {
    if (!this.list) return;
    const token = ++this.token;
    const { paths, lowers } = this.list;
    const q = fuzzyQuery(this.input.value);
    if (!q) {
      this.last = null;
      this.render(q, paths.slice(0, FINDER_SHOWN).map((path, index) => ({ path, index })), paths.length);
      return;
    }
    const among = this.last && q.startsWith(this.last.q) ? this.last.matched : null;
    const n = among ? among.length : paths.length;
    let top = [], matched = [];
    for (let from = 0; from < n; from += SLICE) {
      if (from > 0) {
        await nextFrame();
        if (token !== this.token) return;
      }
      const r = fuzzyFilter(q, paths, lowers, { among, from, to: from + SLICE, limit: FINDER_SHOWN });
      top = top.concat(r.top);
      matched = matched.concat(r.matched);
    }
    top = top.sort(compareMatches).slice(0, FINDER_SHOWN);
    this.last = { q, matched };
    this.render(q, top, matched.length);
  }

  render(q, top, count) {
    clear(this.box);
    this.shown = top.map((m) => m.path);
    top.forEach((m, i) => {
      const pos = new Array(q.length);
      const hits = new Set();
      if (q && fuzzyScore(q, m.path, this.list.lowers[m.index], pos) >= 0) for (const p of pos) hits.add(p);
      const segs = [];
      for (let k = 0; k < m.path.length; k++) {
        const cls = hits.has(k) ? 'fz-hit' : null;
        if (segs.length && segs[segs.length - 1][1] === cls) segs[segs.length - 1][0] += m.path[k];
        else segs.push([m.path[k], cls]);
      }
      this.box.appendChild(segments(el('li', { role: 'option', id: 'finder-opt-' + i, 'data-i': i, 'aria-selected': 'false' }), segs));
    });
    this.box.dataset.query = q; // which ranking is shown (the tests wait for theirs)
    this.box.hidden = top.length === 0;
    this.input.setAttribute('aria-expanded', top.length ? 'true' : 'false');
    this.select(top.length ? 0 : -1);
    const total = this.list.paths.length;
    const what = q ? `${plural(count, 'file matches', 'files match')} of ${plural(total, 'file', 'files')}`
      : plural(total, 'file', 'files');
    this.status.textContent = what + (count > top.length ? `; the best ${top.length} are shown` : '') +
      (this.list.truncated ? ' (the server sent the first part of a longer list)' : '') + '.';
  }

  select(i) {
    const items = this.box.children;
    if (this.active >= 0 && items[this.active]) {
      items[this.active].classList.remove('active');
      items[this.active].setAttribute('aria-selected', 'false');
    }
    this.active = i;
    if (i < 0 || !items[i]) {
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    items[i].classList.add('active');
    items[i].setAttribute('aria-selected', 'true');
    this.input.setAttribute('aria-activedescendant', items[i].id);
    items[i].scrollIntoView({ block: 'nearest' });
  }

  keydown(e) {
    const n = this.shown.length;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (n) this.select(e.key === 'ArrowDown' ? (this.active + 1) % n : (this.active - 1 + n) % n);
    } else if (e.key === 'Enter' && !e.isComposing) {
      e.preventDefault();
      if (this.active >= 0) this.open(this.active);
    }
  }

  open(i) {
    const path = this.shown[i];
    if (path === undefined) return;
    this.leaving = true;
    this.dialog.close();
    this.go(fileHref(this.target.repo, path, { rev: this.target.rev }));
  }
}

let current = null;

// Opens the finder for the current view (see finderTarget); go(url) navigates in the app.
export function openFinder(view, go) {
  if (current) return current;
  current = new Finder(finderTarget(view), go);
  current.show();
  return current;
}

// For the tests: the lists fetched so far are forgotten.
export function forgetPathLists() {
  lists.clear();
}
