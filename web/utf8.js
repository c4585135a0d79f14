// Byte offsets (UTF-8, as the API reports match ranges) to JavaScript string offsets (UTF-16).
//
// The API replaces each byte of a line that is not valid UTF-8 by one U+FFFD (src/util/json.c:
// one replacement per bad byte), while its ranges count the original bytes. So a U+FFFD in
// the text usually stands for one byte, but a U+FFFD that was in the file stands for three
// (EF BF BD), and the text alone cannot tell them apart. We count one byte per U+FFFD unless a
// range reaches past the line's length counted that way, which proves some were real: then
// three. Offsets that fall inside a character are rounded outwards to the character's edges,
// so a range never splits a character or a surrogate pair.

function cpBytes(cp, fffd) {
  if (cp === 0xfffd) return fffd;
  if (cp < 0x80) return 1;
  if (cp < 0x800) return 2;
  if (cp < 0x10000) return 3;
  return 4;
}

// Byte offset at each code point boundary: [[byte, index], ...] including the end.
function boundaries(text, fffd) {
  const out = [[0, 0]];
  let b = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i);
    const units = cp > 0xffff ? 2 : 1;
    b += cpBytes(cp, fffd);
    i += units;
    out.push([b, i]);
  }
  return out;
}

export function byteLength(text, fffd = 3) {
  let b = 0;
  for (let i = 0; i < text.length;) {
    const cp = text.codePointAt(i);
    b += cpBytes(cp, fffd);
    i += cp > 0xffff ? 2 : 1;
  }
  return b;
}

// Largest boundary index with byte <= off (down) or smallest with byte >= off (up).
function toIndex(bounds, off, up) {
  let lo = 0, hi = bounds.length - 1;
  if (off <= 0) return 0;
  if (off >= bounds[hi][0]) return bounds[hi][1];
  while (lo < hi) { // first boundary with byte >= off
    const mid = (lo + hi) >> 1;
    if (bounds[mid][0] < off) lo = mid + 1; else hi = mid;
  }
  if (bounds[lo][0] === off || up) return bounds[lo][1];
  return bounds[lo - 1][1];
}

// ranges [[startByte, endByte], ...] -> sorted, merged, non-empty [[startIndex, endIndex], ...].
export function byteRangesToIndexes(text, ranges) {
  if (!Array.isArray(ranges) || ranges.length === 0) return [];
  let fffd = 1;
  if (text.includes('\ufffd')) {
    const maxEnd = Math.max(...ranges.map((r) => (Array.isArray(r) ? Number(r[1]) || 0 : 0)));
    if (maxEnd > byteLength(text, 1)) fffd = 3;
  }
  const bounds = boundaries(text, fffd);
  const out = [];
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length < 2 || !(Number(r[1]) > Number(r[0]))) continue;
    const s = toIndex(bounds, Number(r[0]) || 0, false);
    const e = toIndex(bounds, Number(r[1]) || 0, true);
    if (e > s) out.push([s, e]);
  }
  out.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const r of out) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}

// The string index of a 1-based column counted in characters (code points), as the API and the
// CLI report a query error's position; past the end gives text.length.
export function columnToIndex(text, column) {
  let i = 0;
  for (let c = 1; c < column && i < text.length; c++) i += text.codePointAt(i) > 0xffff ? 2 : 1;
  return i;
}

// text cut into [[piece, className|null], ...] with the given index ranges marked.
export function markSegments(text, indexRanges, cls) {
  const segs = [];
  let at = 0;
  for (const [s, e] of indexRanges) {
    if (s > at) segs.push([text.slice(at, s), null]);
    segs.push([text.slice(s, e), cls]);
    at = e;
  }
  if (at < text.length) segs.push([text.slice(at), null]);
  return segs;
}
