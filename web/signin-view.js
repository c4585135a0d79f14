// The sign-in page (/account/signin?next=PATH), shown whenever the server answers 401 in team
// mode. The server gives one message for an unknown user, a wrong password and a disabled
// account; a 429 says when to try again. After signing in the page goes to `next`, which
// safeNext confines to this UI's own paths. GET /api/v1/auth/methods says whether single
// sign-on is on (a link to the server's login, which comes back to `next`) and whether the
// password form is offered at all; until it answers, or if it fails, the form is shown.
import { getJSON } from './api.js';
import { append, el } from './dom.js';
import { Message, input, messageOf } from './forms.js';

export class SignInView {
  // ctx: {session, next, notice, done(next)}
  constructor(root, ctx) {
    this.ctx = ctx;
    const user = input('User name', { name: 'user', autocomplete: 'username', required: true, autocapitalize: 'off' });
    const password = input('Password', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    this.msg = new Message();
    this.submit = el('button', { type: 'submit', class: 'primary' }, 'Sign in');
    const form = el('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
      el('h1', { id: 'signin-title' }, 'Sign in to trawl'),
      ctx.notice ? el('p', { class: 'notice' }, ctx.notice) : null,
      user.wrap, password.wrap, this.msg.node, this.submit);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.signIn(user.node.value, password.node);
    });
    append(root, form);
    user.node.focus();
    this.form = form;
    this.passwordParts = [user.wrap, password.wrap, this.submit];
    this.offerMethods();
  }

  async offerMethods() {
    let m;
    try {
      m = await getJSON('/api/v1/auth/methods', { quiet: true });
    } catch {
      return;
    }
    if (m && m.oidc === true && typeof m.oidc_login_url === 'string') {
      const href = m.oidc_login_url + '?return_to=' + encodeURIComponent(this.ctx.next || '/');
      const link = el('a', { class: 'button primary sso', href }, 'Sign in with single sign-on');
      this.form.insertBefore(el('p', { class: 'sso' }, link), this.passwordParts[0]);
    }
    if (m && m.password === false) {
      for (const node of this.passwordParts) node.hidden = true;
    }
  }

  async signIn(user, passwordNode) {
    this.msg.clear();
    this.submit.disabled = true;
    try {
      await this.ctx.session.signIn(user, passwordNode.value);
      this.ctx.done(this.ctx.next);
    } catch (err) {
      passwordNode.value = '';
      this.msg.error(err.status === 429 && err.retryAfter !== null && !/\d/.test(err.message)
        ? `${messageOf(err)} (retry in ${err.retryAfter} s)` : messageOf(err));
      passwordNode.focus();
    } finally {
      this.submit.disabled = false;
    }
  }
}
