// The filter sidebar of the results page: how many results came from each repository, language
// and top-level directory, counted as results stream in (O(1) a result), drawn at most every
// DRAW_MS while streaming and once at the end. Each entry is a link to the query with that
// filter added (repo:^NAME$, lang:NAME, file:^DIR/), so one click narrows the search.
import { clear, el } from './dom.js';
import { facetFilter, withFilter } from './results-query.js';
import { searchHref } from './urls.js';

const SHOWN = 10;    // entries per section
const DRAW_MS = 500; // at most this often while streaming

// The sections: title, the key of a result (or null: not counted), the filter of a key.
const SECTIONS = [
  ['Repositories', (r) => (typeof r.repo === 'string' ? r.repo : null), facetFilter.repo],
  ['Languages', (r) => (typeof r.language === 'string' && r.language ? r.language : null), facetFilter.lang],
  ['Directories', (r) => topDir(r.path), facetFilter.dir],
];

// The first component of a path that has more than one ("src" of "src/a/b.c"), else null.
export function topDir(path) {
  if (typeof path !== 'string') return null;
  const i = path.indexOf('/');
  return i > 0 ? path.slice(0, i) : null;
}

// The n largest counts of a map, largest first, ties by name: [[key, count], ...].
export function top(counts, n) {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).slice(0, n);
}

export class Facets {
  constructor(q) {
    this.q = q;
    this.counts = SECTIONS.map(() => new Map());
    this.timer = 0;
    this.drawnAt = 0;
    this.node = el('aside', { class: 'facets', 'aria-labelledby': 'facets-title', hidden: true });
  }

  add(results) {
    for (const r of results) {
      if (!r || typeof r !== 'object' || r.type === 'repo') continue;
      SECTIONS.forEach(([, key], i) => {
        const k = key(r);
        if (k !== null) this.counts[i].set(k, (this.counts[i].get(k) || 0) + 1);
      });
    }
    this.schedule();
  }

  schedule() {
    if (this.timer) return;
    const wait = Math.max(0, this.drawnAt + DRAW_MS - performance.now());
    this.timer = setTimeout(() => { this.timer = 0; this.draw(); }, wait);
  }

  stop() {
    clearTimeout(this.timer);
    this.timer = 0;
  }

  // Draws now (the stream is done, or the throttle's time came).
  draw() {
    this.stop();
    this.drawnAt = performance.now();
    const sections = [];
    SECTIONS.forEach(([title, , filter], i) => {
      const entries = top(this.counts[i], SHOWN);
      if (!entries.length) return;
      const list = el('ul', null);
      for (const [key, n] of entries) {
        list.appendChild(el('li', null, el('a', { href: searchHref(withFilter(this.q, filter(key))), title: filter(key) },
          el('span', { class: 'fname' }, key), ' ', el('span', { class: 'fcount' }, n.toLocaleString('en-US')))));
      }
      sections.push(el('section', null, el('h3', null, title), list));
    });
    clear(this.node);
    this.node.hidden = sections.length === 0;
    if (sections.length) this.node.append(el('h2', { id: 'facets-title' }, 'Filter results'), ...sections);
  }
}
