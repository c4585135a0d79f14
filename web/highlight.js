// A small syntax highlighter for the file view: comments, strings, numbers and keywords of the
// common languages, in one left-to-right pass (every step consumes at least one character and
// looks ahead a bounded amount, or jumps with indexOf to a delimiter it then consumes), so the
// time is linear in the file's length whatever its content. It is a colouring aid, not a parser:
// when it guesses wrong, colours are wrong, never content.

const C_KW = 'auto break case char const continue default do double else enum extern float for goto if ' +
  'inline int long register restrict return short signed sizeof static struct switch typedef union ' +
  'unsigned void volatile while bool true false NULL nullptr class namespace template typename public ' +
  'private protected virtual override final new delete this using operator friend constexpr noexcept ' +
  'static_assert decltype try catch throw explicit mutable size_t uint8_t uint16_t uint32_t uint64_t ' +
  'int8_t int16_t int32_t int64_t _Bool @interface @implementation @end';
const GO_KW = 'break case chan const continue default defer else fallthrough for func go goto if import ' +
  'interface map package range return select struct switch type var true false nil iota bool byte ' +
  'rune string int int8 int16 int32 int64 uint uint8 uint16 uint32 uint64 uintptr float32 float64 ' +
  'complex64 complex128 error any append cap len make new panic recover copy delete close';
const PY_KW = 'and as assert async await break class continue def del elif else except finally for from ' +
  'global if import in is lambda nonlocal not or pass raise return try while with yield None True ' +
  'False self match case print';
const JS_KW = 'async await break case catch class const continue debugger default delete do else export ' +
  'extends finally for function if import in instanceof let new of return static super switch this ' +
  'throw try typeof var void while with yield true false null undefined interface type enum ' +
  'implements private public protected readonly declare namespace abstract as keyof any number ' +
  'string boolean never unknown';
const RUST_KW = 'as async await break const continue crate dyn else enum extern false fn for if impl in ' +
  'let loop match mod move mut pub ref return self Self static struct super trait true type unsafe ' +
  'use where while i8 i16 i32 i64 i128 isize u8 u16 u32 u64 u128 usize f32 f64 bool char str String ' +
  'Vec Option Some None Result Ok Err Box';
const JAVA_KW = 'abstract assert boolean break byte case catch char class const continue default do ' +
  'double else enum extends final finally float for goto if implements import instanceof int ' +
  'interface long native new package private protected public return short static strictfp super ' +
  'switch synchronized this throw throws transient try void volatile while true false null var ' +
  'record sealed permits yield fun val when object companion data override open internal lateinit ' +
  'namespace using string bool readonly';
const SH_KW = 'if then else elif fi case esac for while until do done in function return local export ' +
  'readonly declare unset shift exit break continue set echo printf source true false';

const words = (s) => new Set(s.split(' '));

// Families: line comment starters, block comments, string delimiters (ml: may span lines).
const FAMILIES = {
  c: { line: ['//'], block: [['/*', '*/']], strings: [['"', false], ["'", false]], kw: words(C_KW), pre: true },
  go: { line: ['//'], block: [['/*', '*/']], strings: [['"', false], ["'", false], ['`', true, true]], kw: words(GO_KW) },
  python: { hash: true, triple: true, strings: [['"', false], ["'", false]], kw: words(PY_KW) },
  js: { line: ['//'], block: [['/*', '*/']], strings: [['"', false], ["'", false], ['`', true]], kw: words(JS_KW) },
  rust: { line: ['//'], block: [['/*', '*/']], strings: [['"', true]], rustChar: true, kw: words(RUST_KW) },
  java: { line: ['//'], block: [['/*', '*/']], strings: [['"', false], ["'", false]], kw: words(JAVA_KW) },
  sh: { hash: true, hashWord: true, strings: [['"', false], ["'", false, true]], kw: words(SH_KW) },
};

const LANG_FAMILY = {
  C: 'c', 'C++': 'c', 'Objective-C': 'c', 'Objective-C++': 'c', CUDA: 'c', GLSL: 'c', HLSL: 'c',
  Go: 'go',
  Python: 'python', Starlark: 'python',
  'JavaScript': 'js', TypeScript: 'js', TSX: 'js', JSX: 'js', JSON: 'js', JSON5: 'js',
  Rust: 'rust',
  Java: 'java', Kotlin: 'java', 'C#': 'java', Scala: 'java', Groovy: 'java', Dart: 'java', Swift: 'java',
  Shell: 'sh', Makefile: 'sh', Dockerfile: 'sh', YAML: 'sh', TOML: 'sh', Perl: 'sh', Ruby: 'sh',
  CMake: 'sh', Nix: 'sh', fish: 'sh', PowerShell: 'sh', 'Git Config': 'sh', INI: 'sh', Dotenv: 'sh',
};

export function familyOf(language) {
  return LANG_FAMILY[language] || null;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9]+)?)[A-Za-z0-9_]*/y;
const RUST_CHAR = /'(?:\\(?:x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]{1,6}\}|.)|[^\\'\n])'/y;
const isIdentChar = (c) => c !== undefined && /[A-Za-z0-9_$]/.test(c);

