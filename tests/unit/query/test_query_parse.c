/*
 * Unit tests for the query parser: every pattern form, filter and alias, negation, quoting,
 * precedence, settings, limits, and every error with the position it points at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "query/query.h"
#include "util/buf.h"
#include "util/error.h"

#define OK 0
#define INVAL TRAWL_EINVAL
#define UNSUP TRAWL_EUNSUPPORTED
#define LIMIT TRAWL_ELIMIT

/* Building blocks of query_describe()'s text. */
#define LIT(x) "(pattern literal \"" x "\")"
#define RE(x) "(pattern regexp \"" x "\")"
#define REPO(x) "(filter repo \"" x "\")"
#define FILE_(x) "(filter file \"" x "\")"
#define LANG(x) "(filter lang \"" x "\")"
#define NOT(x) "(not " x ")"
#define AND2(a, b) "(and " a " " b ")"
#define AND3(a, b, c) "(and " a " " b " " c ")"
#define OR2(a, b) "(or " a " " b ")"
#define OR3(a, b, c) "(or " a " " b " " c ")"
#define DEF " count:500 timeout:10s"

struct parse_case {
	const char *query;
	int err;              /* expected result */
	size_t pos;           /* expected error position */
	const char *describe; /* expected canonical form when OK; error message part otherwise */
};

