// The single-page app: routes (/, /search, /file/..., /repos), the query box in the header,
// in-app navigation with history.pushState (the URL always says what is shown, so it can be
// shared and reloaded), and the "/" shortcut.
import { QueryBox } from './query-box.js';
import { SearchView } from './search-view.js';
import { FileView } from './file-view.js';
import { ReposView } from './repos-view.js';
import { clear, el } from './dom.js';
import { getJSON } from './api.js';
import { loadFields } from './fields.js';
import { parseFileRoute, searchHref } from './urls.js';

const main = document.getElementById('main');
let view = null;
let viewKey = null;

const box = new QueryBox(document.querySelector('form.qform'), {
  onSubmit: (q) => navigate(searchHref(q)),
  loadRepos: async () => {
    const body = await getJSON('/api/v1/repos');
    return (Array.isArray(body.repos) ? body.repos : []).map((r) => r && r.name).filter((n) => typeof n === 'string');
  },
});

// The filter names for suggestions and colours: the query box is drawn again once they are in.
loadFields(getJSON).then(() => box.render());

function navigate(url) {
  const same = url === location.pathname + location.search;
  if (same) viewKey = null; // submitting the same query runs it again
  else history.pushState(null, '', url);
  route();
}

function route() {
  const key = location.pathname + location.search;
  if (view && key === viewKey) {
    if (view.onHash) view.onHash();
    return;
  }
  if (view && view.stop) view.stop();
  view = null;
  viewKey = key;
  clear(main);
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  setActiveNav(path);
  if (path === '/' || path === '/search') {
    const q = params.get('q') || '';
    box.value = q;
    document.title = q ? q + ' · trawl' : 'trawl';
    view = new SearchView(main, box);
    view.run(q);
    return;
  }
  const file = parseFileRoute(path);
  if (file) {
    document.title = file.path + ' · ' + file.repo + ' · trawl';
    view = new FileView(main, file, params);
    return;
  }
  if (path === '/repos') {
    document.title = 'Repositories · trawl';
    view = new ReposView(main);
    return;
  }
  document.title = 'Not found · trawl';
  main.appendChild(el('div', { class: 'qerror' }, el('p', null, 'There is no such page.')));
}

function setActiveNav(path) {
  for (const a of document.querySelectorAll('nav.top-nav a')) {
    a.classList.toggle('current', a.getAttribute('href') === path || (path === '/' && a.getAttribute('href') === '/search'));
  }
}

// Links to the UI's own pages navigate in place; API links (raw files), other origins, new tabs
// and downloads are left to the browser.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // #L..
  e.preventDefault();
  history.pushState(null, '', url.pathname + url.search + url.hash);
  route();
});

window.addEventListener('popstate', route);

// "/" focuses the query box, unless the user is typing somewhere.
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey || e.isComposing) return;
  const t = e.target;
  if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  e.preventDefault();
  box.focus();
});

route();
