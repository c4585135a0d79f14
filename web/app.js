// The single-page app: routes (/, /search, /file/..., /repos, /repos/NAME, /account/...,
// /admin/...), the query box and the user menu in the header, in-app navigation with
// history.pushState (the URL always says what is shown, so it can be shared and reloaded), and
// the "/" shortcut. In team mode a 401 from any request shows the sign-in page, which comes
// back to the page afterwards.
import { QueryBox } from './query-box.js';
import { SearchView } from './search-view.js';
import { FileView } from './file-view.js';
import { ReposView } from './repos-view.js';
import { RepoView } from './repo-view.js';
import { UserMenu } from './user-menu.js';
import { NoticeBanner } from './notices.js';
import { Session } from './session.js';
import { installShortcuts } from './shortcuts.js';
import { clear, el } from './dom.js';
import { getJSON, onUnauthorized } from './api.js';
import { loadFields } from './fields.js';
import { SIGNIN_PATH, parseFileRootRoute, parseFileRoute, parseRepoRoute, repoHref, safeNext, searchHref, signinHref } from './urls.js';

const main = document.getElementById('main');
let view = null;
let viewKey = null;
let routed = false; // the first route comes after the session loads: the user may have typed already

const box = new QueryBox(document.querySelector('form.qform'), {
  onSubmit: (q) => navigate(searchHref(q)),
  // A page of names containing text: enough to rank the suggestions shown (docs/ui.md).
  loadRepos: async (text) => {
    const body = await getJSON('/api/v1/repos?' + new URLSearchParams({ limit: '200', q: text }).toString());
    const names = (Array.isArray(body.repos) ? body.repos : []).map((r) => r && r.name).filter((n) => typeof n === 'string');
    return { names, complete: body.next === null };
  },
});

const session = new Session();
const menu = new UserMenu(document.getElementById('user-menu'), async () => {
  let message = '';
  try {
    await session.signOut();
  } catch (err) {
    message = 'Signing out failed (' + (err.message || String(err)) + '): the session may still be open.';
  }
  signedOut(message);
});
let notice = ''; // for the next sign-in page: why the user was signed out
const banner = new NoticeBanner();
main.before(banner.node);

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
  // Signed out (team mode): every page but the sign-in page leads to it, and back here after.
  if (session.signedOut && location.pathname !== SIGNIN_PATH) {
    history.replaceState(null, '', signinHref(location.pathname + location.search));
    viewKey = location.pathname + location.search;
  }
  const path = location.pathname;
  const params = new URLSearchParams(location.search);
  const first = !routed;
  routed = true;
  setActiveNav(path);
  if (path === '/' || path === '/search') {
    const q = params.get('q') || '';
    // Keystrokes typed into the box while the page loaded are kept (a URL without q has nothing to show).
    if (!first || q) box.value = q;
    document.title = q ? q + ' · trawl' : 'trawl';
    view = new SearchView(main, box);
    view.run(q);
    return;
  }
  const file = parseFileRoute(path);
  if (file) {
    document.title = file.path + ' · ' + file.repo + ' · trawl';
    view = new FileView(main, file, params, { navigate, replace: replaceUrl });
    return;
  }
  const home = parseRepoRoute(path) || parseFileRootRoute(path);
  if (home) {
    // /file/NAME/ is the repository's root: its home page.
    if (!path.startsWith('/repos/')) replaceUrl(repoHref(home, params.get('rev') || undefined));
    document.title = home + ' · trawl';
    view = new RepoView(main, home, new URLSearchParams(location.search), navigate);
    return;
  }
  if (path === '/repos') {
    document.title = 'Repositories · trawl';
    view = new ReposView(main, params, navigate);
    return;
  }
  if (path.startsWith('/account/') || path === '/admin' || path.startsWith('/admin/')) {
    accountRoute(path, params);
    return;
  }
  notFound();
}

// Also what the server's 404 for an unknown path shows (index.html with status 404).
function notFound() {
  document.title = 'Not found · trawl';
  main.appendChild(el('div', { class: 'qerror notfound' }, el('h1', null, 'Page not found'),
    el('p', null, 'There is no such page: ' + location.pathname),
    el('p', null, el('a', { href: '/search' }, 'Search code'), ' · ', el('a', { href: '/repos' }, 'Browse repositories'))));
}

