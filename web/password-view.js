// "Change password" (/account/password): the current password and the new one twice. The
// server ends every session and token of the user when it changes, so the page then asks the
// user to sign in again.
import { append, el } from './dom.js';
import { send } from './api.js';
import { Message, input, messageOf } from './forms.js';

export class PasswordView {
  // ctx: {session, changed()}
  constructor(root, ctx) {
    const current = input('Current password', { type: 'password', autocomplete: 'current-password', required: true });
    const next = input('New password (at least 12 characters)', { type: 'password', autocomplete: 'new-password', required: true, minlength: '12' });
    const again = input('New password again', { type: 'password', autocomplete: 'new-password', required: true });
    const msg = new Message();
    const form = el('form', { class: 'panel narrow' }, current.wrap, next.wrap, again.wrap, msg.node,
      el('button', { type: 'submit', class: 'primary' }, 'Change password'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      msg.clear();
      if (next.node.value !== again.node.value) {
        msg.error('the two new passwords differ');
        return;
      }
      try {
        await send('PUT', '/api/v1/me/password', { current: current.node.value, password: next.node.value });
        ctx.changed();
      } catch (err) {
        msg.error(messageOf(err));
      }
    });
    append(root, el('h1', null, 'Change password'),
      el('p', { class: 'notice' }, 'Changing it signs you out everywhere and revokes your access tokens.'), form);
  }
}
