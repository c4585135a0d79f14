// The user menu in the header (team mode only): a disclosure button with the user's name that
// opens a list of links (Access tokens, Administration for administrators, Change password)
// and Sign out. Tab reaches every item; Escape closes the list and returns focus to the button.
import { clear, el } from './dom.js';

export class UserMenu {
  // root: the header's container; onSignOut(): called when "Sign out" is chosen.
  constructor(root, onSignOut) {
    this.root = root;
    this.onSignOut = onSignOut;
    root.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.list && !this.list.hidden) {
        this.close();
        this.toggle.focus();
      }
    });
    document.addEventListener('click', (e) => {
      if (this.list && !this.root.contains(e.target)) this.close();
    });
  }

  // me: the session's checked ME, or null (signed out, or laptop mode: no menu).
  render(me) {
    clear(this.root);
    this.list = null;
    this.root.hidden = !me || me.mode !== 'team';
    if (this.root.hidden) return;
    this.toggle = el('button', { type: 'button', class: 'user-toggle', 'aria-expanded': 'false', 'aria-controls': 'user-list' },
      el('span', { class: 'user-name' }, me.displayName || me.name), el('span', { 'aria-hidden': 'true' }, ' ▾'));
    this.toggle.addEventListener('click', () => (this.list.hidden ? this.open() : this.close()));
    const item = (node) => el('li', null, node);
    const signOut = el('button', { type: 'button', class: 'link' }, 'Sign out');
    this.list = el('ul', { class: 'user-list', id: 'user-list', hidden: true },
      el('li', { class: 'user-who' }, 'Signed in as ', el('strong', null, me.name)),
      item(el('a', { href: '/account/tokens' }, 'Access tokens')),
      me.isAdmin ? item(el('a', { href: '/admin/users' }, 'Administration')) : null,
      item(el('a', { href: '/account/password' }, 'Change password')),
      item(signOut));
    this.list.addEventListener('click', (e) => { if (e.target.closest('a')) this.close(); });
    signOut.addEventListener('click', () => { this.close(); this.onSignOut(); });
    this.root.append(this.toggle, this.list);
  }

  open() {
    this.list.hidden = false;
    this.toggle.setAttribute('aria-expanded', 'true');
  }

  close() {
    if (!this.list) return;
    this.list.hidden = true;
    this.toggle.setAttribute('aria-expanded', 'false');
  }
}