static const struct parse_case cases[] = {
	/* Keyword terms: literals, ANDed. */
	{ "foo", OK, 0, LIT("foo") DEF },
	{ "foo bar", OK, 0, AND2(LIT("foo"), LIT("bar")) DEF },
	{ "  foo   bar  ", OK, 0, AND2(LIT("foo"), LIT("bar")) DEF },
	{ "foo\tbar\nbaz", OK, 0, AND3(LIT("foo"), LIT("bar"), LIT("baz")) DEF },
	{ "foo.bar*", OK, 0, LIT("foo.bar*") DEF },
	{ "-foo", OK, 0, LIT("-foo") DEF },
	{ "-", OK, 0, LIT("-") DEF },
	{ "--help -x", OK, 0, AND2(LIT("--help"), LIT("-x")) DEF },
	{ "caf\xc3\xa9", OK, 0, LIT("caf\xc3\xa9") DEF },
	{ "a\\ b", OK, 0, AND2(LIT("a\\\\"), LIT("b")) DEF },
	{ "a\\)", OK, 0, LIT("a\\\\)") DEF },
	/* Parentheses inside a term belong to it when balanced there. */
	{ "foo(bar)", OK, 0, LIT("foo(bar)") DEF },
	{ "foo()", OK, 0, LIT("foo()") DEF },
	{ "foo(", OK, 0, LIT("foo(") DEF },
	{ "(foo())", OK, 0, LIT("foo()") DEF },
	{ "a(b) c", OK, 0, AND2(LIT("a(b)"), LIT("c")) DEF },
	{ "(a\\))", OK, 0, LIT("a\\\\)") DEF },
	/* Colons that are not filters. */
	{ "std::vector", OK, 0, LIT("std::vector") DEF },
	{ "f::x", OK, 0, LIT("f::x") DEF },
	{ "http://example.com/a", OK, 0, LIT("http://example.com/a") DEF },
	{ "file:///etc/passwd", OK, 0, LIT("file:///etc/passwd") DEF },
	{ "default:", OK, 0, LIT("default:") DEF },
	{ "public: int", OK, 0, AND2(LIT("public:"), LIT("int")) DEF },
	{ "x[a:b]", OK, 0, LIT("x[a:b]") DEF },
	{ "a1:b", OK, 0, LIT("a1:b") DEF },
	{ ":foo", OK, 0, LIT(":foo") DEF },
	{ "(default:)", OK, 0, LIT("default:") DEF },
	/* Quoted phrases. */
	{ "\"foo bar\"", OK, 0, LIT("foo bar") DEF },
	{ "'foo bar'", OK, 0, LIT("foo bar") DEF },
	{ "\"a \\\"b\\\" c\"", OK, 0, LIT("a \\\"b\\\" c") DEF },
	{ "'it\\'s'", OK, 0, LIT("it's") DEF },
	{ "\"it's\"", OK, 0, LIT("it's") DEF },
	{ "'say \"hi\"'", OK, 0, LIT("say \\\"hi\\\"") DEF },
	{ "\"a\\\\b\"", OK, 0, LIT("a\\\\b") DEF },
	{ "\"a\\nb\"", OK, 0, LIT("a\\\\nb") DEF },
	{ "\"a\\'b\"", OK, 0, LIT("a\\\\'b") DEF },
	{ "\"(a OR b)\"", OK, 0, LIT("(a OR b)") DEF },
	{ "\"repo:x\"", OK, 0, LIT("repo:x") DEF },
	{ "\"or\" 'NOT' \"and\"", OK, 0, AND3(LIT("or"), LIT("NOT"), LIT("and")) DEF },
	{ "(\"a b\")", OK, 0, LIT("a b") DEF },
	/* A quote that does not close before a boundary is an ordinary character. */
	{ "\"foo\"bar", OK, 0, LIT("\\\"foo\\\"bar") DEF },
	{ "\"foo", OK, 0, LIT("\\\"foo") DEF },
	{ "\"foo bar", OK, 0, AND2(LIT("\\\"foo"), LIT("bar")) DEF },
	{ "don't", OK, 0, LIT("don't") DEF },
	{ "\"", OK, 0, LIT("\\\"") DEF },
	{ "\"%s\\n\",", OK, 0, LIT("\\\"%s\\\\n\\\",") DEF },
	{ "\"\"", INVAL, 0, "empty" },
	{ "foo ''", INVAL, 4, "empty" },
	/* /regexps/. */
	{ "/foo.*bar/", OK, 0, RE("foo.*bar") DEF },
	{ "/foo bar/", OK, 0, RE("foo bar") DEF },
	{ "/a\\/b/", OK, 0, RE("a/b") DEF },
	{ "/a\\\\/", OK, 0, RE("a\\\\\\\\") DEF },
	{ "/\\d+/ foo", OK, 0, AND2(RE("\\\\d+"), LIT("foo")) DEF },
	{ "(/a\\)/)", OK, 0, RE("a\\\\)") DEF },
	{ "/usr/lib", OK, 0, LIT("/usr/lib") DEF },
	{ "/usr/lib/", OK, 0, LIT("/usr/lib/") DEF },
	{ "//", OK, 0, LIT("//") DEF },
	{ "// TODO", OK, 0, AND2(LIT("//"), LIT("TODO")) DEF },
	{ "/foo", OK, 0, LIT("/foo") DEF },
	{ "/(a/", INVAL, 1, "unclosed group" },
	{ "/a)/", INVAL, 2, "unopened group" },
	{ "/a\\/(/", INVAL, 4, "unclosed group" },
	{ "foo /[z-a]/", INVAL, 6, "regular expression" },
	{ "/a\\1/", UNSUP, 2, "backreferences" },
	/* Filters and their aliases. */
	{ "repo:foo", OK, 0, REPO("foo") DEF },
	{ "r:foo", OK, 0, REPO("foo") DEF },
	{ "REPO:foo", OK, 0, REPO("foo") DEF },
	{ "repo:^github\\.com/a/b$ x", OK, 0, AND2(REPO("^github\\\\.com/a/b$"), LIT("x")) DEF },
	{ "repo:a[@]b x", OK, 0, AND2(REPO("a[@]b"), LIT("x")) DEF },
	{ "file:\\.go$", OK, 0, FILE_("\\\\.go$") DEF },
	{ "f:x y", OK, 0, AND2(FILE_("x"), LIT("y")) DEF },
	{ "path:x y", OK, 0, AND2(FILE_("x"), LIT("y")) DEF },
	{ "File:x", OK, 0, FILE_("x") DEF },
	{ "file:\"a b\"", OK, 0, FILE_("a b") DEF },
	{ "file:'x y' z", OK, 0, AND2(FILE_("x y"), LIT("z")) DEF },
	{ "file:\"a\\\"b\"", OK, 0, FILE_("a\\\"b") DEF },
	{ "file:(a|b)\\.c$", OK, 0, FILE_("(a|b)\\\\.c$") DEF },
	{ "(file:x)", OK, 0, FILE_("x") DEF },
	{ "file:\"x", OK, 0, FILE_("\\\"x") DEF },
	{ "lang:go", OK, 0, LANG("Go") DEF },
	{ "l:go", OK, 0, LANG("Go") DEF },
	{ "language:Go", OK, 0, LANG("Go") DEF },
	{ "lang:golang", OK, 0, LANG("Go") DEF },
	{ "lang:\"go\"", OK, 0, LANG("Go") DEF },
	{ "lang:cpp", OK, 0, LANG("C++") DEF },
	{ "content:foo", OK, 0, LIT("foo") DEF },
	{ "content:\"repo:foo\"", OK, 0, LIT("repo:foo") DEF },
	{ "content:\"a b\" c", OK, 0, AND2(LIT("a b"), LIT("c")) DEF },
	{ "content:/a/", OK, 0, LIT("/a/") DEF },
	{ "patterntype:regexp content:a.b", OK, 0, LIT("a.b") " patterntype:regexp" DEF },
	/* Negated filters are a NOT around the filter. */
	{ "-repo:foo bar", OK, 0, AND2(NOT(REPO("foo")), LIT("bar")) DEF },
	{ "-file:_test\\.go$ foo", OK, 0, AND2(NOT(FILE_("_test\\\\.go$")), LIT("foo")) DEF },
	{ "-f:x y", OK, 0, AND2(NOT(FILE_("x")), LIT("y")) DEF },
	{ "foo -lang:go", OK, 0, AND2(LIT("foo"), NOT(LANG("Go"))) DEF },
	{ "-content:foo bar", OK, 0, AND2(NOT(LIT("foo")), LIT("bar")) DEF },
	{ "lang:go -file:test", OK, 0, AND2(LANG("Go"), NOT(FILE_("test"))) DEF },
	{ "foo NOT -file:x", OK, 0, AND2(LIT("foo"), FILE_("x")) DEF },
	/* Filter errors. */
	{ "repo:", INVAL, 0, "needs a value" },
	{ "-repo: x", INVAL, 1, "needs a value" },
	{ "(repo:)", INVAL, 1, "needs a value" },
	{ "foo file:", INVAL, 4, "needs a value" },
	{ "content:", INVAL, 0, "needs a value" },
	{ "content:\"\"", INVAL, 8, "needs a value" },
	{ "file:''", INVAL, 5, "needs a value" },
	{ "case:", INVAL, 0, "needs a value" },
	{ "file:*.go", INVAL, 5, "bad regular expression in file:" },
	{ "repo:(a", INVAL, 5, "unclosed group" },
	{ "repo:\"(\" x", INVAL, 6, "unclosed group" },
	{ "file:\"a b(\"", INVAL, 9, "unclosed group" },
	{ "foo file:a\\", INVAL, 10, "incomplete escape" },
	{ "lang:pyhton", INVAL, 5, "unknown language" },
	{ "lang:\"no such\"", INVAL, 6, "unknown language" },
	{ "foo:bar", INVAL, 0, "unknown filter \"foo\"" },
	{ "a:b", INVAL, 0, "unknown filter \"a\"" },
	{ "key:value", INVAL, 0, "unknown filter \"key\"" },
	{ "fil:x", INVAL, 0, "did you mean \"file\"?" },
	{ "repos:x", INVAL, 0, "did you mean \"repo\"?" },
	{ "lnag:go", INVAL, 0, "did you mean \"lang\"?" },
	{ "conut:5 x", INVAL, 0, "did you mean \"count\"?" },
	{ "patterntyp:regexp x", INVAL, 0, "did you mean \"patterntype\"?" },
	{ "foo -fiel:x", INVAL, 5, "did you mean \"file\"?" },
	{ "x (Foo:bar)", INVAL, 3, "unknown filter \"Foo\"" },
	{ "fork:yes x", UNSUP, 0, "not supported" },
	{ "x -archived:yes", UNSUP, 3, "not supported" },
	{ "context:global x", UNSUP, 0, "not supported" },
	/* case: */
	{ "foo case:yes", OK, 0, LIT("foo") " case:yes" DEF },
	{ "foo case:no", OK, 0, LIT("foo") DEF },
	{ "foo CASE:YES", OK, 0, LIT("foo") " case:yes" DEF },
	{ "foo case:maybe", INVAL, 9, "yes or no" },
	{ "-case:yes foo", INVAL, 0, "cannot be negated" },
	/* type: */
	{ "foo type:file", OK, 0, LIT("foo") DEF },
	{ "foo type:path", OK, 0, LIT("foo") " type:path" DEF },
	{ "repo:x type:repo", OK, 0, REPO("x") " type:repo" DEF },
	{ "foo type:symbol", OK, 0, LIT("foo") " type:symbol" DEF },
	{ "type:symbol /^parse_/ lang:c", OK, 0,
	  AND2(RE("^parse_"), "(filter lang \"C\")") " type:symbol" DEF },
	{ "type:symbol", INVAL, 0, "needs a pattern or a filter" },
	{ "foo type:diff", UNSUP, 9, "commit indexing" },
	{ "foo type:blob", INVAL, 9, "file, path, repo or symbol" },
	/* count: */
	{ "foo count:10", OK, 0, LIT("foo") " count:10 timeout:10s" },
	{ "foo count:all", OK, 0, LIT("foo") " count:all timeout:10s" },
	{ "foo count:ALL", OK, 0, LIT("foo") " count:all timeout:10s" },
	{ "foo count:1000000", OK, 0, LIT("foo") " count:1000000 timeout:10s" },
	{ "foo count:\"7\"", OK, 0, LIT("foo") " count:7 timeout:10s" },
	{ "foo count:007", OK, 0, LIT("foo") " count:7 timeout:10s" },
	{ "foo count:1000001", LIMIT, 10, "at most 1000000" },
	{ "foo count:99999999999999999999999", LIMIT, 10, "at most" },
	{ "foo count:0", INVAL, 10, "at least 1" },
	{ "foo count:-1", INVAL, 10, "expects a number" },
	{ "foo count:1e3", INVAL, 10, "expects a number" },
	/* timeout: (Go durations) */
	{ "foo timeout:5s", OK, 0, LIT("foo") " count:500 timeout:5s" },
	{ "foo timeout:500ms", OK, 0, LIT("foo") " count:500 timeout:500ms" },
	{ "foo timeout:1m", OK, 0, LIT("foo") " count:500 timeout:1m" },
	{ "foo timeout:1.5s", OK, 0, LIT("foo") " count:500 timeout:1s500ms" },
	{ "foo timeout:.5s", OK, 0, LIT("foo") " count:500 timeout:500ms" },
	{ "foo timeout:30s500ms", OK, 0, LIT("foo") " count:500 timeout:30s500ms" },
	{ "foo timeout:100us", OK, 0, LIT("foo") " count:500 timeout:1ms" },
	{ "foo timeout:5\xc2\xb5s", OK, 0, LIT("foo") " count:500 timeout:1ms" },
	{ "foo timeout:1500000ns", OK, 0, LIT("foo") " count:500 timeout:2ms" },
	{ "foo timeout:1m30s", OK, 0, LIT("foo") " count:500 timeout:1m" },
	{ "foo timeout:2h", OK, 0, LIT("foo") " count:500 timeout:1m" },
	{ "foo timeout:99999999999999999999999h", OK, 0, LIT("foo") " count:500 timeout:1m" },
	{ "foo timeout:0s", INVAL, 12, "longer than 0" },
	{ "foo timeout:5", INVAL, 12, "missing unit" },
	{ "foo timeout:5x", INVAL, 13, "unknown unit" },
	{ "foo timeout:1s5", INVAL, 14, "missing unit" },
	{ "foo timeout:s", INVAL, 12, "expected a number" },
	{ "foo timeout:-5s", INVAL, 12, "expected a number" },
	{ "foo timeout:\"\"", INVAL, 13, "expected a duration" },
	{ "foo timeout:\"2s\"", OK, 0, LIT("foo") " count:500 timeout:2s" },
	/* select: */
	{ "foo select:repo", OK, 0, LIT("foo") " select:repo" DEF },
	{ "foo select:file", OK, 0, LIT("foo") " select:file" DEF },
	{ "foo select:symbol", OK, 0, LIT("foo") " type:symbol select:symbol" DEF },
	{ "foo select:symbol.function", OK, 0,
	  LIT("foo") " type:symbol select:symbol.function" DEF },
	{ "foo select:Symbol.STRUCT", OK, 0, LIT("foo") " type:symbol select:symbol.struct" DEF },
	{ "foo select:symbol.namespace type:symbol", OK, 0,
	  LIT("foo") " type:symbol select:symbol.namespace" DEF },
	{ "foo select:symbol.func", INVAL, 18, "unknown kind \"func\"; the kinds are function," },
	{ "foo select:symbol.", INVAL, 17, "unknown kind" },
	{ "foo select:symbol.other", INVAL, 18, "unknown kind" },
	{ "foo select:symbols", INVAL, 11, "repo, file, symbol or symbol.KIND" },
	{ "foo select:symbol type:path", INVAL, 0, "cannot be combined with type:path" },
	{ "foo select:content", INVAL, 11, "repo, file, symbol" },
	/* rev: and repo:NAME@REV */
	{ "foo rev:main", OK, 0, LIT("foo") " rev:main" DEF },
	{ "foo revision:v1.2.3", OK, 0, LIT("foo") " rev:v1.2.3" DEF },
	{ "foo rev:feature/x-1", OK, 0, LIT("foo") " rev:feature/x-1" DEF },
	{ "foo rev:0123abcdef", OK, 0, LIT("foo") " rev:0123abcdef" DEF },
	{ "repo:foo@main bar", OK, 0, AND2(REPO("foo"), LIT("bar")) " rev:main" DEF },
	{ "repo:\"foo@v1.0\" bar", OK, 0, AND2(REPO("foo"), LIT("bar")) " rev:v1.0" DEF },
	{ "repo:foo@", INVAL, 8, "needs a revision" },
	{ "repo:@main x", INVAL, 5, "before '@'" },
	{ "repo:foo@a..b", INVAL, 10, "'..'" },
	{ "repo:foo@a:b x", OK, 0, AND2(REPO("foo"), LIT("x")) " rev:a:b" DEF },
	{ "repo:foo@a: x", INVAL, 10, "cannot be empty" },
	{ "repo:foo@*release/* x", OK, 0, AND2(REPO("foo"), LIT("x")) " rev:*release/*" DEF },
	/* An empty glob at the very end is reported at its '*', inside the query (fuzz_query). */
	{ "x repo:foo@*", INVAL, 11, "1 to 255 bytes" },
	{ "x rev:a:*", INVAL, 8, "1 to 255 bytes" },
	{ "-repo:foo@main bar", INVAL, 9, "cannot name a revision" },
	{ "rev:-x foo", INVAL, 4, "start with '-'" },
	{ "rev:a~1 foo", INVAL, 5, "~ ^ :" },
	{ "rev:a^ foo", INVAL, 5, "~ ^ :" },
	{ "rev:a? foo", INVAL, 5, "~ ^ :" },
	{ "rev:a* foo", INVAL, 5, "~ ^ :" },
	{ "rev:a[ foo", INVAL, 5, "~ ^ :" },
	{ "rev:a\\b foo", INVAL, 5, "~ ^ :" },
	{ "rev:\"a b\" foo", INVAL, 6, "spaces" },
	{ "rev:\"a\tb\" foo", INVAL, 6, "control" },
	{ "rev:a.lock foo", INVAL, 5, ".lock" },
	{ "rev:a.lock/b foo", INVAL, 5, ".lock" },
	{ "rev:.a foo", INVAL, 4, "start with '.'" },
	{ "rev:a/.b foo", INVAL, 6, "start with '.'" },
	{ "rev:a/ foo", INVAL, 5, "'/'" },
	{ "rev:/a foo", INVAL, 4, "'/'" },
	{ "rev:a//b foo", INVAL, 5, "'//'" },
	{ "rev:a. foo", INVAL, 5, "end with '.'" },
	{ "rev:@ foo", INVAL, 4, "'@' alone" },
	{ "rev:a@{b} foo", INVAL, 5, "'@{'" },
	{ "-rev:main foo", INVAL, 0, "cannot be negated" },
	{ "rev:main repo:foo@dev x", INVAL, 17, "more than once" },
	{ "repo:foo@dev rev:main x", INVAL, 13, "more than once" },
	{ "(repo:foo@dev x)", INVAL, 9, "inside parentheses" },
	{ "x OR repo:foo@dev", OK, 0, "(or (pattern literal \"x\") (filter repo \"foo\")) rev:dev count:500 timeout:10s" },
	/* patterntype: */
	{ "foo patterntype:regexp", OK, 0, RE("foo") " patterntype:regexp" DEF },
	{ "foo.*bar patterntype:regexp", OK, 0, RE("foo.*bar") " patterntype:regexp" DEF },
	{ "patternType:regexp a+ b", OK, 0, AND2(RE("a+"), RE("b")) " patterntype:regexp" DEF },
	{ "patterntype:regex a+", OK, 0, RE("a+") " patterntype:regexp" DEF },
	{ "patterntype:regexp \"a.b\"", OK, 0, LIT("a.b") " patterntype:regexp" DEF },
	{ "patterntype:regexp /a b/", OK, 0, RE("a b") " patterntype:regexp" DEF },
	{ "patterntype:regexp foo(a|b)", OK, 0, RE("foo(a|b)") " patterntype:regexp" DEF },
	{ "patterntype:regexp (a|b)", OK, 0, RE("a|b") " patterntype:regexp" DEF },
	{ "patterntype:regexp foo(", INVAL, 22, "unclosed group" },
	{ "foo( patterntype:regexp", INVAL, 3, "unclosed group" },
	{ "patterntype:literal foo.*bar", OK, 0, LIT("foo.*bar") DEF },
	{ "patterntype:literal /foo/", OK, 0, LIT("/foo/") DEF },
	{ "patterntype:literal /a b/", OK, 0, AND2(LIT("/a"), LIT("b/")) DEF },
	{ "/a b/ patterntype:literal", OK, 0, AND2(LIT("/a"), LIT("b/")) DEF },
	{ "patterntype:literal \"a b\" c", OK, 0, AND2(LIT("a b"), LIT("c")) DEF },
	{ "patterntype:keyword /a/ b", OK, 0, AND2(RE("a"), LIT("b")) DEF },
	{ "patterntype:standard /a/", OK, 0, RE("a") DEF },
	{ "patterntype:structural x", UNSUP, 12, "structural" },
	{ "patterntype:foo x", INVAL, 12, "keyword, standard, regexp or literal" },
	{ "patterntype:literal a patterntype:literal b", INVAL, 22, "more than once" },
	{ "patterntype:regexp a patterntype:literal b", INVAL, 21, "more than once" },
	{ "/x patterntype:regexp / patterntype:literal", INVAL, 15, "conflicts" },
	/* Settings are query-wide: top level (beside OR too), not under NOT, once. */
	{ "(foo case:yes)", INVAL, 5, "inside parentheses" },
	{ "((count:5)) x", INVAL, 2, "inside parentheses" },
	{ "NOT count:5 foo", INVAL, 4, "under NOT" },
	{ "foo OR count:5", INVAL, 4, "needs a term on each side" },
	{ "count:5 foo OR bar", OK, 0, OR2(LIT("foo"), LIT("bar")) " count:5 timeout:10s" },
	{ "foo OR bar count:5", OK, 0, OR2(LIT("foo"), LIT("bar")) " count:5 timeout:10s" },
	{ "foo OR bar patterntype:regexp", OK, 0, OR2(RE("foo"), RE("bar")) " patterntype:regexp" DEF },
	{ "(foo OR bar) count:5", OK, 0, OR2(LIT("foo"), LIT("bar")) " count:5 timeout:10s" },
	{ "foo AND count:5", OK, 0, LIT("foo") " count:5 timeout:10s" },
	{ "case:yes case:no foo", INVAL, 9, "case: is given more than once" },
	{ "count:5 x count:5", INVAL, 10, "more than once" },
	{ "count:5", INVAL, 0, "needs a pattern or a filter" },
	{ "count:5 case:yes timeout:1s", INVAL, 0, "needs a pattern or a filter" },
	{ "repo:foo count:5", OK, 0, REPO("foo") " count:5 timeout:10s" },
	{ "foo type:path select:file case:yes count:all timeout:1s rev:dev", OK, 0,
	  LIT("foo") " type:path select:file case:yes rev:dev count:all timeout:1s" },
	/* Boolean operators and precedence. */
	{ "a OR b", OK, 0, OR2(LIT("a"), LIT("b")) DEF },
	{ "a or b", OK, 0, OR2(LIT("a"), LIT("b")) DEF },
	{ "a Or b", OK, 0, OR2(LIT("a"), LIT("b")) DEF },
	{ "a AND b", OK, 0, AND2(LIT("a"), LIT("b")) DEF },
	{ "a and b", OK, 0, AND2(LIT("a"), LIT("b")) DEF },
	{ "a b OR c", OK, 0, OR2(AND2(LIT("a"), LIT("b")), LIT("c")) DEF },
	{ "a OR b c", OK, 0, OR2(LIT("a"), AND2(LIT("b"), LIT("c"))) DEF },
	{ "a OR b OR c", OK, 0, OR3(LIT("a"), LIT("b"), LIT("c")) DEF },
	{ "a AND b OR c AND d", OK, 0,
	  OR2(AND2(LIT("a"), LIT("b")), AND2(LIT("c"), LIT("d"))) DEF },
	{ "a AND b c", OK, 0, AND3(LIT("a"), LIT("b"), LIT("c")) DEF },
	{ "(a OR b) c", OK, 0, AND2(OR2(LIT("a"), LIT("b")), LIT("c")) DEF },
	{ "a (b OR c)", OK, 0, AND2(LIT("a"), OR2(LIT("b"), LIT("c"))) DEF },
	{ "(a OR b) (c OR d)", OK, 0,
	  AND2(OR2(LIT("a"), LIT("b")), OR2(LIT("c"), LIT("d"))) DEF },
	{ "(a) (b)", OK, 0, AND2(LIT("a"), LIT("b")) DEF },
	{ "((a))", OK, 0, LIT("a") DEF },
	{ "(a b) c", OK, 0, AND3(LIT("a"), LIT("b"), LIT("c")) DEF },
	{ "a OR (b OR c)", OK, 0, OR3(LIT("a"), LIT("b"), LIT("c")) DEF },
	{ "(a OR b) OR c", OK, 0, OR3(LIT("a"), LIT("b"), LIT("c")) DEF },
	{ "a (b (c d))", OK, 0, "(and (pattern literal \"a\") (pattern literal \"b\") "
				"(pattern literal \"c\") (pattern literal \"d\"))" DEF },
	{ "a (b OR c d)", OK, 0, AND2(LIT("a"), OR2(LIT("b"), AND2(LIT("c"), LIT("d")))) DEF },
	{ "NOT a b", OK, 0, AND2(NOT(LIT("a")), LIT("b")) DEF },
	{ "a NOT b", OK, 0, AND2(LIT("a"), NOT(LIT("b"))) DEF },
	{ "a not b", OK, 0, AND2(LIT("a"), NOT(LIT("b"))) DEF },
	{ "a AND NOT b", OK, 0, AND2(LIT("a"), NOT(LIT("b"))) DEF },
	{ "a NOT NOT b", OK, 0, AND2(LIT("a"), LIT("b")) DEF },
	{ "NOT NOT a", OK, 0, LIT("a") DEF },
	{ "a NOT (b OR c)", OK, 0, AND2(LIT("a"), NOT(OR2(LIT("b"), LIT("c")))) DEF },
	{ "a NOT b OR c", OK, 0, OR2(AND2(LIT("a"), NOT(LIT("b"))), LIT("c")) DEF },
	{ "a -file:x OR b", OK, 0, OR2(AND2(LIT("a"), NOT(FILE_("x"))), LIT("b")) DEF },
	{ "repo:x OR repo:y foo", OK, 0, OR2(REPO("x"), AND2(REPO("y"), LIT("foo"))) DEF },
	{ "repo:x", OK, 0, REPO("x") DEF },
	{ "(repo:a OR repo:b) /x/", OK, 0, AND2(OR2(REPO("a"), REPO("b")), RE("x")) DEF },
	{ "NOT-x", OK, 0, LIT("NOT-x") DEF },
	{ "ORACLE ANDROID", OK, 0, AND2(LIT("ORACLE"), LIT("ANDROID")) DEF },
	{ "OR(b)", OK, 0, LIT("OR(b)") DEF },
	/* Something must be positive. */
	{ "NOT a", INVAL, 0, "not negated" },
	{ "NOT (a OR b)", INVAL, 0, "not negated" },
	{ "-file:x", INVAL, 0, "not negated" },
	{ "-file:x -repo:y", INVAL, 0, "not negated" },
	{ "NOT a NOT b", INVAL, 0, "not negated" },
	{ "a OR NOT b", INVAL, 5, "each side of OR" },
	{ "NOT a OR b", INVAL, 0, "each side of OR" },
	{ "a OR (b OR -file:x)", INVAL, 11, "each side of OR" },
	{ "NOT NOT NOT a", INVAL, 0, "not negated" },
	/* Syntax errors. */
	{ "", INVAL, 0, "empty" },
	{ "   ", INVAL, 0, "empty" },
	{ "NOT", INVAL, 0, "needs a term after it" },
	{ "foo NOT", INVAL, 4, "\"NOT\" needs a term after it" },
	{ "foo not", INVAL, 4, "\"not\" needs a term after it" },
	{ "a NOT )", INVAL, 2, "needs a term after it" },
	{ "a OR", INVAL, 2, "\"OR\" needs a term on each side" },
	{ "OR a", INVAL, 0, "\"OR\" needs a term on each side" },
	{ "a OR OR b", INVAL, 2, "needs a term on each side" },
	{ "a AND", INVAL, 2, "\"AND\" needs a term on each side" },
	{ "AND a", INVAL, 0, "needs a term on each side" },
	{ "a and and b", INVAL, 2, "\"and\" needs a term on each side" },
	{ "a AND OR b", INVAL, 2, "\"AND\" needs" },
	{ "a OR AND b", INVAL, 5, "\"AND\" needs" },
	{ "(a OR) b", INVAL, 3, "\"OR\" needs" },
	{ "(OR a)", INVAL, 1, "\"OR\" needs" },
	{ "()", INVAL, 0, "empty parentheses" },
	{ "a ( ) b", INVAL, 2, "empty parentheses" },
	{ "(", INVAL, 0, "never closed" },
	{ "(a", INVAL, 0, "never closed" },
	{ "((a)", INVAL, 0, "never closed" },
	{ "a (b", INVAL, 2, "never closed" },
	{ "(a (b c)", INVAL, 0, "never closed" },
	{ ")", INVAL, 0, "closes nothing" },
	{ "a)", INVAL, 1, "closes nothing" },
	{ "(a))", INVAL, 3, "closes nothing" },
	{ "foo( bar)", INVAL, 8, "closes nothing" },
	{ "\"\" OR a", INVAL, 0, "empty" },
	{ "a\xff", INVAL, 1, "UTF-8" },
	{ "\xc3", INVAL, 0, "UTF-8" },
	{ "ab \xed\xa0\x80", INVAL, 3, "UTF-8" },
	{ "\xe0\x80\x80", INVAL, 0, "UTF-8" },
	/* Nesting: 16 levels are fine, 17 are not. */
	{ "((((((((((((((((a))))))))))))))))", OK, 0, LIT("a") DEF },
	{ "(((((((((((((((((a)))))))))))))))))", LIMIT, 16, "nested more than 16" },
	{ "x (((((((((((((((((a", LIMIT, 18, "nested more than 16" },
};

