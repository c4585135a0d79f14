// The outline of the file view: the file's symbols (GET .../outline) in line order, each a link
// to its line, indented under its scope. Names come from the repository: shown as text only.
import { el } from './dom.js';
import { getJSON } from './api.js';
import { fileHref } from './urls.js';
import { apiNav } from './nav.js';

export function outlinePanel(repo, path, rev, signal) {
  const list = el('ol', { class: 'outline-list' });
  const box = el('nav', { class: 'outline', 'aria-label': 'Outline of ' + path },
    el('h2', null, 'Outline'), list);
  getJSON(apiNav(repo, 'outline', { path, rev }), { signal, quiet: true }).then((r) => {
    const syms = Array.isArray(r.symbols) ? r.symbols : [];
    if (!syms.length) {
      list.replaceWith(el('p', { class: 'notice' }, r.status === null ? 'No symbols: this index was built without them.' : 'No symbols.'));
      return;
    }
    for (const s of syms) {
      list.appendChild(el('li', { class: s.scope ? 'scoped' : null },
        el('a', { href: fileHref(repo, path, { rev, line: s.line }), title: String(s.kind || '') + (s.scope ? ' in ' + String(s.scope) : '') },
          el('span', { class: 'symkind' }, String(s.kind || '')), ' ', String(s.name || ''))));
    }
  }).catch((err) => {
    if (err && err.name === 'AbortError') return;
    list.replaceWith(el('p', { class: 'notice' }, 'The outline could not be loaded.'));
  });
  return box;
}
