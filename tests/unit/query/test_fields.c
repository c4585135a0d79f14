/*
 * Unit tests for the query language's fields as data: predicates written as a filter's value
 * (repo:has.path(...), repo:has.file(...), repo:has.content(...), file:has.content(...)) parse
 * into their own filters, unsupported ones are refused with a position, and the list of fields
 * the UI reads (query_fields_json) is valid JSON that matches what the parser accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "query/query.h"
#include "util/buf.h"
#include "util/error.h"

#define DEF " count:500 timeout:10s"

struct pred_case {
	const char *query;
	int err;
	size_t pos;
	const char *want; /* describe when OK; part of the message otherwise */
};

static const struct pred_case cases[] = {
	{ "repo:has.path(Makefile) foo", 0, 0,
	  "(and (filter repo:has.path \"Makefile\") (pattern literal \"foo\"))" DEF },
	{ "repo:has.path(^src/.*\\.c$)", 0, 0, "(filter repo:has.path \"^src/.*\\\\.c$\")" DEF },
	{ "-repo:has.path(Makefile) foo", 0, 0,
	  "(and (not (filter repo:has.path \"Makefile\")) (pattern literal \"foo\"))" DEF },
	{ "REPO:HAS.PATH(x)", 0, 0, "(filter repo:has.path \"x\")" DEF },
	{ "r:has.content(TODO)", 0, 0, "(filter repo:has.content \"TODO\")" DEF },
	{ "repo:has.content(a b) c", 0, 0,
	  "(and (filter repo:has.content \"a b\") (pattern literal \"c\"))" DEF },
	{ "repo:has.file(path:\\.md$ content:config)", 0, 0,
	  "(filter repo:has.file \"\\\\.md$\" \"config\")" DEF },
	{ "repo:has.file(content:x)", 0, 0, "(filter repo:has.file \"\" \"x\")" DEF },
	{ "repo:has.file(path:x)", 0, 0, "(filter repo:has.file \"x\" \"\")" DEF },
	{ "repo:has.file(path:\"a b\")", 0, 0, "(filter repo:has.file \"a b\" \"\")" DEF },
	{ "file:has.content(TODO) lang:go", 0, 0,
	  "(and (filter file:has.content \"TODO\") (filter lang \"Go\"))" DEF },
	{ "(repo:has.path(x) OR repo:y) z", 0, 0,
	  "(and (or (filter repo:has.path \"x\") (filter repo \"y\")) (pattern literal \"z\"))" DEF },
	/* Not predicates: a regex that only looks like one. */
	{ "repo:has", 0, 0, "(filter repo \"has\")" DEF },
	{ "repo:hasp", 0, 0, "(filter repo \"hasp\")" DEF },
	/* Refused, pointing at the value. */
	{ "repo:has.commit.after(1 month ago) x", TRAWL_EUNSUPPORTED, 5, "commit dates" },
	{ "repo:has.tag(v1) x", TRAWL_EUNSUPPORTED, 5, "not supported" },
	{ "file:has.owner(me) x", TRAWL_EUNSUPPORTED, 5, "not supported" },
	{ "repo:has.nothing(x)", TRAWL_EINVAL, 5, "unknown predicate" },
	{ "file:has.path(x)", TRAWL_EINVAL, 5, "unknown predicate" },
	{ "repo:has.path()", TRAWL_EINVAL, 14, "needs a regular expression" },
	{ "repo:has.path(()", TRAWL_EINVAL, 14, "bad regular expression in repo:has.path(...)" },
	{ "repo:has.file(path:[ content:x)", TRAWL_EINVAL, 19,
	  "bad regular expression in repo:has.file(...)" },
	/* Unbalanced inside: not a predicate, so the value is a regex up to the space. */
	{ "repo:has.file(path:( content:x)", TRAWL_EINVAL, 19, "bad regular expression in repo:" },
	{ "repo:has.file()", TRAWL_EINVAL, 14, "path:REGEX, content:REGEX or both" },
	{ "repo:has.file(size:1)", TRAWL_EINVAL, 14, "takes path:REGEX and content:REGEX" },
	{ "repo:has.file(path:a path:b)", TRAWL_EINVAL, 21, "takes path: once" },
	{ "repo:has.file(path:)", TRAWL_EINVAL, 19, "after path:" },
};