static void parser_table(void **state)
{
	struct buf b;
	int failures = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct query *q = NULL;
		size_t len = strlen(c->query);
		int err;

		error_clear();
		err = query_parse(&q, c->query, len);
		if (err != c->err) {
			fprintf(stderr, "case %zu <%s>: got %d (%s), want %d\n", i, c->query, err,
				error_last(), c->err);
			failures++;
		} else if (err < 0) {
			if (error_pos() != c->pos) {
				fprintf(stderr, "case %zu <%s>: error \"%s\" at %zu, want %zu\n", i,
					c->query, error_last(), error_pos(), c->pos);
				failures++;
			}
			if (c->describe && !strstr(error_last(), c->describe)) {
				fprintf(stderr, "case %zu <%s>: error \"%s\" lacks \"%s\"\n", i,
					c->query, error_last(), c->describe);
				failures++;
			}
			/* Every position points into the query (or at 0 for an empty one). */
			if (error_pos() >= (len ? len : 1)) {
				fprintf(stderr, "case %zu <%s>: position %zu outside\n", i, c->query,
					error_pos());
				failures++;
			}
			if (q) {
				fprintf(stderr, "case %zu <%s>: error but a query\n", i, c->query);
				failures++;
			}
		} else {
			buf_reset(&b);
			assert_int_equal(query_describe(&b, q), 0);
			if (c->describe && strcmp(b.ptr, c->describe) != 0) {
				fprintf(stderr, "case %zu <%s>:\n  got  %s\n  want %s\n", i, c->query,
					b.ptr, c->describe);
				failures++;
			}
		}
		query_free(q);
	}
	buf_dispose(&b);
	fprintf(stderr, "%zu cases\n", sizeof(cases) / sizeof(cases[0]));
	assert_int_equal(failures, 0);
}

