// Code navigation in the file view (docs/ui.md, "Code navigation"): the identifier at the caret
// (where a click or the keyboard put it) offers "Go to definition" (F12 or g d) and "Find
// references" (Shift+F12 or g r). Positions go to the API as 1-based line and UTF-16 column,
// as JavaScript counts a line's characters (docs/api.md, "The position"). Every name, path and
// line of text from the server is shown as text (dom.el).
import { el } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { apiRepo, fileHref } from './urls.js';

const IDENT = /[A-Za-z0-9_]/;

export function apiNav(repo, route, params) {
  const sp = new URLSearchParams();
  for (const k of ['rev', 'path', 'line', 'col']) {
    if (params[k] !== undefined && params[k] !== null && params[k] !== '') sp.set(k, String(params[k]));
  }
  return apiRepo(repo) + '/' + route + '?' + sp.toString();
}

// The caret's line (1-based) and column (1-based UTF-16 units) inside a code view's line, or
// null when the caret is not in a line's text.
export function caretPosition(sel) {
  if (!sel || !sel.rangeCount) return null;
  const r = sel.getRangeAt(0);
  const node = r.startContainer;
  const elt = node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement;
  const lc = elt && elt.closest('.cl .lc');
  if (!lc) return null;
  const line = Number(lc.parentElement.querySelector('.ln').dataset.n);
  const before = document.createRange();
  before.setStart(lc, 0);
  before.setEnd(r.startContainer, r.startOffset);
  return { line, col: before.toString().length + 1, text: lc.textContent };
}

// The identifier at a 1-based UTF-16 column of text (inside it or just after it), or ''.
export function identifierAt(text, col) {
  let i = col - 1;
  if (!(i < text.length && IDENT.test(text[i]))) {
    if (i === 0 || !IDENT.test(text[i - 1] || '')) return '';
    i--;
  }
  let a = i, b = i + 1;
  while (a > 0 && IDENT.test(text[a - 1])) a--;
  while (b < text.length && IDENT.test(text[b])) b++;
  const id = text.slice(a, b);
  return /^[0-9]/.test(id) ? '' : id;
}

// Navigation for one file view: its panel (results) and the menu at the caret.
export class Nav {
  constructor(view) {
    this.view = view;
    this.pending = '';
    this.pos = null;
    this.abort = null;
    this.panel = el('section', { class: 'navpanel', 'aria-label': 'Navigation results', 'aria-live': 'polite', hidden: true });
    this.menu = el('div', { class: 'navmenu', role: 'toolbar', 'aria-label': 'Code navigation', hidden: true },
      el('button', { type: 'button', class: 'navdef', title: 'Go to definition (F12, g d)' }, 'Go to definition'),
      el('button', { type: 'button', class: 'navrefs', title: 'Find references (Shift+F12, g r)' }, 'Find references'));
    this.menu.querySelector('.navdef').addEventListener('click', () => this.definition());
    this.menu.querySelector('.navrefs').addEventListener('click', () => this.references());
    this.onKey = (e) => this.keydown(e);
    document.addEventListener('keydown', this.onKey);
  }

  stop() {
    document.removeEventListener('keydown', this.onKey);
    if (this.abort) this.abort.abort();
  }

  // The position the actions use: the caret's when it is on an identifier, else the one the
  // last click in the code chose (a click elsewhere in the page moves no caret into the code).
  position() {
    const p = caretPosition(getSelection());
    if (p && identifierAt(p.text, p.col)) this.pos = p;
    return this.pos;
  }

  // A click in the code: the menu offers the identifier there, or hides when there is none.
  clicked() {
    const p = caretPosition(getSelection());
    const id = p ? identifierAt(p.text, p.col) : '';
    this.pos = id ? p : null;
    this.menu.hidden = !id;
    if (id) this.menu.setAttribute('aria-label', 'Code navigation for ' + id);
  }

  keydown(e) {
    const t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
    let act = '';
    if (e.key === 'F12') act = e.shiftKey ? 'r' : 'd';
    else if (this.pending === 'g' && (e.key === 'd' || e.key === 'r')) act = e.key;
    this.pending = e.key === 'g' && !act ? 'g' : '';
    if (!act) return;
    e.preventDefault();
    if (act === 'd') this.definition(); else this.references();
  }

  async ask(route) {
    const p = this.position();
    if (!p) {
      this.show(el('p', { class: 'notice' }, 'Click on an identifier first.'));
      return null;
    }
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    const v = this.view;
    try {
      return await getJSON(apiNav(v.repo, route, { path: v.path, line: p.line, col: p.col, rev: v.rev }), { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return null;
      this.show(el('p', { class: 'qerror' }, err instanceof ApiError ? err.message : 'Error: ' + String(err)));
      return null;
    }
  }

  show(...nodes) {
    this.panel.replaceChildren(el('button', { type: 'button', class: 'navclose', 'aria-label': 'Close navigation results' }, '×'), ...nodes);
    this.panel.querySelector('.navclose').addEventListener('click', () => { this.panel.hidden = true; });
    this.panel.hidden = false;
  }

  async definition() {
    const r = await this.ask('definition');
    if (!r) return;
    const defs = Array.isArray(r.definitions) ? r.definitions : [];
    const id = String(r.identifier || '');
    if (defs.length === 1) {
      go(fileHref(String(defs[0].repo), String(defs[0].path), { line: defs[0].line, rev: defs[0].repo === this.view.repo ? this.view.rev : undefined }));
      return;
    }
    if (!defs.length) {
      this.show(el('p', { class: 'notice' }, 'No definition of ', el('code', null, id), ' found.'));
      return;
    }
    const list = el('ul', { class: 'navdefs' });
    for (const d of defs) {
      const href = fileHref(String(d.repo), String(d.path), { line: d.line, rev: d.repo === this.view.repo ? this.view.rev : undefined });
      list.appendChild(el('li', null,
        el('a', { href }, String(d.repo) + ' › ' + String(d.path) + ':' + d.line),
        ' ', el('span', { class: 'symkind' }, String(d.kind || '')),
        d.lang ? el('span', { class: 'rlang' }, String(d.lang)) : null,
        el('code', { class: 'navtext' }, String(d.text || ''))));
    }
    this.show(el('h2', null, `${defs.length}${r.limit_hit ? '+' : ''} definitions of `, el('code', null, id)), list);
    list.querySelector('a').focus();
  }

  async references() {
    const r = await this.ask('references');
    if (!r) return;
    const results = Array.isArray(r.results) ? r.results : [];
    const id = String(r.identifier || '');
    const list = el('ul', { class: 'navrefs-list' });
    let n = 0;
    for (const f of results) {
      const lines = Array.isArray(f.lines) ? f.lines : [];
      const sub = el('ul', null);
      for (const l of lines) {
        n++;
        sub.appendChild(el('li', null, el('a', { href: fileHref(String(f.repo), String(f.path), { line: l.line, rev: f.repo === this.view.repo ? this.view.rev : undefined }) },
          el('span', { class: 'navln' }, String(l.line)), ' ', el('code', { class: 'navtext' }, String(l.text || '')))));
      }
      list.appendChild(el('li', null, el('span', { class: 'navfile' }, String(f.repo) + ' › ' + String(f.path)), sub));
    }
    const limited = r.summary && r.summary.limit_hit ? '+' : '';
    this.show(el('h2', null, `${n}${limited} references to `, el('code', null, id)), n ? list : el('p', { class: 'notice' }, 'None found.'));
    const a = list.querySelector('a');
    if (a) a.focus();
  }
}

// Follows an in-app link as a click on it would (app.js routes on popstate).
function go(href) {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}