static void predicates_parse_into_their_filters(void **state)
{
	struct buf b;
	int failures = 0;

	(void)state;
	buf_init(&b, 1 << 16);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pred_case *c = &cases[i];
		struct query *q = NULL;
		int err;

		error_clear();
		err = query_parse(&q, c->query, strlen(c->query));
		if (err != c->err) {
			fprintf(stderr, "<%s>: got %d (%s), want %d\n", c->query, err, error_last(),
				c->err);
			failures++;
		} else if (err < 0) {
			if (error_pos() != c->pos || !strstr(error_last(), c->want)) {
				fprintf(stderr, "<%s>: \"%s\" at %zu, want \"%s\" at %zu\n", c->query,
					error_last(), error_pos(), c->want, c->pos);
				failures++;
			}
		} else {
			buf_reset(&b);
			assert_int_equal(query_describe(&b, q), 0);
			if (strcmp(b.ptr, c->want) != 0) {
				fprintf(stderr, "<%s>:\n  got  %s\n  want %s\n", c->query, b.ptr,
					c->want);
				failures++;
			}
		}
		query_free(q);
	}
	buf_dispose(&b);
	assert_int_equal(failures, 0);
}

/* A predicate's regexes reach the node: the executor compiles value and value2. */
static void has_file_keeps_both_values(void **state)
{
	struct query *q = NULL;
	const char *text = "repo:has.file(path:\\.md$ content:conf)";

	(void)state;
	assert_int_equal(query_parse(&q, text, strlen(text)), 0);
	assert_int_equal(q->root->op, QN_FILTER);
	assert_int_equal(q->root->filter_kind, QF_REPO_HAS_FILE);
	assert_string_equal(q->root->value, "\\.md$");
	assert_string_equal(q->root->value2, "conf");
	assert_int_equal(q->root->value2_len, 4);
	query_free(q);
}

static void fields_json_lists_what_the_parser_accepts(void **state)
{
	struct buf b;
	json_t *root, *fields, *f, *preds;
	json_error_t je;
	size_t i, n_filters = 0, n_settings = 0;

	(void)state;
	buf_init(&b, 1 << 16);
	assert_int_equal(query_fields_json(&b), 0);
	root = json_loadb(b.ptr, b.len, 0, &je);
	assert_non_null(root);
	fields = json_object_get(root, "fields");
	assert_true(json_is_array(fields));
	json_array_foreach(fields, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *kind = json_string_value(json_object_get(f, "kind"));
		json_t *aliases = json_object_get(f, "aliases"), *al;
		char text[128];
		struct query *q = NULL;
		size_t k;

		assert_non_null(name);
		assert_non_null(json_string_value(json_object_get(f, "description")));
		assert_true(json_is_boolean(json_object_get(f, "negatable")));
		assert_true(json_is_array(json_object_get(f, "values")));
		assert_true(strcmp(kind, "filter") == 0 || strcmp(kind, "setting") == 0);
		n_filters += strcmp(kind, "filter") == 0;
		n_settings += strcmp(kind, "setting") == 0;
		/* Every name listed is one the parser knows (not "unknown filter"). */
		snprintf(text, sizeof(text), "%s:zzz x", name);
		if (query_parse(&q, text, strlen(text)) < 0)
			assert_null(strstr(error_last(), "unknown filter"));
		query_free(q);
		json_array_foreach(aliases, k, al) {
			snprintf(text, sizeof(text), "%s:zzz x", json_string_value(al));
			q = NULL;
			if (query_parse(&q, text, strlen(text)) < 0)
				assert_null(strstr(error_last(), "unknown filter"));
			query_free(q);
		}
	}
	assert_int_equal(n_filters, 4);  /* repo, file, lang, content */
	assert_int_equal(n_settings, 7); /* case type count timeout select rev patterntype */
	preds = json_object_get(root, "predicates");
	assert_int_equal(json_array_size(preds), 4);
	json_decref(root);
	buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(predicates_parse_into_their_filters),
		cmocka_unit_test(has_file_keeps_both_values),
		cmocka_unit_test(fields_json_lists_what_the_parser_accepts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