static struct query *parse_ok(const char *text)
{
	struct query *q = NULL;
	int err = query_parse(&q, text, strlen(text));

	if (err != 0)
		fail_msg("<%s>: %d %s", text, err, error_last());
	return q;
}

static void defaults_are_sourcegraphs(void **state)
{
	struct query *q = parse_ok("foo");

	(void)state;
	assert_int_equal(q->type, QT_FILE);
	assert_int_equal(q->select, QS_NONE);
	assert_false(q->is_case_sensitive);
	assert_int_equal(q->count, QUERY_DEFAULT_COUNT);
	assert_int_equal(q->timeout_ms, QUERY_DEFAULT_TIMEOUT_MS);
	assert_null(q->rev);
	assert_int_equal(q->default_kind, QP_LITERAL);
	assert_int_equal(q->n_warnings, 0);
	query_free(q);
}

static void nodes_carry_values_and_positions(void **state)
{
	const char *text = "repo:\"a b\" -file:x (c OR /d/)";
	struct query *q = parse_ok(text);
	const struct qnode *r = q->root, *n;

	(void)state;
	assert_int_equal(r->op, QN_AND);
	assert_int_equal(r->n_sub, 3);
	assert_int_equal(r->pos, 0);
	assert_int_equal(r->len, strlen(text) - 1); /* the closing ')' is not part of the OR */
	n = r->sub[0];
	assert_int_equal(n->op, QN_FILTER);
	assert_int_equal(n->filter_kind, QF_REPO);
	assert_string_equal(n->value, "a b");
	assert_int_equal(n->value_len, 3);
	assert_int_equal(n->pos, 0);
	assert_int_equal(n->len, 10);
	assert_false(n->is_negated);
	n = r->sub[1];
	assert_int_equal(n->op, QN_NOT);
	assert_int_equal(n->pos, 11);
	assert_int_equal(n->len, 7);
	assert_int_equal(n->n_sub, 1);
	assert_int_equal(n->sub[0]->op, QN_FILTER);
	assert_int_equal(n->sub[0]->filter_kind, QF_FILE);
	assert_false(n->sub[0]->is_negated);
	n = r->sub[2];
	assert_int_equal(n->op, QN_OR);
	assert_int_equal(n->pos, 20);
	assert_int_equal(n->sub[0]->pos, 20);
	assert_int_equal(n->sub[1]->op, QN_PATTERN);
	assert_int_equal(n->sub[1]->pattern_kind, QP_REGEXP);
	assert_string_equal(n->sub[1]->value, "d");
	assert_int_equal(n->sub[1]->pos, 25);
	assert_int_equal(n->sub[1]->len, 3);
	query_free(q);
}

