// A README's HTML, as the server rendered it with cmark (GET /api/v1/repos/{name}/readme), made
// into DOM. SECURITY: this is the one place in the UI that parses HTML (the web lint allows it
// here and nowhere else: tests/browser/lint.mjs). cmark already drops raw HTML and links with a
// script scheme (its safe mode); this is the second, independent layer: the HTML is parsed into
// an inert document (it runs no script and loads nothing), and only a whitelist of elements is
// rebuilt, with el() and without any attribute but a checked href, a list's start and a
// table cell's alignment. Anything else keeps only its text; script, style and the like are
// dropped whole. Images become links to them: the page's Content-Security-Policy loads images
// from this server only (no tracking pixels), and a repository's images are not served as
// images (the raw route's content is text/plain).
import { el } from './dom.js';
import { dirHref, fileHref, rawHref } from './urls.js';

// The root to resolve a relative path against: only the path of the result is used.
const BASE = 'file:///';

// Elements rebuilt as they are (their children walked), by lower-case tag name.
const KEEP = new Set(['a', 'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'code', 'pre',
  'em', 'strong', 'blockquote', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'hr', 'br', 'del', 'img']);
// Elements dropped with everything in them.
const DROP = new Set(['script', 'style', 'template', 'iframe', 'object', 'embed', 'noscript', 'svg',
  'math', 'frame', 'frameset', 'head', 'title', 'textarea', 'select', 'button', 'form', 'input']);

// A README link's target: a checked absolute URL, a fragment, or a path in the repository
// resolved against the README's directory (a leading "/" from its root, as on a forge) to the
// file view, the directory page, or (for images) the raw API. null: shown as text.
export function readmeTarget(href, { repo, rev, dir, image = false }) {
  if (typeof href !== 'string' || !href || /[\u0000-\u0020\u007f]/.test(href) || href.length > 8192) return null;
  if (href.startsWith('#')) return image ? null : href;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(href);
  if (scheme) {
    const s = scheme[1].toLowerCase();
    if ((s === 'http' || s === 'https') && href.slice(scheme[0].length).startsWith('//')) return href;
    if (s === 'mailto' && !image) return href;
    return null;
  }
  if (href.startsWith('//') || href.includes('\\')) return null;
  let url;
  try {
    url = new URL(href, BASE + (dir ? dir.split('/').map(encodeURIComponent).join('/') + '/' : ''));
  } catch {
    return null;
  }
  let path;
  try {
    path = decodeURIComponent(url.pathname.slice(1));
  } catch {
    return null;
  }
  if (!inRepo(path)) return null;
  if (image) return path ? rawHref(repo, path, rev) : null;
  if (!path || path.endsWith('/')) return dirHref(repo, path.replace(/\/$/, ''), rev);
  const line = /^#L([1-9][0-9]{0,8})$/.exec(url.hash);
  return fileHref(repo, path, { rev, line: line ? Number(line[1]) : undefined });
}

// SECURITY: the URL parser resolves "." and ".." before decoding, and "%2F" decodes to a "/" it
// never saw: "..%2F..%2F..%2Fadmin" would come out as "../../../admin", which the browser
// resolves against /file/REPO/ to /admin (any page or API route of this server). A path with
// an empty, "." or ".." segment is no path in a repository (the server refuses them too).
function inRepo(path) {
  const p = path.endsWith('/') ? path.slice(0, -1) : path;
  return p === '' || !p.split('/').some((s) => s === '' || s === '.' || s === '..');
}

function rebuild(node, ctx, depth) {
  if (node.nodeType === 3) return document.createTextNode(node.data);
  if (node.nodeType !== 1 || depth > 64) return null;
  const tag = node.localName;
  if (DROP.has(tag)) return null;
  const kids = () => [...node.childNodes].map((c) => rebuild(c, ctx, depth + 1)).filter(Boolean);
  if (!KEEP.has(tag)) {
    const frag = document.createDocumentFragment();
    for (const k of kids()) frag.appendChild(k);
    return frag;
  }
  if (tag === 'img') {
    const target = readmeTarget(node.getAttribute('src'), { ...ctx, image: true });
    const alt = node.getAttribute('alt') || 'image';
    return target ? link(target, 'readme-img', '[image: ' + alt + ']') : document.createTextNode('[image: ' + alt + ']');
  }
  if (tag === 'a') {
    const target = readmeTarget(node.getAttribute('href'), ctx);
    if (!target) return el('span', { class: 'readme-nolink' }, ...kids());
    return link(target, null, ...kids());
  }
  // The page's own h1 is the repository's name: the README's headings go one level down.
  const level = /^h([1-6])$/.exec(tag);
  const out = el(level ? 'h' + Math.min(6, Number(level[1]) + 1) : tag);
  if (tag === 'ol' && /^[0-9]{1,9}$/.test(node.getAttribute('start') || '')) out.setAttribute('start', node.getAttribute('start'));
  const align = node.getAttribute('align');
  if ((tag === 'th' || tag === 'td') && (align === 'left' || align === 'right' || align === 'center')) out.setAttribute('class', 'align-' + align);
  for (const k of kids()) out.appendChild(k);
  return out;
}

// A link to a target readmeTarget checked; el()'s safeHref takes no mailto:, so that one is set
// here, after the check above.
function link(target, cls, ...children) {
  const a = el('a', { class: cls, href: target.startsWith('mailto:') ? null : target }, ...children);
  if (target.startsWith('mailto:')) a.setAttribute('href', target);
  if (/^https?:/i.test(target)) a.setAttribute('rel', 'nofollow noopener noreferrer');
  return a;
}

// The server's README HTML as a <div class="markdown">; ctx: {repo, rev, dir} of the README.
export function readmeNode(html, ctx) {
  const doc = new DOMParser().parseFromString(String(html), 'text/html');
  const box = el('div', { class: 'markdown' });
  for (const c of doc.body.childNodes) {
    const n = rebuild(c, ctx, 0);
    if (n) box.appendChild(n);
  }
  return box;
}
