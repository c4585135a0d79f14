// Small building blocks of the account and administration pages: labelled inputs, buttons,
// a message line for errors and results, inline confirmations (never window.confirm), and
// times. Everything goes through dom.el, so server strings stay text.
import { clear, el } from './dom.js';

const str = (v) => (typeof v === 'string' ? v : '');

// A text, password, number or checkbox input inside its label.
export function input(label, attrs = {}) {
  const node = el('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });
  const wrap = attrs.type === 'checkbox' ? el('label', { class: 'check' }, node, ' ', label)
    : el('label', { class: 'field' }, el('span', null, label), node);
  return { wrap, node };
}

export function select(label, options, attrs = {}) {
  const node = el('select', attrs, options.map(([value, text]) => el('option', { value }, text)));
  return { wrap: el('label', { class: 'field' }, el('span', null, label), node), node };
}

export function button(text, onClick, attrs = {}) {
  const b = el('button', { type: 'button', ...attrs }, text);
  b.addEventListener('click', onClick);
  return b;
}

// A line that shows an error (role=alert) or a result (role=status); empty and hidden otherwise.
export class Message {
  constructor() {
    this.node = el('p', { class: 'msg', hidden: true });
  }

  error(text) { this.set(text, 'msg msg-error', 'alert'); }

  ok(text) { this.set(text, 'msg msg-ok', 'status'); }

  set(text, cls, role) {
    this.node.className = cls;
    this.node.setAttribute('role', role);
    this.node.textContent = text;
    this.node.hidden = false;
  }

  clear() {
    this.node.hidden = true;
    this.node.textContent = '';
  }
}

// Replaces the contents of box with "question [yes] [Cancel]"; yes runs onYes, Cancel restores
// the previous contents. Focus moves to Cancel, the harmless choice.
export function confirmInline(box, question, yesText, onYes) {
  const old = [...box.childNodes];
  clear(box);
  const restore = () => { clear(box); box.append(...old); };
  const cancel = button('Cancel', restore);
  box.append(el('span', { class: 'confirm' }, question, ' '),
    button(yesText, () => { restore(); onYes(); }, { class: 'danger' }), ' ', cancel);
  cancel.focus();
}

// An RFC 3339 time in the reader's locale, or the fallback ("never", "—").
export function when(iso, fallback = '—') {
  const t = Date.parse(str(iso));
  return Number.isFinite(t) ? new Date(t).toLocaleString() : fallback;
}

// A table with a header row; rows are arrays of cells (nodes or strings).
export function table(caption, heads, rows) {
  return el('table', { class: 'grid' },
    caption ? el('caption', null, caption) : null,
    el('thead', null, el('tr', null, heads.map((h) => el('th', { scope: 'col' }, h)))),
    el('tbody', null, rows.map((cells) => el('tr', null, cells.map((c) => el('td', null, c))))));
}

// A password of 20 characters from the browser's CSPRNG (for "Generate" in the admin pages).
export function randomPassword() {
  const abc = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const out = [];
  const bytes = new Uint8Array(64);
  while (out.length < 20) {
    crypto.getRandomValues(bytes);
    for (const b of bytes) if (b < 4 * abc.length && out.length < 20) out.push(abc[b % abc.length]);
  }
  return out.join('');
}

// The message of an error thrown by api.js (or anything else).
export function messageOf(err) {
  return (err && err.message) || String(err);
}