static void lang_filter_has_language_id(void **state)
{
	struct query *q = parse_ok("lang:go");

	(void)state;
	assert_int_equal(q->root->op, QN_FILTER);
	assert_int_equal(q->root->filter_kind, QF_LANG);
	assert_int_not_equal(q->root->lang, 0);
	assert_string_equal(q->root->value, "go");
	query_free(q);
}

static void settings_fill_the_query(void **state)
{
	struct query *q = parse_ok("x case:yes count:42 timeout:2s select:repo type:path "
				   "rev:main patterntype:regexp");

	(void)state;
	assert_true(q->is_case_sensitive);
	assert_int_equal(q->count, 42);
	assert_int_equal(q->timeout_ms, 2000);
	assert_int_equal(q->select, QS_REPO);
	assert_int_equal(q->type, QT_PATH);
	assert_string_equal(q->rev, "main");
	assert_int_equal(q->default_kind, QP_REGEXP);
	query_free(q);
	q = parse_ok("x count:all");
	assert_int_equal(q->count, 0);
	query_free(q);
}

static void rev_and_clamped_timeout_warn(void **state)
{
	struct query *q = parse_ok("repo:a@dev x timeout:5m");

	(void)state;
	assert_string_equal(q->rev, "dev");
	assert_int_equal(q->timeout_ms, QUERY_MAX_TIMEOUT_MS);
	/* Branches are indexed now: rev: gives no warning, the clamped timeout does. */
	assert_int_equal(q->n_warnings, 1);
	assert_non_null(strstr(q->warnings[0], "timeout:"));
	query_free(q);
}

