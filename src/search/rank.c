/*
 * Ranking: the score of a matching file (docs/query-syntax.md, "Ranking"; the weights below) and
 * the order a ranked search scans a shard's candidates in (source files first, so that a count:
 * limit keeps the best kind of file).
 */
#include <stdlib.h>
#include <string.h>

#include "query/lang.h"
#include "search/search_int.h"

/* The weights of a file's score (docs/query-syntax.md, "Ranking", lists them). */
#define RANK_NAME_MATCH 100.0   /* a content pattern matches the file's base name */
#define RANK_WHOLE_WORD 20.0    /* a match (in the first lines) is a whole word */
#define RANK_CASE_EXACT 10.0    /* a match is a literal pattern's exact bytes */
#define RANK_PATH_MAX 200       /* path bytes past this cost no more */
#define RANK_PATH_DIVISOR 10.0  /* a point off per this many bytes of path */
#define RANK_LINES_MAX 10       /* matching lines counted (one point each), and lines examined */
/* Added by the kind of the path. */
#define RANK_DOCUMENTATION (-5.0)
#define RANK_TEST (-15.0)
#define RANK_GENERATED (-25.0)
#define RANK_VENDORED (-30.0)

/* Where a kind of path comes in a shard's scan order (and the order for an unreadable record). */
#define RANK_ORDER_UNREADABLE 5

static bool is_word_byte(uint8_t c)
{
	return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') ||
	       c >= 0x80;
}

/*
 * A match in the file name, whole-word and case-exact matches, source over documentation,
 * tests, generated and vendored code, shorter paths, and a few more matching lines.
 */
double rank_score_file(struct doc_ctx *dc, const struct file_rec *fr)
{
	struct run *r = dc->w->r;
	const char *base = memrchr(fr->path, '/', fr->path_len);
	size_t base_len;
	double score = 0;
	bool is_word = false, is_exact = false;
	static const double kind_bonus[] = {
		[LANG_PATH_SOURCE] = 0, [LANG_PATH_DOCUMENTATION] = RANK_DOCUMENTATION,
		[LANG_PATH_TEST] = RANK_TEST, [LANG_PATH_GENERATED] = RANK_GENERATED,
		[LANG_PATH_VENDORED] = RANK_VENDORED,
	};

	base = base ? base + 1 : fr->path;
	base_len = fr->path_len - (size_t)(base - fr->path);
	for (size_t i = 0; i < r->n_atoms; i++) {
		const struct atom *a = &r->atoms[i];

		if (a->kind == ATOM_CONTENT && r->type == QT_FILE &&
		    verify_text_matches(dc->w, a->pat, base, base_len)) {
			score += RANK_NAME_MATCH;
			break;
		}
	}
	for (size_t l = 0; l < fr->n_lines && l < RANK_LINES_MAX; l++) {
		const struct line_rec *lr = &dc->j->lines[fr->first_line + l];

		for (size_t k = 0; k < lr->n_ranges; k++) {
			const struct match_range *m = &dc->j->ranges[lr->first_range + k];

			if ((m->start == 0 || !is_word_byte(lr->text[m->start - 1])) &&
			    (m->end >= lr->len || !is_word_byte(lr->text[m->end])))
				is_word = true;
			for (size_t i = 0; i < r->n_atoms && !is_exact; i++) {
				const struct atom *a = &r->atoms[i];

				is_exact = a->literal && a->literal_len == m->end - m->start &&
					   memcmp(a->literal, lr->text + m->start, a->literal_len) == 0;
			}
		}
	}
	score += is_word ? RANK_WHOLE_WORD : 0;
	score += is_exact ? RANK_CASE_EXACT : 0;
	score += kind_bonus[lang_path_kind(fr->path, fr->path_len)];
	score -= (double)(fr->path_len < RANK_PATH_MAX ? fr->path_len : RANK_PATH_MAX) /
		 RANK_PATH_DIVISOR;
	score += (double)(fr->n_lines < RANK_LINES_MAX ? fr->n_lines : RANK_LINES_MAX);
	return score;
}

/* Ranking order within a shard: source first, then documentation, tests, generated, vendored. */
static uint8_t path_rank(const char *path, size_t len)
{
	static const uint8_t order[] = {
		[LANG_PATH_SOURCE] = 0, [LANG_PATH_DOCUMENTATION] = 1, [LANG_PATH_TEST] = 2,
		[LANG_PATH_GENERATED] = 3, [LANG_PATH_VENDORED] = 4,
	};

	return order[lang_path_kind(path, len)];
}

static int kind_rank(const struct shard *sh, const uint8_t *ranks, uint32_t id)
{
	struct shard_doc d;

	if (ranks)
		return ranks[id];
	if (shard_doc(&d, sh, id) < 0)
		return RANK_ORDER_UNREADABLE;
	return path_rank(d.path, d.path_len);
}

int rank_order_candidates(struct u32vec *ids, const struct shard *sh, uint32_t n_docs, bool is_all,
			  bool is_resident)
{
	size_t n = is_all ? n_docs : ids->len;
	/* Worth computing for a whole shard when kept for later queries, or ranking much of it. */
	const uint8_t *ranks = shard_path_tags(sh, path_rank, is_resident || n >= n_docs / 8);
	struct u32vec out;
	uint8_t *rank;
	int err;

	u32vec_init(&out);
	rank = malloc(n ? n : 1);
	if (!rank || (err = u32vec_reserve(&out, n)) < 0) {
		free(rank);
		return error_nomem(NULL);
	}
	for (size_t i = 0; i < n; i++)
		rank[i] = (uint8_t)kind_rank(sh, ranks, is_all ? (uint32_t)i : ids->v[i]);
	for (uint8_t k = 0; k <= RANK_ORDER_UNREADABLE; k++)
		for (size_t i = 0; i < n; i++)
			if (rank[i] == k)
				out.v[out.len++] = is_all ? (uint32_t)i : ids->v[i];
	free(rank);
	u32vec_dispose(ids);
	*ids = out;
	return 0;
}

