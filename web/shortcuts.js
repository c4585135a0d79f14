// The keyboard shortcuts of every page (docs/ui.md, "Keyboard"): one keydown listener on the
// document. Outside text fields, and with no Ctrl, Alt or Meta held: "/" focuses the query box,
// j / k / Enter / y go to the current view (its shortcut(name) method: 'next', 'prev', 'open',
// 'permalink'; a view without one ignores them), "t" opens the "go to file" finder
// (finder.js), "?" this help panel. Esc works everywhere: it closes a dialog (the browser's
// own handling of <dialog>), else asks the view ('escape'), else leaves the query box.
// Enter is taken only on the page itself or a result, never from a link, a button or a field.
import { el } from './dom.js';
import { openFinder } from './finder.js';

// [keys, what they do] for the help panel; nav.js's file view shortcuts are listed too.
export const SHORTCUTS = [
  [['/'], 'Focus the search box'],
  [['j'], 'Next result'],
  [['k'], 'Previous result'],
  [['Enter'], 'Open the selected result'],
  [['y'], 'Pin the URL to the commit (file view: permalink)'],
  [['t'], 'Go to a file of this repository'],
  [['?'], 'Show these shortcuts'],
  [['Esc'], 'Close a panel; leave the search box'],
  [['g', 'd'], 'Go to the definition of the identifier at the caret (file view; also F12)'],
  [['g', 'r'], 'Find references (file view; also Shift+F12)'],
  [['↑', '↓'], 'Choose a suggestion in the search box (Tab or Enter takes it)'],
  [['Delete'], 'Remove the chosen recent search from the list'],
];

// Whether keys typed at t are text for it (a field, an editable element), not shortcuts.
export function isTextTarget(t) {
  if (!t || t.nodeType !== 1) return false;
  if (t.isContentEditable) return true;
  if (t.tagName === 'TEXTAREA' || t.tagName === 'SELECT') return true;
  if (t.tagName !== 'INPUT') return false;
  return !['button', 'checkbox', 'radio', 'submit', 'reset', 'range', 'color', 'file', 'image'].includes(t.type);
}

// Enter opens the selected result only from the page itself or a result (an element of .result
// that is not a control): a focused link or button keeps its own Enter.
function enterIsOurs(t) {
  if (!t || t === document.body || t === document.documentElement) return true;
  if (t.closest('a[href], button, input, select, textarea, summary, [role="button"], [role="link"]')) return false;
  return t.closest('.result') !== null;
}

let helpDialog = null;

// A modal <dialog> (the browser keeps focus inside it and closes it on Esc), labelled by its
// heading; focus returns to where it was when it closes.
export function openHelp() {
  if (helpDialog && helpDialog.open) return helpDialog;
  const back = document.activeElement;
  const rows = SHORTCUTS.map(([keys, what]) => el('tr', null,
    el('td', null, keys.flatMap((k, i) => (i ? [' then ', el('kbd', null, k)] : [el('kbd', null, k)]))),
    el('td', null, what)));
  const close = el('button', { type: 'button', class: 'dialog-close' }, 'Close');
  const d = el('dialog', { class: 'help-panel', 'aria-labelledby': 'help-title' },
    el('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
    el('table', { class: 'shortcut-table' },
      el('thead', null, el('tr', null, el('th', { scope: 'col' }, 'Keys'), el('th', { scope: 'col' }, 'Action'))),
      el('tbody', null, rows)),
    el('p', { class: 'help-note' }, 'Shortcuts act outside text fields; Esc also works inside them.'),
    close);
  close.addEventListener('click', () => d.close());
  d.addEventListener('close', () => {
    d.remove();
    if (helpDialog === d) helpDialog = null;
    if (back && back.isConnected && typeof back.focus === 'function') back.focus();
  });
  document.body.appendChild(d);
  d.showModal();
  close.focus();
  helpDialog = d;
  return d;
}

// installShortcuts({ view, go, box }): view() is the current page's view (or null), go(url)
// navigates in the app, box is the query box (query-box.js). Installs the one listener; call once.
export function installShortcuts({ view, go, box }) {
  const ask = (name) => {
    const v = view();
    return Boolean(v && typeof v.shortcut === 'function' && v.shortcut(name));
  };
  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented || e.isComposing || e.ctrlKey || e.metaKey || e.altKey) return;
    // An open dialog (this help, the finder) handles its own keys, Esc included.
    if (document.querySelector('dialog[open]')) return;
    const t = e.target;
    if (e.key === 'Escape') {
      if (ask('escape')) e.preventDefault();
      else if (t === box.input) box.input.blur();
      return;
    }
    if (isTextTarget(t)) return;
    let done = false;
    switch (e.key) {
      case '/': box.focus(); done = true; break;
      case '?': openHelp(); done = true; break;
      case 't': openFinder(view(), go); done = true; break;
      case 'j': done = ask('next'); break;
      case 'k': done = ask('prev'); break;
      case 'y': done = ask('permalink'); break;
      case 'Enter': done = !e.shiftKey && enterIsOurs(t) && ask('open'); break;
      default: break;
    }
    if (done) e.preventDefault();
  });
}
