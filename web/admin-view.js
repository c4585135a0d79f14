// Administration (/admin/users, /admin/groups, /admin/access, /admin/audit): a row of tabs and
// the page of the one chosen. The pages ask the server for everything; for a caller who is not
// an administrator the server answers 403 and the page shows that message and no data.
import { append, el } from './dom.js';
import { AdminUsers } from './admin-users.js';
import { AdminGroups } from './admin-groups.js';
import { AdminAccess } from './admin-access.js';
import { AdminAudit } from './admin-audit.js';

export const ADMIN_PAGES = [
  ['/admin/users', 'Users'],
  ['/admin/groups', 'Groups'],
  ['/admin/access', 'Repository access'],
  ['/admin/audit', 'Audit log'],
];

// The title of an admin path, or null when there is no such page.
export function adminTitle(path) {
  const p = ADMIN_PAGES.find(([href]) => href === path);
  return p ? p[1] : null;
}

export class AdminView {
  constructor(root, path, params, go) {
    const tabs = el('nav', { class: 'tabs', 'aria-label': 'Administration' },
      ADMIN_PAGES.map(([href, text]) => el('a', { href, 'aria-current': href === path ? 'page' : null }, text)));
    append(root, el('h1', null, 'Administration · ', adminTitle(path)), tabs);
    const body = el('div', { class: 'admin-page' });
    root.append(body);
    if (path === '/admin/users') this.page = new AdminUsers(body);
    else if (path === '/admin/groups') this.page = new AdminGroups(body);
    else if (path === '/admin/access') this.page = new AdminAccess(body);
    else this.page = new AdminAudit(body, params, go);
  }

  stop() { this.page.stop(); }
}
