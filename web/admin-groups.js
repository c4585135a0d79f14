// Administration › Groups (/admin/groups): groups and their members; add and remove groups,
// add and remove members. Grants to a group are made on the repository access page.
import { append, clear, el } from './dom.js';
import { send } from './api.js';
import { button, confirmInline, input } from './forms.js';
import { AdminList } from './admin-list.js';
import { apiGroup } from './urls.js';

export class AdminGroups extends AdminList {
  constructor(root) {
    super('/api/v1/groups', 'groups', { class: 'groups' });
    const name = input('Group name', { name: 'name', required: true, maxlength: '64', autocapitalize: 'off' });
    const form = el('form', { class: 'panel row', 'aria-label': 'Add a group' }, name.wrap,
      el('button', { type: 'submit', class: 'primary' }, 'Add group'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const g = name.node.value;
      this.act(async () => { await send('POST', '/api/v1/groups', { name: g }); form.reset(); return `Added group ${g}.`; });
    });
    append(root, form, this.msg.node, this.list);
    this.load();
  }

  render(groups) {
    clear(this.list);
    if (!groups.length) this.list.append(el('p', { class: 'empty' }, 'No groups yet.'));
    for (const g of groups) this.list.append(this.card(g));
  }

  card(g) {
    const members = (Array.isArray(g.members) ? g.members : []).filter((m) => typeof m === 'string');
    const change = (add, remove, done) => this.act(async () => {
      await send('PUT', apiGroup(g.name, 'members'), { add, remove });
      return done;
    });
    const list = el('ul', { class: 'members' }, members.map((m) => el('li', null, el('span', { class: 'uname' }, m), ' ',
      button('Remove', () => change([], [m], `Removed ${m} from ${g.name}.`), { 'aria-label': `Remove ${m} from ${g.name}`, class: 'small' }))));
    const who = input('User', { required: true, autocapitalize: 'off' });
    const add = el('form', { class: 'inline' }, who.wrap, el('button', { type: 'submit' }, 'Add member'));
    add.addEventListener('submit', (e) => {
      e.preventDefault();
      const u = who.node.value;
      change([u], [], `Added ${u} to ${g.name}.`);
    });
    const head = el('span', { class: 'actions' });
    head.append(button('Remove group', () => confirmInline(head, `Remove group ${g.name}? Its grants go with it.`, 'Remove',
      () => this.act(async () => { await send('DELETE', apiGroup(g.name)); return `Removed group ${g.name}.`; })), { class: 'danger' }));
    return el('section', { class: 'panel group' }, el('h2', null, g.name, ' ', head),
      members.length ? list : el('p', { class: 'empty' }, 'No members.'), add);
  }
}
