// What the Administration pages that list something share: a message line, a list loaded from
// one API route and drawn by the page (render), reloaded after every change (act), and the
// load abandoned when the page is left (stop).
import { clear, el } from './dom.js';
import { getJSON } from './api.js';
import { Message, messageOf } from './forms.js';

export class AdminList {
  // url: the route to GET; key: the member of its answer that holds the items; id: the member
  // naming an item (those without a string one are dropped); attrs: the list element's
  // attributes.
  constructor(url, key, attrs, id = 'name') {
    this.url = url;
    this.key = key;
    this.id = id;
    this.abort = new AbortController();
    this.msg = new Message();
    this.list = el('div', attrs);
  }

  stop() { this.abort.abort(); }

  // Runs fn (which returns a message), shows its result or error, and reloads the list.
  async act(fn) {
    this.msg.clear();
    try {
      this.msg.ok(await fn());
    } catch (err) {
      this.msg.error(messageOf(err));
    }
    this.load();
  }

  async load() {
    let body;
    try {
      body = await getJSON(this.url, { signal: this.abort.signal });
    } catch (err) {
      if (err && err.name === 'AbortError') return;
      clear(this.list).append(el('div', { class: 'qerror' }, el('p', null, 'Error: ' + messageOf(err))));
      return;
    }
    const items = body && Array.isArray(body[this.key]) ? body[this.key] : [];
    this.render(items.filter((x) => x && typeof x[this.id] === 'string'));
  }
}
