// The query box: a transparent textarea over a <pre> that shows the same text coloured by
// query-lex.js (the textarea keeps the caret, selection, undo and IME; the <pre> only paints).
// Both have the same font, padding and wrapping, and the box grows with the <pre>, so their text
// lines up without measuring anything. Below it, a list of suggestions (suggest.js): filter
// names and values, symbol names from /api/v1/symbols while a bare word is typed, and the
// recent searches (recent.js) while the box is empty.
import { getJSON } from './api.js';
import { lexQuery } from './query-lex.js';
import { SYMBOL_FETCH, repoTyped, suggest, symbolItems, symbolQuery, symbolWord } from './suggest.js';
import { columnToIndex } from './utf8.js';
import { LANGUAGES } from './languages.js';
import { loadRecent, recentSuggestions, recordRecent, removeRecent } from './recent.js';
import { clear, el } from './dom.js';

// How long typing must pause before symbol names are asked for.
const SYMBOL_DELAY_MS = 120;

export class QueryBox {
  // form: the <form class="qform"> of index.html. onSubmit(q) runs a search; loadRepos(text)
  // returns a promise of {names, complete}: repository names containing text (without case),
  // complete when they are all of them (for repo: suggestions).
  constructor(form, { onSubmit, loadRepos }) {
    this.form = form;
    this.input = form.querySelector('.qinput');
    this.pre = form.querySelector('.qhl');
    this.list = form.querySelector('.qsuggest');
    this.onSubmit = onSubmit;
    this.loadRepos = loadRepos;
    // repo: suggestions: the server's answers by text typed, and the text being fetched.
    this.repoCache = new Map();
    this.repoLoading = null;
    this.errorAt = -1;
    this.sugg = null;
    this.active = -1;
    // Symbol suggestions: the word being fetched, its timer and request, and the last answers.
    this.symWord = null;
    this.symTimer = 0;
    this.symAbort = null;
    this.symCache = new Map();

    this.input.addEventListener('input', () => this.changed());
    this.input.addEventListener('keydown', (e) => this.keydown(e));
    this.input.addEventListener('click', () => this.updateSuggestions());
    this.input.addEventListener('focus', () => this.updateSuggestions()); // the recent searches
    this.input.addEventListener('keyup', (e) => {
      if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) this.updateSuggestions();
    });
    this.input.addEventListener('blur', () => this.closeSuggestions());
    // Clicking an item must not blur the textarea first.
    this.list.addEventListener('mousedown', (e) => e.preventDefault());
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('li');
      if (!li || !this.list.contains(li)) return;
      if (e.target.closest('.qremove')) this.forget(Number(li.dataset.i));
      else this.accept(Number(li.dataset.i), true);
    });
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.closeSuggestions();
      const q = this.value.trim();
      if (q) recordRecent(q);
      this.onSubmit(q);
    });
    this.render();
  }

  get value() { return this.input.value; }

  set value(q) {
    if (this.input.value !== q) this.input.value = q;
    this.errorAt = -1;
    this.render();
  }

  focus() {
    this.input.focus();
    const n = this.input.value.length;
    this.input.setSelectionRange(n, n);
  }

  // Marks the character at a 1-based column (in characters) of the query: a query error.
  setErrorColumn(column) {
    this.errorAt = column ? columnToIndex(this.value, column) : -1;
    this.render();
  }

  changed() {
    // A query is one line: pasted newlines become spaces (the caret stays where it was).
    const v = this.input.value;
    if (/[\r\n]/.test(v)) {
      const pos = this.input.selectionStart;
      this.input.value = v.replace(/\r\n|[\r\n]/g, ' ');
      const p = Math.min(pos, this.input.value.length);
      this.input.setSelectionRange(p, p);
    }
    this.errorAt = -1;
    this.render();
    this.updateSuggestions();
  }

  render() {
    const q = this.value;
    clear(this.pre);
    for (const t of lexQuery(q)) {
      const text = q.slice(t.start, t.end);
      if (this.errorAt >= t.start && this.errorAt < t.end) {
        // Split the token around the marked character.
        const a = this.errorAt, b = a + (q.codePointAt(a) > 0xffff ? 2 : 1);
        this.span(q.slice(t.start, a), t.type);
        this.span(q.slice(a, b), t.type + ' q-errpos');
        this.span(q.slice(b, t.end), t.type);
      } else {
        this.span(text, t.type);
      }
    }
    if (this.errorAt >= q.length && this.errorAt >= 0) this.span(' ', 'ws q-errpos');
    // A trailing space keeps the last (or an empty) line as tall as the textarea's.
    this.pre.appendChild(document.createTextNode(' '));
  }

  span(text, type) {
    if (!text) return;
    if (type === 'ws') {
      this.pre.appendChild(document.createTextNode(text));
      return;
    }
    const s = document.createElement('span');
    s.className = type.split(' ').map((c) => (c.startsWith('q-') ? c : 'q-' + c)).join(' ');
    s.textContent = text;
    this.pre.appendChild(s);
  }

  keydown(e) {
    const open = this.sugg !== null;
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      if (open && this.active >= 0) this.accept(this.active, true);
      else this.form.requestSubmit();
    } else if (open && (e.key === 'ArrowDown' || e.key === 'ArrowUp')) {
      e.preventDefault();
      const n = this.sugg.items.length;
      this.active = e.key === 'ArrowDown' ? (this.active + 1) % n : (this.active - 1 + n) % n;
      this.paintSuggestions();
    } else if (!open && e.key === 'ArrowDown' && !this.value.trim()) {
      this.updateSuggestions(); // the recent searches again, after Escape
      if (this.sugg) e.preventDefault();
    } else if (open && e.key === 'Tab' && !e.shiftKey && this.sugg.items[0].recent && this.active < 0) {
      this.closeSuggestions(); // Tab leaves an empty box: a recent search is taken only when chosen
    } else if (open && e.key === 'Tab' && !e.shiftKey) {
      e.preventDefault();
      this.accept(this.active >= 0 ? this.active : 0);
    } else if (open && e.key === 'Escape') {
      e.preventDefault();
      this.closeSuggestions();
    } else if (open && e.key === 'Delete' && this.active >= 0 && this.sugg.items[this.active].recent) {
      e.preventDefault();
      this.forget(this.active);
    }
  }

  // Removes recent search i of the list shown, and shows the rest.
  forget(i) {
    const it = this.sugg && this.sugg.items[i];
    if (!it || !it.recent) return;
    removeRecent(it.label);
    const keep = this.active;
    this.updateSuggestions();
    if (this.sugg && this.sugg.items.length) {
      this.active = Math.min(keep, this.sugg.items.length - 1);
      this.paintSuggestions();
    }
  }

  // The repository names for a repo: value at cursor: the server's answer for its text, or
  // for a shorter start of it that was complete (which holds every name containing the text);
  // else none yet, and the text is fetched (one request at a time; then suggest again).
  reposAt(q, cursor) {
    const t = repoTyped(q, cursor);
    if (t === null) return [];
    for (let n = t.length; n >= 0; n--) {
      const got = this.repoCache.get(t.slice(0, n));
      if (got && (n === t.length || got.complete)) return got.names;
    }
    if (this.repoLoading === null) this.fetchRepos(t);
    return [];
  }

  async fetchRepos(t) {
    this.repoLoading = t;
    let got;
    try {
      got = await this.loadRepos(t);
    } catch {
      got = { names: [], complete: false }; // no suggestions: not the user's concern
    }
    if (this.repoCache.size >= 64) this.repoCache.delete(this.repoCache.keys().next().value);
    this.repoCache.set(t, got);
    this.repoLoading = null;
    this.updateSuggestions(); // for what is typed by now
  }

  updateSuggestions() {
    if (document.activeElement !== this.input || this.input.selectionStart !== this.input.selectionEnd) {
      this.closeSuggestions();
      return;
    }
    const q = this.value, cur = this.input.selectionStart;
    const recent = recentSuggestions(q, q.trim() ? [] : loadRecent());
    if (recent) {
      this.cancelSymbols();
      this.sugg = recent;
      this.active = -1;
      this.paintSuggestions();
      return;
    }
    const s = suggest(q, cur, { repos: this.reposAt(q, cur), languages: LANGUAGES });
    if (!s) {
      const sw = symbolWord(q, cur);
      if (sw) {
        this.suggestSymbols(q, sw);
        return;
      }
      this.closeSuggestions();
      return;
    }
    this.cancelSymbols();
    this.sugg = s;
    this.active = -1;
    this.paintSuggestions();
  }

  // Symbol names for the word sw of q: from the last answers, or fetched once the user pauses
  // (SYMBOL_DELAY_MS); a request for a word no longer typed is aborted, and an answer that
  // comes for one is dropped.
  suggestSymbols(q, sw) {
    const cached = this.symCache.get(sw.word);
    if (cached) {
      this.cancelSymbols();
      this.showSymbols(q, sw, cached);
      return;
    }
    if (this.symWord === sw.word) return; // already on its way
    this.closeSuggestions(); // a list for another word (and its request, if any) goes
    this.symWord = sw.word;
    this.symTimer = setTimeout(() => this.fetchSymbols(sw.word), SYMBOL_DELAY_MS);
  }

  async fetchSymbols(word) {
    this.symTimer = 0;
    const ctl = new AbortController();
    this.symAbort = ctl;
    let symbols = [];
    try {
      const url = '/api/v1/symbols?q=' + encodeURIComponent(symbolQuery(word)) + '&count=' + SYMBOL_FETCH;
      const body = await getJSON(url, { signal: ctl.signal, quiet: true });
      symbols = Array.isArray(body.symbols) ? body.symbols : [];
    } catch {
      if (ctl.signal.aborted) return;
      symbols = []; // no suggestions: an error here is not the user's concern
    }
    if (this.symAbort !== ctl) return;
    this.symAbort = null;
    this.symWord = null;
    if (this.symCache.size >= 64) this.symCache.delete(this.symCache.keys().next().value);
    this.symCache.set(word, symbols);
    // Still the word at the caret? (The user may have typed on, or left the box.)
    if (document.activeElement !== this.input || this.input.selectionStart !== this.input.selectionEnd) return;
    const q = this.value;
    const sw = symbolWord(q, this.input.selectionStart);
    if (!sw || sw.word !== word || suggest(q, sw.to, { repos: this.reposAt(q, sw.to), languages: LANGUAGES })) return;
    this.showSymbols(q, sw, symbols);
  }

  showSymbols(q, sw, symbols) {
    const s = symbolItems(q, sw, symbols);
    if (!s) { this.closeSuggestions(); return; }
    this.sugg = s;
    this.active = -1;
    this.paintSuggestions();
  }

  cancelSymbols() {
    if (this.symTimer) clearTimeout(this.symTimer);
    this.symTimer = 0;
    if (this.symAbort) this.symAbort.abort();
    this.symAbort = null;
    this.symWord = null;
  }

  paintSuggestions() {
    clear(this.list);
    this.sugg.items.forEach((it, i) => {
      const li = el('li', { role: 'option', id: 'qsugg-' + i, 'data-i': i, 'aria-selected': i === this.active ? 'true' : 'false',
        class: i === this.active ? 'active' : null },
      el('span', { class: 'label' }, it.label), ' ', el('span', { class: 'detail' }, it.detail),
      // Delete removes the active one from the keyboard; this is the mouse's way.
      it.recent ? el('span', { class: 'qremove', title: 'Remove from recent searches', 'aria-hidden': 'true' }, '×') : null);
      this.list.appendChild(li);
    });
    this.list.hidden = false;
    if (this.active >= 0) this.input.setAttribute('aria-activedescendant', 'qsugg-' + this.active);
    else this.input.removeAttribute('aria-activedescendant');
    if (this.active >= 0) this.list.children[this.active].scrollIntoView({ block: 'nearest' });
  }

  closeSuggestions() {
    this.cancelSymbols();
    this.sugg = null;
    this.active = -1;
    this.list.hidden = true;
    this.input.removeAttribute('aria-activedescendant');
    clear(this.list);
  }

  // Puts suggestion i into the query; a recent search chosen with Enter or a click (run) runs.
  accept(i, run = false) {
    const s = this.sugg;
    if (!s || !s.items[i]) return;
    const it = s.items[i];
    const q = this.value;
    this.input.value = q.slice(0, s.from) + it.insert + q.slice(s.to);
    const p = s.from + it.insert.length;
    this.input.setSelectionRange(p, p);
    this.errorAt = -1;
    this.render();
    if (it.more) this.updateSuggestions();
    else this.closeSuggestions();
    if (it.recent && run) this.form.requestSubmit();
  }
}