static void long_revision_is_refused(void **state)
{
	char text[300];
	struct query *q = NULL;

	(void)state;
	memcpy(text, "x rev:", 6);
	memset(text + 6, 'a', 255);
	text[6 + 255] = 0;
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	assert_int_equal(strlen(q->rev), 255);
	query_free(q);
	q = NULL;
	text[6 + 255] = 'a';
	text[6 + 256] = 0;
	assert_int_equal(query_parse(&q, text, strlen(text)), TRAWL_EINVAL);
	assert_int_equal(error_pos(), 6 + 255);
	assert_non_null(strstr(error_last(), "255 bytes"));
	assert_null(q);
}

static void too_long_query_is_refused(void **state)
{
	char *text = malloc(QUERY_MAX_LEN + 2);
	struct query *q = NULL;

	(void)state;
	memset(text, 'a', QUERY_MAX_LEN + 1);
	text[QUERY_MAX_LEN + 1] = 0;
	assert_int_equal(query_parse(&q, text, QUERY_MAX_LEN + 1), TRAWL_ELIMIT);
	assert_int_equal(error_pos(), QUERY_MAX_LEN);
	assert_null(q);
	assert_int_equal(query_parse(&q, text, QUERY_MAX_LEN), 0);
	query_free(q);
	free(text);
}