// The end of a string opened at i with delimiter d (index after the closing delimiter, or the end
// of the line/text when unclosed). raw: no backslash escapes.
function stringEnd(text, i, d, ml, raw) {
  let j = i + d.length;
  while (j < text.length) {
    const c = text[j];
    if (c === '\\' && !raw) { j += 2; continue; }
    if (text.startsWith(d, j)) return j + d.length;
    if (c === '\n' && !ml) return j;
    j++;
  }
  return text.length;
}

// tokenize(text, language) -> [[start, end, className], ...], sorted and disjoint; the gaps are
// plain text. Unknown languages (and Markdown, plain text) give no tokens.
export function tokenize(text, language) {
  const fam = FAMILIES[familyOf(language)];
  const toks = [];
  if (!fam) return toks;
  const n = text.length;
  let i = 0;
  let lineStart = true; // only whitespace since the last newline (for C preprocessor lines)
  while (i < n) {
    const c = text[i];
    if (c === '\n') { lineStart = true; i++; continue; }
    if (c === ' ' || c === '\t' || c === '\r') { i++; continue; }
    const atLineStart = lineStart;
    lineStart = false;
    // Comments.
    if (fam.line && fam.line.some((p) => text.startsWith(p, i))) {
      const e = text.indexOf('\n', i);
      const end = e < 0 ? n : e;
      toks.push([i, end, 'tok-comment']);
      i = end;
      continue;
    }
    if (fam.hash && c === '#' && (!fam.hashWord || i === 0 || /\s/.test(text[i - 1]))) {
      const e = text.indexOf('\n', i);
      const end = e < 0 ? n : e;
      toks.push([i, end, 'tok-comment']);
      i = end;
      continue;
    }
    const block = fam.block && fam.block.find(([o]) => text.startsWith(o, i));
    if (block) {
      const e = text.indexOf(block[1], i + block[0].length);
      const end = e < 0 ? n : e + block[1].length;
      toks.push([i, end, 'tok-comment']);
      i = end;
      continue;
    }
    if (fam.pre && c === '#' && atLineStart) {
      IDENT.lastIndex = i + 1;
      const m = IDENT.exec(text);
      const end = m ? IDENT.lastIndex : i + 1;
      toks.push([i, end, 'tok-meta']);
      i = end;
      continue;
    }
    // Strings.
    if (fam.triple && (text.startsWith('"""', i) || text.startsWith("'''", i))) {
      const end = stringEnd(text, i, text.slice(i, i + 3), true, false);
      toks.push([i, end, 'tok-string']);
      i = end;
      continue;
    }
    if (fam.rustChar && c === "'") {
      RUST_CHAR.lastIndex = i;
      if (RUST_CHAR.exec(text)) {
        toks.push([i, RUST_CHAR.lastIndex, 'tok-string']);
        i = RUST_CHAR.lastIndex;
      } else {
        i++; // a lifetime such as 'a
      }
      continue;
    }
    const str = fam.strings.find(([d]) => d === c);
    if (str) {
      const end = stringEnd(text, i, str[0], str[1], str[2]);
      toks.push([i, end, 'tok-string']);
      i = end;
      continue;
    }
    // Numbers, identifiers and keywords.
    if (c >= '0' && c <= '9' && !isIdentChar(text[i - 1])) {
      NUMBER.lastIndex = i;
      NUMBER.exec(text);
      toks.push([i, NUMBER.lastIndex, 'tok-number']);
      i = NUMBER.lastIndex;
      continue;
    }
    if (/[A-Za-z_@]/.test(c)) {
      IDENT.lastIndex = c === '@' ? i + 1 : i;
      const m = IDENT.exec(text);
      if (!m) { i++; continue; }
      const end = IDENT.lastIndex;
      if (fam.kw.has(text.slice(i, end)) && !(i > 0 && (text[i - 1] === '.' || text[i - 1] === '$'))) {
        toks.push([i, end, 'tok-keyword']);
      }
      i = end;
      continue;
    }
    i++;
  }
  return toks;
}

// splitLines(text, tokens) -> one array per line of [[piece, className|null], ...], tokens cut at
// line ends. A final newline does not start another line; a "\r" before "\n" is dropped.
export function splitLines(text, tokens) {
  const lines = [];
  let t = 0;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    const last = end < 0;
    if (last) end = text.length;
    if (last && start === end && lines.length > 0) break;
    let visEnd = end;
    if (visEnd > start && text[visEnd - 1] === '\r') visEnd--;
    const segs = [];
    let at = start;
    while (t < tokens.length && tokens[t][0] < visEnd) {
      const [s, e, cls] = tokens[t];
      const ss = Math.max(s, at), ee = Math.min(e, visEnd);
      if (ss > at) segs.push([text.slice(at, ss), null]);
      if (ee > ss) segs.push([text.slice(ss, ee), cls]);
      at = Math.max(at, ee);
      if (e <= visEnd) t++; else break; // a token that spans lines continues on the next
    }
    if (at < visEnd) segs.push([text.slice(at, visEnd), null]);
    while (t < tokens.length && tokens[t][1] <= end) t++;
    lines.push(segs);
    if (last) break;
    start = end + 1;
  }
  return lines;
}
