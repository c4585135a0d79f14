// The list of results, rendered a chunk at a time: results arrive into an array (O(1) each, no
// DOM), and are turned into DOM only when the end of what is rendered nears the viewport (an
// IntersectionObserver on a sentinel after the last result), at most CHUNK per animation frame.
// So a stream of hundreds of thousands of matching lines costs the page the results it shows,
// not the results it receives, and the tab stays responsive while they arrive.
//
// DESIGN: the list only ever grows (no recycling of nodes scrolled past): a reader who scrolls
// through 10,000 results has them all in the DOM, which browsers handle; what must not happen
// is building them all up front or per event. Keyboard moves (next/prev) render ahead as needed.
import { el } from './dom.js';

const CHUNK = 20;          // results rendered per frame
const AHEAD_PX = 1500;     // render while the sentinel is this close below the viewport

export class ResultList {
  // render(item) -> a node or null (an item it cannot show is dropped).
  constructor(render) {
    this.render = render;
    this.items = [];
    this.nodes = [];
    this.next = 0; // items[next] is the first not yet rendered
    this.frame = 0;
    this.node = el('div', { class: 'results' });
    this.sentinel = el('div', { class: 'results-end', 'aria-hidden': 'true' });
    this.node.appendChild(this.sentinel);
    this.onPaint = null; // called once, after the first results were added to the DOM
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.schedule();
    }, { rootMargin: `0px 0px ${AHEAD_PX}px 0px` });
    this.observer.observe(this.sentinel);
  }

  get length() { return this.items.length; }
  get rendered() { return this.nodes.length; }

  push(items) {
    for (const it of items) this.items.push(it);
    if (this.next < this.items.length) this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.flush(); });
  }

  stop() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.observer.disconnect();
  }

  // One frame's work: a chunk, if the sentinel is near the viewport (or nothing is shown yet).
  flush() {
    if (this.next >= this.items.length) return;
    if (this.nodes.length && this.sentinel.getBoundingClientRect().top > innerHeight + AHEAD_PX) return;
    this.renderTo(this.next + CHUNK);
    if (this.next < this.items.length) this.schedule();
  }

  // Renders items up to index end (exclusive) now.
  renderTo(end) {
    const frag = document.createDocumentFragment();
    const first = this.nodes.length === 0;
    for (; this.next < Math.min(end, this.items.length); this.next++) {
      const node = this.render(this.items[this.next]);
      if (!node) continue;
      node.dataset.index = String(this.nodes.length);
      this.nodes.push(node);
      frag.appendChild(node);
    }
    this.node.insertBefore(frag, this.sentinel);
    if (first && this.nodes.length && this.onPaint) {
      const f = this.onPaint;
      this.onPaint = null;
      requestAnimationFrame(() => f()); // the frame after the one that paints them
    }
  }

  // The index of the result holding node (e.g. document.activeElement), or -1.
  indexOf(node) {
    const article = node && node.closest ? node.closest('.result') : null;
    const i = article ? Number(article.dataset.index) : -1;
    return this.nodes[i] === article ? i : -1;
  }

  // The i-th result's node, rendering up to it first; null past the end.
  at(i) {
    while (i >= this.nodes.length && this.next < this.items.length) this.renderTo(this.next + CHUNK);
    return i >= 0 && i < this.nodes.length ? this.nodes[i] : null;
  }
}