// A view changed its own URL in place (a permalink): the page shown is still the one for it.
function replaceUrl(url) {
  history.replaceState(history.state, '', url);
  viewKey = location.pathname + location.search;
}

// Shows the page of module spec (loaded on first use: a laptop never fetches the account and
// administration pages), unless the user has gone elsewhere in the meantime.
async function show(spec, make) {
  const key = viewKey;
  let mod;
  try {
    mod = await import(spec);
  } catch (err) {
    if (viewKey === key) main.appendChild(el('div', { class: 'qerror' }, el('p', null, 'Error: cannot load the page (' + (err.message || String(err)) + ')')));
    return;
  }
  if (viewKey === key) view = make(mod);
}

// The account and administration pages; in laptop mode there are no accounts to manage.
function accountRoute(path, params) {
  if (path === SIGNIN_PATH) {
    if (session.signedOut) {
      document.title = 'Sign in · trawl';
      const why = notice;
      notice = '';
      show('./signin-view.js', (m) => new m.SignInView(main, { session, next: safeNext(params.get('next')), notice: why, done: signedIn }));
      return;
    }
    // Already signed in (or no accounts): straight on.
    history.replaceState(null, '', safeNext(params.get('next')));
    viewKey = null;
    route();
    return;
  }
  if (!session.team) {
    document.title = 'Accounts · trawl';
    main.appendChild(el('p', { class: 'notice' }, 'This server has no accounts (laptop mode): everyone on this machine ' +
      'may search everything, and there is nothing to sign in to. Create the first administrator with ' +
      '"trawl user add NAME --admin".'));
    return;
  }
  if (path === '/account/tokens') {
    document.title = 'Access tokens · trawl';
    show('./tokens-view.js', (m) => new m.TokensView(main, { session }));
    return;
  }
  if (path === '/account/password') {
    document.title = 'Change password · trawl';
    show('./password-view.js', (m) => new m.PasswordView(main, { changed: () => signedOut('Your password was changed. Sign in with the new one.') }));
    return;
  }
  const admin = path === '/admin' || path === '/admin/' ? '/admin/users' : path;
  if (admin !== path) {
    history.replaceState(null, '', admin);
    viewKey = location.pathname + location.search;
  }
  show('./admin-view.js', (m) => {
    const title = m.adminTitle(admin);
    if (!title) {
      notFound();
      return null;
    }
    document.title = title + ' · Administration · trawl';
    return new m.AdminView(main, admin, params, navigate);
  });
}

// Signed out, or the session ended (a 401): the sign-in page, coming back here afterwards.
function signedOut(message) {
  session.forget();
  menu.render(null);
  banner.render([]);
  document.body.classList.add('signed-out');
  notice = message;
  viewKey = null;
  route();
}

function signedIn(next) {
  menu.render(session.me);
  banner.render(session.me && session.me.notices);
  document.body.classList.remove('signed-out');
  history.replaceState(null, '', safeNext(next));
  viewKey = null;
  route();
  loadFields(getJSON).then(() => box.render());
}

function setActiveNav(path) {
  for (const a of document.querySelectorAll('nav.top-nav a')) {
    a.classList.toggle('current', a.getAttribute('href') === path || (path === '/' && a.getAttribute('href') === '/search'));
  }
}

// Links to the UI's own pages navigate in place; API links (raw files), single sign-on's
// server routes (/auth/), other origins, new tabs
// and downloads are left to the browser.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || /^\/(api|auth)\//.test(url.pathname)) return;
  if (url.pathname === location.pathname && url.search === location.search && url.hash) return; // #L..
  e.preventDefault();
  history.pushState(null, '', url.pathname + url.search + url.hash);
  route();
});

window.addEventListener('popstate', route);

// The keyboard shortcuts ("/", j, k, Enter, y, t, ?, Esc: shortcuts.js) act on the current view.
installShortcuts({ view: () => view, go: navigate, box });

onUnauthorized(() => {
  if (!session.signedOut) signedOut('Your session ended. Sign in again.');
});

// Who is asking decides the first page: the sign-in page in team mode without a session. The
// filter names for suggestions and colours come next (the query box is drawn again then).
async function start() {
  try {
    await session.load();
  } catch {
    // The server could not say who we are; each page reports its own errors.
  }
  menu.render(session.me);
  banner.render(session.me && session.me.notices);
  if (session.signedOut) {
    signedOut('');
    return;
  }
  route();
  loadFields(getJSON).then(() => box.render());
}

start();
