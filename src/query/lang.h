/*
 * Languages: which language a file is in, judged from its path alone, and which language a user
 * means by `lang:NAME`. Names are GitHub linguist's (docs/languages.md lists every language with
 * its extensions and file names, and the choices made where linguist maps one extension to
 * several languages). The path-kind rules help ranking put ordinary source before tests,
 * vendored, generated and documentation files.
 *
 * Language ids are stored in index shards, so an id never changes meaning: languages are
 * numbered in a fixed table order and new ones are appended. Id 0 is LANG_UNKNOWN.
 *
 * Every function here reads static tables only: no allocation, no locks, safe to call from any
 * number of threads at once. Returned strings are static and live for the whole program.
 */
#ifndef TRAWL_QUERY_LANG_H
#define TRAWL_QUERY_LANG_H

#include <stddef.h>
#include <stdint.h>

#define LANG_UNKNOWN 0

/*
 * The language of a file from its path (the file name and extension; no content is read).
 * Only the last '/'-separated component is looked at. `path` need not be NUL-terminated and may
 * hold any bytes. Returns LANG_UNKNOWN when nothing matches (including an empty name).
 */
uint16_t lang_detect(const char *path, size_t path_len);

/*
 * Canonical name (GitHub linguist's, e.g. "C++", "Objective-C", "Shell"); "" for LANG_UNKNOWN
 * and for any id above lang_count() (ids read from a shard are untrusted).
 */
const char *lang_name(uint16_t id);

/*
 * The language a user typed: case-insensitive, linguist names and common aliases ("cpp", "c++",
 * "golang", "js", "ts", "py", "sh", "bash", "yml", "md", "csharp", "c#"...). Returns
 * LANG_UNKNOWN when none; *suggestion (may be NULL) gets the closest known name by edit distance
 * (a canonical name, static), or NULL when nothing is close enough or the input is shorter than
 * three bytes. Names longer than LANG_NAME_MAX bytes never match.
 */
uint16_t lang_find(const char *name, size_t len, const char **suggestion);
#define LANG_NAME_MAX 64

/* Number of known languages; their ids are 1..lang_count(). */
size_t lang_count(void);

enum lang_path_kind {
	LANG_PATH_SOURCE,
	LANG_PATH_TEST,
	LANG_PATH_VENDORED,
	LANG_PATH_GENERATED,
	LANG_PATH_DOCUMENTATION,
};

/*
 * For ranking: whether a path looks like tests, vendored, generated or documentation files
 * (linguist's vendor.yml, generated.rb and documentation.yml ideas, by path only:
 * node_modules/, vendor/, third_party/, *.min.js, *_test.go, test_*.py, tests/, __tests__/,
 * *.pb.go, *_pb2.py, *.generated.*, docs/, README...). When several apply, vendored wins over
 * generated, then file-name rules (test, then documentation) over directory rules (test, then
 * documentation). The full rules are in docs/languages.md.
 */
enum lang_path_kind lang_path_kind(const char *path, size_t path_len);

/*
 * Checks the static tables (sorted, no duplicate keys, ids in range, every name found by
 * lang_find()). For tests and debug builds: returns 0, or TRAWL_ECORRUPT with the first problem
 * in error_last().
 */
int lang_check_tables(void);

#endif
