// Fuzzy matching of file paths for the "go to file" finder (docs/ui.md, "Go to file"): the query's
// characters must appear in the path in order (a subsequence, ignoring case and the query's
// spaces); a match scores higher when its characters start path segments or words, run
// consecutively, and lie in the file's name rather than its directories, as in fzf and VS Code.
// Pure functions (no DOM), unit-tested in tests/browser/keys.mjs.

const MATCH = 16;         // every matched character
const CONSECUTIVE = 8;    // a character right after the previous match
const AFTER_SLASH = 12;   // the first character of a path segment
const AFTER_SEP = 9;      // after _ - . or a space
const CAMEL = 7;          // an upper-case letter after a lower-case one
const GAP_OPEN = 3;       // a jump over unmatched characters...
const GAP_EXTEND = 1;     // ...and each character jumped, up to GAP_MAX
const GAP_MAX = 12;
const IN_NAME = 24;       // all matches in the last segment (the file's name); a share for some
const WHOLE_NAME = 30;    // the query is the file's whole name

// The query as matched: lower case, without whitespace.
export function fuzzyQuery(q) {
  return String(q).toLowerCase().replace(/\s+/g, '');
}

const isUpper = (c) => c >= 'A' && c <= 'Z';
const isLower = (c) => c >= 'a' && c <= 'z';

function boundary(path, i) {
  if (i === 0) return AFTER_SLASH;
  const b = path[i - 1];
  if (b === '/') return AFTER_SLASH;
  if (b === '_' || b === '-' || b === '.' || b === ' ') return AFTER_SEP;
  if (isLower(b) && isUpper(path[i])) return CAMEL;
  return 0;
}

// The tightest match of q in lower[from..]: the first place the whole of q ends, then back to
// the last place it can start. Fills pos with the positions; false when q is not in it.
function window(q, lower, from, pos) {
  let j = 0, i = from;
  for (; i < lower.length && j < q.length; i++) if (lower[i] === q[j]) j++;
  if (j < q.length) return false;
  let s = i - 1;
  for (j = q.length - 1; s >= from; s--) {
    if (lower[s] === q[j] && --j < 0) break;
  }
  // Forward again from the start: prefer boundaries when the same character comes twice.
  for (let k = 0, p = s; k < q.length; k++, p++) {
    while (lower[p] !== q[k]) p++;
    pos[k] = p;
  }
  return true;
}

function scorePositions(path, pos, m, nameStart) {
  let score = 0, inName = 0;
  for (let k = 0; k < m; k++) {
    const i = pos[k];
    const bonus = boundary(path, i);
    let s = MATCH + bonus;
    if (k === 0) s += bonus; // a match that starts a word counts twice
    else if (i === pos[k - 1] + 1) s += CONSECUTIVE;
    else s -= GAP_OPEN + Math.min(GAP_MAX, i - pos[k - 1] - 2) * GAP_EXTEND;
    if (i >= nameStart) inName++;
    score += s;
  }
  score += IN_NAME * inName / m;
  if (m === path.length - nameStart && pos[0] === nameStart) score += WHOLE_NAME;
  return score;
}

// The score of path for the query q (from fuzzyQuery), or -1 when it does not match; lower is
// path.toLowerCase() (the finder computes it once per path). pos, when given, receives the
// matched positions (indexes into path). Higher is better; an empty query scores 0.
export function fuzzyScore(q, path, lower = path.toLowerCase(), pos = null) {
  const m = q.length;
  if (m === 0) return 0;
  if (m > path.length) return -1;
  const a = pos || new Array(m);
  const nameStart = path.lastIndexOf('/') + 1;
  if (!window(q, lower, 0, a)) return -1;
  let best = scorePositions(path, a, m, nameStart);
  // The leftmost match may sit in a directory while the file's name holds a better one.
  if (nameStart > 0 && a[0] < nameStart) {
    const b = new Array(m);
    if (window(q, lower, nameStart, b)) {
      const s = scorePositions(path, b, m, nameStart);
      if (s > best) {
        best = s;
        for (let k = 0; k < m; k++) a[k] = b[k];
      }
    }
  }
  return best;
}

// Orders scored matches: higher score, then the shorter path, then byte order.
export function compareMatches(x, y) {
  return y.score - x.score || x.path.length - y.path.length || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
}

// The best `limit` of paths (with lowers, their lower-case forms) for q, as [{path, index,
// score}] best first, scanning the indexes among[from..to) (among null: every index), so that
// the finder can scan a long list in slices. Also returns every index that matched, so that a
// longer query typed next only rescans those.
export function fuzzyFilter(q, paths, lowers, { among = null, from = 0, to = Infinity, limit = 50 } = {}) {
  const top = [];
  const matched = [];
  const end = Math.min(to, among ? among.length : paths.length);
  for (let t = from; t < end; t++) {
    const i = among ? among[t] : t;
    const score = fuzzyScore(q, paths[i], lowers[i]);
    if (score < 0) continue;
    matched.push(i);
    top.push({ path: paths[i], index: i, score });
    if (top.length >= limit * 8) {
      top.sort(compareMatches);
      top.length = limit;
    }
  }
  top.sort(compareMatches);
  if (top.length > limit) top.length = limit;
  return { top, matched };
}
