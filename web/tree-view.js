// What the repository home page, the directory pages and the file view share (docs/ui.md,
// "Browsing"): breadcrumbs (repository › dir › dir › file, each a link), the branch selector,
// a directory's listing (directories first, then files, each a link) and its README.
import { el } from './dom.js';
import { getJSON } from './api.js';
import { readmeNode } from './markdown.js';
import { apiReadme, apiTree, dirHref, fileHref, repoHref } from './urls.js';

// The page's <h1> in a <nav aria-label="Breadcrumb">: the repository (its home page), each
// directory of path (its page), then the last part as text (the page itself, aria-current).
// path '' is the home page. The separators are text (copying the heading gives
// "repo › dir › file"), hidden from screen readers.
export function breadcrumbs(repo, path, rev) {
  const parts = path ? path.split('/') : [];
  const items = [el('span', { class: 'crumb' }, parts.length ? el('a', { class: 'rrepo', href: repoHref(repo, rev) }, repo)
    : el('span', { 'aria-current': 'page' }, repo))];
  parts.forEach((p, i) => {
    const last = i === parts.length - 1;
    items.push(el('span', { class: 'rsep', 'aria-hidden': 'true' }, ' › '), el('span', { class: 'crumb' }, last
      ? el('span', { 'aria-current': 'page' }, p)
      : el('a', { href: dirHref(repo, parts.slice(0, i + 1).join('/'), rev) }, p)));
  });
  return el('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, el('h1', { class: 'fpath' }, ...items));
}

// The repository's branches in a GET /api/v1/repos/{name} answer, or [] when it has none (a
// directory indexed with `trawl index`).
export function branchesOf(repoBody) {
  const b = repoBody && Array.isArray(repoBody.branches) ? repoBody.branches : [];
  return b.filter((x) => x && typeof x.name === 'string').map((x) => ({
    name: x.name, commit: typeof x.commit === 'string' ? x.commit : '', isDefault: x.default === true,
  }));
}

// A labelled <select> of the branches (the default first, then by name), current selected (the default one when current is
// unset); choosing one calls go(name). null without branches.
export function branchSelector(branches, current, go) {
  if (!branches.length) return null;
  branches = [...branches].sort((a, b) => (b.isDefault - a.isDefault) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const cur = current || (branches.find((b) => b.isDefault) || branches[0]).name;
  const select = el('select', { class: 'branch-select', 'aria-label': 'Branch' },
    ...branches.map((b) => el('option', { value: b.name, selected: b.name === cur }, b.name + (b.isDefault ? ' (default)' : ''))));
  if (!branches.some((b) => b.name === cur)) select.prepend(el('option', { value: cur, selected: true }, cur));
  select.addEventListener('change', () => go(select.value));
  return el('label', { class: 'branch' }, el('span', { class: 'branch-label' }, 'Branch'), select);
}

// The directory's entries as links: directories first, then files, each by name.
export function treeList(repo, dir, rev, entries) {
  const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  const ok = entries.filter((e) => e && typeof e.name === 'string' && e.name);
  const dirs = ok.filter((e) => e.type === 'dir').sort(byName);
  const files = ok.filter((e) => e.type !== 'dir').sort(byName);
  const path = (e) => (dir ? dir + '/' : '') + e.name;
  const rows = [
    ...dirs.map((e) => el('li', { class: 'tdir' }, el('a', { href: dirHref(repo, path(e), rev) }, e.name + '/'))),
    ...files.map((e) => el('li', { class: 'tfile' }, el('a', { href: fileHref(repo, path(e), { rev }) }, e.name),
      typeof e.language === 'string' && e.language ? el('span', { class: 'rlang' }, e.language) : null)),
  ];
  if (!rows.length) return el('p', { class: 'notice' }, 'This directory is empty.');
  return el('ul', { class: 'tree', 'aria-label': 'Files in ' + (dir || repo) }, ...rows);
}

// The README of the directory as a section, or null when it has none (or it cannot be had: the
// listing above still stands).
export async function readmeSection(repo, dir, rev, signal) {
  let r;
  try {
    r = await getJSON(apiReadme(repo, dir, rev), { signal });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    return el('p', { class: 'notice' }, 'The README could not be loaded: ' + (err.message || String(err)));
  }
  if (!r || typeof r.path !== 'string') return null;
  const name = r.path.split('/').pop();
  const body = r.format === 'markdown' && typeof r.html === 'string' ? readmeNode(r.html, { repo, rev, dir })
    : el('pre', { class: 'readme-text' }, typeof r.text === 'string' ? r.text : '');
  return el('section', { class: 'readme', 'aria-label': name },
    el('h2', { class: 'readme-name' }, el('a', { href: fileHref(repo, r.path, { rev }) }, name)),
    body,
    r.truncated ? el('p', { class: 'notice' }, 'The README is long: only its beginning is shown.') : null);
}

// A directory page's content: the listing, then the README. Throws the tree API's error (an
// ApiError with code not_found for no such directory on the revision).
export async function directory(repo, dir, rev, signal) {
  const t = await getJSON(apiTree(repo, dir, rev), { signal });
  const list = treeList(repo, dir, rev, Array.isArray(t.entries) ? t.entries : []);
  const readme = await readmeSection(repo, dir, rev, signal);
  return [list, readme];
}
