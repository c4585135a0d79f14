// Account notices (docs/ui.md, "Notices"): what was done to the signed-in user's account (the
// password set, a token made for them by someone else, the account disabled or enabled again,
// the administrator right granted) comes with GET /api/v1/me, and this banner under the header
// shows it after signing in, with when (UTC), by whom and from where, until the user dismisses
// it (POST /api/v1/me/notices/read up to the newest id shown, so a notice that arrives meanwhile
// stays). The banner is a polite live region (role=status): screen readers announce it once
// without taking the focus; the Dismiss button is in the tab order.
import { clear, el } from './dom.js';
import { send } from './api.js';

const str = (v) => (typeof v === 'string' ? v : '');

// "2026-12-03T18:19:47Z" -> "2026-12-03 18:19 UTC"; anything else as given.
export function utcDate(iso) {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}):\d{2}Z$/.exec(str(iso));
  return m ? `${m[1]} ${m[2]} UTC` : str(iso) || 'an unknown date';
}

// One notice of the API as a sentence; null for an event this page does not know.
export function noticeText(n) {
  if (!n || typeof n !== 'object') return null;
  const who = n.by_self === true ? 'you' : typeof n.by === 'string' && n.by ? n.by : "an administrator at the server's command line";
  const where = typeof n.address === 'string' && n.address ? ` from ${n.address}` : '';
  const how = `on ${utcDate(n.time)} by ${who}${where}`;
  const tell = 'If this was not you, tell your administrator.';
  switch (n.event) {
    case 'password_changed': return `Your password was changed ${how}. ${tell}`;
    case 'token_created':
      return `An API token${str(n.token) ? ` "${n.token}"` : ''} was created for you ${how}. ` +
        'If you did not expect it, revoke it under Access tokens and tell your administrator.';
    case 'user_disabled': return `Your account was disabled ${how}.`;
    case 'user_enabled': return `Your account was enabled again ${how}. ${tell}`;
    case 'admin_granted': return `You were made an administrator ${how}. ${tell}`;
    default: return null;
  }
}

export class NoticeBanner {
  constructor() {
    this.node = el('div', { class: 'notices', role: 'status', 'aria-label': 'Account notices' });
    this.node.hidden = true;
  }

  // notices: the "notices" of ME (newest first), or nothing (signed out, laptop mode).
  render(notices) {
    clear(this.node);
    const shown = (Array.isArray(notices) ? notices : [])
      .map((n) => ({ id: n && Number.isInteger(n.id) ? n.id : 0, text: noticeText(n) }))
      .filter((n) => n.id > 0 && n.text);
    this.node.hidden = shown.length === 0;
    if (this.node.hidden) return;
    const through = Math.max(...shown.map((n) => n.id));
    const dismiss = el('button', { type: 'button', class: 'dismiss' }, 'Dismiss');
    const error = el('span', { class: 'notice-error' });
    dismiss.addEventListener('click', async () => {
      dismiss.disabled = true;
      try {
        await send('POST', '/api/v1/me/notices/read', { through });
        this.render([]);
      } catch (err) {
        error.textContent = 'Could not dismiss: ' + ((err && err.message) || String(err));
        dismiss.disabled = false;
      }
    });
    this.node.append(el('ul', null, shown.map((n) => el('li', null, n.text))),
      el('div', { class: 'notice-actions' }, dismiss, error));
  }
}