static void too_many_atoms_are_refused(void **state)
{
	struct buf b;
	struct query *q = NULL;
	size_t last = 0;

	(void)state;
	buf_init(&b, 1 << 20);
	for (int i = 0; i < QUERY_MAX_ATOMS; i++)
		assert_int_equal(buf_printf(&b, "%sa%d", i ? " " : "", i), 0);
	assert_int_equal(query_parse(&q, b.ptr, b.len), 0);
	assert_int_equal(q->root->n_sub, QUERY_MAX_ATOMS);
	query_free(q);
	q = NULL;
	last = b.len + 1;
	assert_int_equal(buf_puts(&b, " -file:x"), 0);
	assert_int_equal(query_parse(&q, b.ptr, b.len), TRAWL_ELIMIT);
	assert_int_equal(error_pos(), last);
	assert_null(q);
	/* Settings are not atoms. */
	buf_reset(&b);
	for (int i = 0; i < QUERY_MAX_ATOMS; i++)
		assert_int_equal(buf_printf(&b, "%sa%d", i ? " OR " : "", i), 0);
	assert_int_equal(buf_puts(&b, ""), 0);
	assert_int_equal(query_parse(&q, b.ptr, b.len), 0);
	query_free(q);
	buf_dispose(&b);
}

static void long_not_chains_do_not_recurse(void **state)
{
	struct buf b;
	struct query *q = NULL;

	(void)state;
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "x"), 0);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_puts(&b, " NOT"), 0);
	assert_int_equal(buf_puts(&b, " y"), 0);
	assert_int_equal(query_parse(&q, b.ptr, b.len), 0);
	assert_int_equal(q->root->op, QN_AND);
	assert_int_equal(q->root->sub[1]->op, QN_PATTERN); /* an even number cancels out */
	query_free(q);
	buf_dispose(&b);
}

