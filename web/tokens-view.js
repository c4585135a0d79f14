// "Access tokens" (/account/tokens): the user's API tokens (name, prefix, scope, created,
// expires, last used, revoked), a form to create one, and revocation after an inline
// confirmation. A new token's secret is shown once, with a copy button: the server keeps only
// a keyed hash of it, and it is in no other answer, so reloading the page loses it for good.
import { append, clear, el } from './dom.js';
import { getJSON, send } from './api.js';
import { Message, button, confirmInline, input, messageOf, select, table, when } from './forms.js';
import { apiToken } from './urls.js';

const str = (v) => (typeof v === 'string' ? v : '');

export class TokensView {
  // ctx: {session}
  constructor(root, ctx) {
    this.ctx = ctx;
    this.abort = new AbortController();
    this.msg = new Message();
    this.secretBox = el('div', { class: 'secret', hidden: true, role: 'region', 'aria-label': 'New token' });
    this.list = el('div', { class: 'tokens' });
    append(root, el('h1', null, 'Access tokens'),
      el('p', { class: 'notice' }, 'Scripts and tools send a token in the Authorization header: ',
        el('code', null, 'Authorization: Bearer trawl_…'), '. A token can do what you can, within its scope.'),
      this.createForm(), this.msg.node, this.secretBox, this.list);
    this.load();
  }

  stop() { this.abort.abort(); }

  createForm() {
    const name = input('Name', { name: 'name', required: true, maxlength: '64', placeholder: 'ci' });
    const scopes = [['search', 'search (read)']];
    if (this.ctx.session.me && this.ctx.session.me.isAdmin) scopes.push(['admin', 'admin']);
    const scope = select('Scope', scopes, { name: 'scope' });
    // A single sign-on account's tokens are bounded by the server (--external-token-max-age).
    const maxDays = this.ctx.session.me ? this.ctx.session.me.tokenMaxDays : null;
    if (maxDays === 0) {
      return el('p', { class: 'panel' }, 'Your account signs in with single sign-on, and this server gives such accounts no API tokens of a day or more. Ask an administrator.');
    }
    const limit = maxDays === null ? 3650 : maxDays;
    const days = input('Expires after (days)', { name: 'expires_days', type: 'number', min: '1', max: String(limit), value: String(Math.min(90, limit)), required: true });
    const form = el('form', { class: 'panel row' }, name.wrap, scope.wrap, days.wrap,
      el('button', { type: 'submit', class: 'primary' }, 'Create token'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      this.msg.clear();
      try {
        const body = await send('POST', '/api/v1/tokens',
          { name: name.node.value, scope: scope.node.value, expires_days: Number(days.node.value) });
        this.showSecret(str(body && body.secret), str(body && body.token && body.token.name));
        name.node.value = '';
        this.load();
      } catch (err) {
        this.msg.error(messageOf(err));
      }
    });
    return form;
  }

  showSecret(secret, name) {
    clear(this.secretBox);
    const out = el('input', { type: 'text', readonly: true, value: secret, class: 'secret-value', 'aria-label': 'Token ' + name, spellcheck: 'false' });
    const status = el('span', { class: 'copied', role: 'status' });
    const copy = button('Copy', async () => {
      out.select();
      try {
        await navigator.clipboard.writeText(secret);
        status.textContent = 'Copied';
      } catch {
        status.textContent = 'Selected: press Ctrl+C to copy';
      }
    });
    append(this.secretBox,
      el('p', { class: 'warn' }, el('strong', null, 'Copy this token now: it will not be shown again.')),
      el('div', { class: 'row' }, out, copy, status),
      button('Done', () => { clear(this.secretBox); this.secretBox.hidden = true; }));
    this.secretBox.hidden = false;
    out.focus();
    out.select();
  }

  async load() {
    let body;
    try {
      body = await getJSON('/api/v1/tokens', { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      clear(this.list).append(el('div', { class: 'qerror' }, el('p', null, 'Error: ' + messageOf(err))));
      return;
    }
    const tokens = Array.isArray(body.tokens) ? body.tokens.filter((t) => t && typeof t === 'object') : [];
    clear(this.list);
    if (!tokens.length) {
      this.list.append(el('p', { class: 'empty' }, 'No tokens yet.'));
      return;
    }
    this.list.append(table('Your tokens', ['Name', 'Prefix', 'Scope', 'Created', 'Expires', 'Last used', 'State', ''],
      tokens.map((t) => this.row(t))));
  }

  row(t) {
    const actions = el('span', { class: 'actions' });
    if (t.revoked !== true && (Number.isInteger(t.id) || typeof t.id === 'string')) {
      actions.append(button('Revoke', () => confirmInline(actions, `Revoke token ${str(t.name)}?`, 'Revoke',
        () => this.revoke(t.id)), { class: 'danger' }));
    }
    return [str(t.name), el('code', null, str(t.prefix) + '…'), str(t.scope), when(t.created), when(t.expires),
      when(t.last_used, 'never'), t.revoked === true ? el('span', { class: 'tag revoked' }, 'revoked') : 'active', actions];
  }

  async revoke(id) {
    this.msg.clear();
    try {
      await send('DELETE', apiToken(id));
      this.msg.ok('Token revoked.');
    } catch (err) {
      this.msg.error(messageOf(err));
    }
    this.load();
  }
}
