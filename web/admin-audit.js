// Administration › Audit log (/admin/audit): events newest first, filtered by user and event
// (the server filters), 50 to a page. The filters live in the URL (?user=&event=&page=) so a
// view can be shared and reloaded.
import { append, clear, el } from './dom.js';
import { getJSON } from './api.js';
import { button, input, messageOf, table, when } from './forms.js';
import { apiAudit } from './urls.js';

const PAGE = 50;
const LIMIT = 1000;
const str = (v) => (typeof v === 'string' ? v : '');

// An event's detail object as "key=value" pairs, values as JSON text (strings stay text).
function detailText(d) {
  if (!d || typeof d !== 'object') return '';
  return Object.entries(d).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

export class AdminAudit {
  // params: the page's URLSearchParams; go(url): navigate (replaces the filters in the URL).
  constructor(root, params, go) {
    this.abort = new AbortController();
    this.go = go;
    this.page = Math.max(1, Number.parseInt(params.get('page') || '1', 10) || 1);
    this.user = input('User', { name: 'user', value: params.get('user') || '', autocapitalize: 'off' });
    this.event = input('Event', { name: 'event', value: params.get('event') || '', placeholder: 'sign_in, grant, search…' });
    const form = el('form', { class: 'panel row', role: 'search', 'aria-label': 'Filter the audit log' },
      this.user.wrap, this.event.wrap, el('button', { type: 'submit', class: 'primary' }, 'Filter'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.navigate(1);
    });
    this.list = el('div', { class: 'audit' });
    append(root, form, this.list);
    this.load();
  }

  stop() { this.abort.abort(); }

  navigate(page) {
    const sp = new URLSearchParams();
    if (this.user.node.value) sp.set('user', this.user.node.value);
    if (this.event.node.value) sp.set('event', this.event.node.value);
    if (page > 1) sp.set('page', String(page));
    const q = sp.toString();
    this.go('/admin/audit' + (q ? '?' + q : ''));
  }

  async load() {
    let body;
    try {
      body = await getJSON(apiAudit({ user: this.user.node.value, event: this.event.node.value, limit: LIMIT }),
        { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      clear(this.list).append(el('div', { class: 'qerror' }, el('p', null, 'Error: ' + messageOf(err))));
      return;
    }
    const events = (Array.isArray(body.events) ? body.events : []).filter((e) => e && typeof e === 'object')
      .sort((a, b) => (Number(b.id) || 0) - (Number(a.id) || 0));
    const pages = Math.max(1, Math.ceil(events.length / PAGE));
    const page = Math.min(this.page, pages);
    const rows = events.slice((page - 1) * PAGE, page * PAGE).map((e) => [when(e.time), el('code', { class: 'ev' }, str(e.event)),
      str(e.actor), str(e.target), str(e.address), el('span', { class: 'detail' }, detailText(e.detail))]);
    clear(this.list).append(
      table(events.length ? `Events ${(page - 1) * PAGE + 1}–${Math.min(page * PAGE, events.length)} of ${events.length}, newest first`
        : 'No events match', ['Time', 'Event', 'User', 'Target', 'Address', 'Detail'], rows),
      el('nav', { class: 'pager', 'aria-label': 'Pages' },
        page > 1 ? button('Newer', () => this.navigate(page - 1)) : null, ' ',
        el('span', null, `page ${page} of ${pages}`), ' ',
        page < pages ? button('Older', () => this.navigate(page + 1)) : null));
  }
}
