// The only way this UI builds DOM: elements from createElement, text from text nodes. Nothing here
// parses HTML, so repository data (names, paths, content, messages) can never become markup.
// Attributes are set one by one with setAttribute; `href` goes through urls.safeHref.
import { safeHref } from './urls.js';

// el('a', {class: 'x', href: '/p'}, 'text', child...): an element with attributes and children.
// Children are nodes or strings (strings become text nodes); null and false are skipped.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (/^on/i.test(name) || name === 'style') {
      throw new Error('dom.el: refusing attribute ' + name);
    }
    if (name === 'href' || name === 'src') {
      const safe = safeHref(String(value));
      if (safe === null) continue; // an unsafe link becomes plain text
      node.setAttribute(name, safe);
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

// append(node, child...): children as in el(); arrays are flattened.
export function append(node, ...children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(node, ...c);
    else node.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

// text segments [[text, className|null], ...] as spans and text nodes.
export function segments(parent, segs) {
  for (const [text, cls] of segs) {
    if (!text) continue;
    if (cls) {
      const s = document.createElement('span');
      s.className = cls;
      s.textContent = text;
      parent.appendChild(s);
    } else {
      parent.appendChild(document.createTextNode(text));
    }
  }
  return parent;
}
