// Administration › Repository access (/admin/access): every repository with its public flag
// and the users and groups granted to read it; filter by name, mark public or private, grant
// and revoke. Deny by default: a repository with no grant and no public flag is readable by
// administrators only.
import { append, clear, el } from './dom.js';
import { send } from './api.js';
import { button, input, select } from './forms.js';
import { AdminList } from './admin-list.js';
import { apiRepoAccess } from './urls.js';

const names = (v) => (Array.isArray(v) ? v.filter((s) => typeof s === 'string') : []);

export class AdminAccess extends AdminList {
  constructor(root) {
    super('/api/v1/access', 'repos', { class: 'access' }, 'repo');
    this.repos = [];
    const filter = input('Filter repositories', { type: 'search', name: 'filter', placeholder: 'name contains…' });
    this.filter = filter.node;
    this.filter.addEventListener('input', () => this.render());
    append(root, el('div', { class: 'panel row' }, filter.wrap), this.msg.node, this.list);
    this.load();
  }

  change(repo, body, done) {
    this.act(async () => {
      await send('PUT', apiRepoAccess(repo), body);
      return done;
    });
  }

  // items: a freshly loaded list (AdminList.load), or none when only the filter changed.
  render(items) {
    if (items) this.repos = items;
    const f = this.filter.value.toLowerCase();
    const shown = this.repos.filter((r) => r.repo.toLowerCase().includes(f));
    clear(this.list).append(el('p', { class: 'summary' }, `${shown.length} of ${this.repos.length} repositories`));
    for (const r of shown) this.list.append(this.card(r));
  }

  card(r) {
    const who = (kind, list) => list.map((n) => el('li', null, el('span', { class: 'tag' }, kind), ' ', el('span', { class: 'uname' }, n), ' ',
      button('Revoke', () => this.change(r.repo, { revoke: { [kind + 's']: [n] } }, `Revoked ${kind} ${n} on ${r.repo}.`),
        { class: 'small', 'aria-label': `Revoke ${kind} ${n} on ${r.repo}` })));
    const grants = [...who('user', names(r.users)), ...who('group', names(r.groups))];
    const kind = select('Grant to', [['users', 'user'], ['groups', 'group']]);
    const name = input('Name', { required: true, autocapitalize: 'off' });
    const grant = el('form', { class: 'inline', 'aria-label': 'Grant ' + r.repo }, kind.wrap, name.wrap, el('button', { type: 'submit' }, 'Grant'));
    grant.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = name.node.value;
      this.change(r.repo, { grant: { [kind.node.value]: [n] } }, `Granted ${r.repo} to ${kind.node.value.slice(0, -1)} ${n}.`);
    });
    const pub = r.public === true;
    return el('section', { class: 'panel repo-access' },
      el('h2', null, el('span', { class: 'rname' }, r.repo), ' ', el('span', { class: 'tag' }, pub ? 'public' : 'private')),
      button(pub ? 'Make private' : 'Make public', () => this.change(r.repo, { public: !pub },
        `${r.repo} is now ${pub ? 'private' : 'public'}.`), { class: 'small' }),
      grants.length ? el('ul', { class: 'grants' }, grants) : el('p', { class: 'empty' }, pub ? 'Everyone signed in may read it.' : 'Administrators only.'),
      grant);
  }
}