static void nul_byte_is_refused(void **state)
{
	struct query *q = NULL;

	(void)state;
	assert_int_equal(query_parse(&q, "ab\0c", 4), TRAWL_EINVAL);
	assert_int_equal(error_pos(), 2);
	assert_int_equal(query_parse(&q, "", 0), TRAWL_EINVAL);
	assert_int_equal(query_parse(&q, NULL, 0), TRAWL_EINVAL);
}

static void free_and_describe_accept_edges(void **state)
{
	struct query *q;
	struct buf b;

	(void)state;
	query_free(NULL);
	q = parse_ok("\"a\\\\\x01\"");
	buf_init(&b, 1 << 20);
	assert_int_equal(query_describe(&b, q), 0);
	assert_string_equal(b.ptr, "(pattern literal \"a\\\\\\x01\")" DEF);
	/* A full buffer is ELIMIT, not a crash. */
	buf_dispose(&b);
	buf_init(&b, 8);
	assert_int_equal(query_describe(&b, q), TRAWL_ELIMIT);
	buf_dispose(&b);
	query_free(q);
}

/*
 * Errors never point outside the query: every prefix of a set of tricky queries, and random
 * splices of their pieces, either parse or fail with a message and a position inside.
 */
static void error_positions_stay_inside(void **state)
{
	static const char *const pieces[] = {
		"foo", "\"a b\"", "'x", "\"", "/re/", "/(/", "/", "(", ")", "OR", "AND", "NOT",
		"repo:", "repo:x@", "repo:a@b", "-file:", "file:\"", "lang:", "lang:zz", "count:",
		"count:0", "timeout:", "timeout:1", "rev:", "rev:a..", "case:", "type:", "select:",
		"patterntype:", "patterntype:regexp", "patterntype:literal", "content:\"\"", "x:y",
		"\\", "std::", "http://", "-", "@", "[", "(a|b", " ", "\t", "\xc3\xa9", "\xff",
	};
	const size_t n_pieces = sizeof(pieces) / sizeof(pieces[0]);
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	char text[256];
	int failures = 0;

	(void)state;
	for (int iter = 0; iter < 5000; iter++) {
		size_t len = 0, n = 1 + iter % 6;
		struct query *q = NULL;
		int err;

		for (size_t k = 0; k < n; k++) {
			const char *p;
			size_t l;

			rng ^= rng << 13;
			rng ^= rng >> 7;
			rng ^= rng << 17;
			p = pieces[rng % n_pieces];
			l = strlen(p);
			if (len + l + 1 >= sizeof(text))
				break;
			memcpy(text + len, p, l);
			len += l;
			if ((rng >> 32) % 3)
				text[len++] = ' ';
		}
		text[len] = 0;
		for (size_t cut = 0; cut <= len; cut++) {
			error_clear();
			err = query_parse(&q, text, cut);
			if (err < 0 &&
			    (error_last()[0] == 0 || error_pos() >= (cut ? cut : 1))) {
				fprintf(stderr, "<%.*s>: \"%s\" at %zu\n", (int)cut, text,
					error_last(), error_pos());
				failures++;
			}
			query_free(q);
			q = NULL;
		}
	}
	assert_int_equal(failures, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parser_table),
		cmocka_unit_test(defaults_are_sourcegraphs),
		cmocka_unit_test(nodes_carry_values_and_positions),
		cmocka_unit_test(lang_filter_has_language_id),
		cmocka_unit_test(settings_fill_the_query),
		cmocka_unit_test(rev_and_clamped_timeout_warn),
		cmocka_unit_test(long_revision_is_refused),
		cmocka_unit_test(too_long_query_is_refused),
		cmocka_unit_test(too_many_atoms_are_refused),
		cmocka_unit_test(long_not_chains_do_not_recurse),
		cmocka_unit_test(nul_byte_is_refused),
		cmocka_unit_test(free_and_describe_accept_edges),
		cmocka_unit_test(error_positions_stay_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
