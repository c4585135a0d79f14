// The repository home page (/repos/{name}?rev=BRANCH; docs/ui.md, "Repository home page"): the
// name, the branch selector, the tree of the root on that branch and its README.
import { el } from './dom.js';
import { ApiError, getJSON } from './api.js';
import { branchSelector, branchesOf, breadcrumbs, directory } from './tree-view.js';
import { apiRepo, repoHref, searchHref } from './urls.js';
import { repoFilter } from './suggest.js';

export class RepoView {
  constructor(root, repo, params, navigate) {
    this.root = root;
    this.repo = repo;
    this.rev = params.get('rev') || undefined;
    this.navigate = navigate;
    this.abort = new AbortController();
    this.load();
  }

  stop() {
    this.abort.abort();
  }

  async load() {
    const signal = this.abort.signal;
    this.root.replaceChildren(el('p', { class: 'loading' }, 'Loading…'));
    let info, content;
    try {
      info = await getJSON(apiRepo(this.repo), { signal });
      content = await directory(this.repo, '', this.rev, signal);
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      this.root.replaceChildren(breadcrumbs(this.repo, ''), el('div', { class: 'qerror' }, el('p', null, this.failure(err, info))));
      return;
    }
    const branches = branchesOf(info);
    const head = el('div', { class: 'fheader' }, breadcrumbs(this.repo, '', this.rev),
      el('div', { class: 'fmeta' },
        branchSelector(branches, this.rev, (b) => this.navigate(repoHref(this.repo, b))),
        el('a', { class: 'rsearch', href: searchHref(repoFilter(this.repo)) }, 'Search this repository')));
    this.root.replaceChildren(head, ...content.filter(Boolean));
  }

  failure(err, info) {
    if (!(err instanceof ApiError) || err.code !== 'not_found') return 'Error: ' + (err.message || String(err));
    if (!info) return 'No such repository.';
    if (this.rev) return 'The repository has no branch ' + this.rev + ' in the index.';
    return 'The repository is not indexed yet.';
  }
}
