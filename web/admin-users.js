// Administration › Users (/admin/users): every account with its groups, role and state; add a
// user (with a typed password, or none and the server generates one, shown once), disable or
// enable, make or unmake administrator, reset a password. The server decides who may do this:
// a caller who is not an administrator gets its 403 message, never the list.
import { append, clear, el } from './dom.js';
import { send } from './api.js';
import { button, confirmInline, input, randomPassword, table, when } from './forms.js';
import { AdminList } from './admin-list.js';
import { apiUser } from './urls.js';

const str = (v) => (typeof v === 'string' ? v : '');
// How each kind of account signs in (the user's source: docs/api.md USER).
const SOURCES = { local: 'password', oidc: 'single sign-on', proxy: 'authentication proxy' };

export class AdminUsers extends AdminList {
  constructor(root) {
    super('/api/v1/users', 'users');
    this.shown = el('div', { class: 'secret', hidden: true, role: 'region', 'aria-label': 'New password' });
    append(root, this.addForm(), this.msg.node, this.shown, this.list);
    this.load();
  }

  addForm() {
    const name = input('User name', { name: 'name', required: true, maxlength: '64', autocapitalize: 'off' });
    const display = input('Display name', { name: 'display_name', maxlength: '128' });
    const password = input('Password (empty: generate one)', { name: 'password', autocomplete: 'new-password' });
    const admin = input('Administrator', { type: 'checkbox', name: 'admin' });
    const form = el('form', { class: 'panel row', 'aria-label': 'Add a user' }, name.wrap, display.wrap, password.wrap,
      button('Generate', () => { password.node.value = randomPassword(); }), admin.wrap,
      el('button', { type: 'submit', class: 'primary' }, 'Add user'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = { name: name.node.value, admin: admin.node.checked };
      if (display.node.value) body.display_name = display.node.value;
      if (password.node.value) body.password = password.node.value;
      await this.act(async () => {
        const res = await send('POST', '/api/v1/users', body);
        const who = str(res && res.user && res.user.name) || body.name;
        if (typeof (res && res.password) === 'string') this.showPassword(who, res.password);
        else if (body.password) this.showPassword(who, body.password);
        form.reset();
        return `Added user ${who}.`;
      });
    });
    return form;
  }

  // A password the administrator must hand over: shown once, selectable.
  showPassword(who, password) {
    clear(this.shown);
    const out = el('input', { type: 'text', readonly: true, value: password, class: 'secret-value', 'aria-label': 'Password of ' + who });
    append(this.shown, el('p', { class: 'warn' }, 'The password of ', el('strong', null, who),
      ': give it to them now; it will not be shown again.'), out,
    button('Done', () => { clear(this.shown); this.shown.hidden = true; }));
    this.shown.hidden = false;
    out.select();
  }

  render(users) {
    clear(this.list).append(table(`${users.length} ${users.length === 1 ? 'user' : 'users'}`,
      ['Name', 'Display name', 'Groups', 'Role', 'Signs in with', 'State', 'Created', 'Last seen', 'Actions'], users.map((u) => this.row(u))));
  }

  row(u) {
    const put = (change, done) => this.act(async () => { await send('PUT', apiUser(u.name), change); return done; });
    const actions = el('span', { class: 'actions' },
      u.is_disabled === true
        ? button('Enable', () => put({ disabled: false }, `Enabled ${u.name}.`))
        : button('Disable', () => confirmInline(actions, `Disable ${u.name}? Their sessions and tokens stop working.`, 'Disable',
          () => put({ disabled: true }, `Disabled ${u.name}.`)), { class: 'danger' }),
      ' ',
      u.is_admin === true
        ? button('Remove admin', () => put({ admin: false }, `${u.name} is no longer an administrator.`))
        : button('Make admin', () => put({ admin: true }, `${u.name} is now an administrator.`)),
      ' ', button('Reset password', () => this.resetForm(actions, u.name)));
    return [el('span', { class: 'uname' }, u.name), str(u.display_name),
      (Array.isArray(u.groups) ? u.groups.filter((g) => typeof g === 'string') : []).join(', '),
      u.is_admin === true ? 'administrator' : 'user',
      Object.hasOwn(SOURCES, u.source) ? SOURCES[u.source] : 'password',
      u.is_disabled === true ? el('span', { class: 'tag revoked' }, 'disabled') : 'active',
      when(u.created), when(u.last_seen, 'never'), actions];
  }

  resetForm(box, name) {
    const old = [...box.childNodes];
    const pw = input('New password', { autocomplete: 'new-password', required: true, value: randomPassword() });
    const form = el('form', { class: 'inline' }, pw.wrap, el('button', { type: 'submit', class: 'danger' }, 'Set password'), ' ',
      button('Cancel', () => { clear(box); box.append(...old); }));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const password = pw.node.value;
      this.act(async () => {
        await send('PUT', apiUser(name, 'password'), { password });
        this.showPassword(name, password);
        return `Reset the password of ${name}; their sessions and tokens ended.`;
      });
    });
    clear(box).append(form);
    pw.node.select();
  }
}
