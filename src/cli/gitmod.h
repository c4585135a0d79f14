/*
 * The git support module: src/git and src/build/build_git.c are built into trawl-git.so, next
 * to the trawl binary, and loaded by `trawl index` only. libgit2 brings a dozen libraries whose
 * loading cost every trawl process ~2.4 ms at start; searches never pay it now.
 *
 * gitmod_init() loads the module and starts libgit2 (EIO naming the file when it cannot);
 * then the gitmod.* pointers call the build_git_* functions of build/build.h and the gitmirror_*
 * functions of git/mirror.h.
 */
#ifndef TRAWL_CLI_GITMOD_H
#define TRAWL_CLI_GITMOD_H

#include "build/build.h"
#include "git/mirror.h"

struct gitmod {
	void (*shutdown)(void);
	enum build_git_kind (*probe)(const char *root);
	int (*branches)(char ***out, size_t *n, size_t *n_invalid, const char *root,
			char *const *patterns, size_t n_patterns);
	void (*names_free)(char **names);
	bool (*branch_pattern_valid)(const char *pattern);
	int (*build_repo)(struct build_stats *st, struct build_git_result *res,
			  const char *index_dir, const char *name, const char *root,
			  char *const *patterns, size_t n_patterns, const struct build_opts *o,
			  const struct build_git_limits *lim, build_progress_fn progress, void *arg);
	void (*result_free)(struct build_git_result *res);
	int (*url_check)(char **normalized, const char *url, const struct gurl_policy *p);
	int (*mirror_sync)(struct gitmirror_result *res, const char *dir, const char *url,
			   const struct gitmirror_opts *o);
};

extern struct gitmod gitmod;

int gitmod_init(void);

#endif
