/*
 * The interface of trawl-git.so, the git support module (src/git and src/build/build_git.c,
 * built apart so that libgit2 and its dozen libraries are loaded by the commands that read git
 * only). The module exports one constant table, trawl_git_api, found with a single dlsym and
 * type-checked by the compiler on both sides; the binary refuses a module whose abi differs from
 * its own TRAWL_GIT_ABI, so a stale or foreign trawl-git.so is an error, never a call through a
 * mistyped pointer.
 *
 * To add a function: add its pointer at the end of struct trawl_git_api, fill it in the table at
 * the end of build_git.c, and raise TRAWL_GIT_ABI (any change of a signature or of a type the
 * functions take raises it too).
 */
#ifndef TRAWL_BUILD_GITAPI_H
#define TRAWL_BUILD_GITAPI_H

#include <stddef.h>

#include "build/build.h"
#include "git/mirror.h"
#include "git/show.h"

#define TRAWL_GIT_ABI 4u
#define TRAWL_GIT_API_SYMBOL "trawl_git_api"

struct trawl_git_api {
	/* abi and size come first and never move: they are read before anything else is trusted. */
	unsigned abi; /* TRAWL_GIT_ABI of the module's build */
	size_t size;  /* sizeof(struct trawl_git_api) of the module's build */
	int (*init)(void);
	void (*shutdown)(void);
	enum build_git_kind (*probe)(const char *root);
	int (*branches)(char ***out, size_t *n, size_t *n_invalid, const char *root,
			char *const *patterns, size_t n_patterns);
	void (*names_free)(char **names);
	bool (*branch_pattern_valid)(const char *pattern);
	int (*build_repo)(struct build_stats *st, struct build_git_result *res, const char *index_dir,
			  const char *name, const char *root, char *const *patterns,
			  size_t n_patterns, const struct build_opts *o,
			  const struct build_git_limits *lim, build_progress_fn progress, void *arg);
	void (*result_free)(struct build_git_result *res);
	int (*url_check)(char **normalized, const char *url, const struct gurl_policy *p);
	int (*mirror_sync)(struct gitmirror_result *res, const char *dir, const char *tmp,
			   const char *url, const struct gitmirror_opts *o);
	int (*produce)(struct build_stats *st, struct build_git_output *out, const char *out_dir,
		       const char *index_dir, const struct index_repo_entry *old, const char *name,
		       const char *root, char *const *patterns, size_t n_patterns,
		       const struct build_opts *o, const struct build_git_limits *lim,
		       build_progress_fn progress, void *arg);
	int (*config_isolate)(void);
	int (*show)(struct gitshow_result *out, const char *mirror, const char *commit,
		    const char *path, uint64_t max_size, size_t max_entries);
	void (*show_dispose)(struct gitshow_result *r);
};

/* The module's table (defined in build_git.c, so only in trawl-git.so and the unit tests). */
extern const struct trawl_git_api trawl_git_api;

/*
 * Whether api, the table found in the module at path (for the message), can be used by this
 * binary: not NULL, the same abi and size, and every function present. EIO naming the path and
 * both ABI versions when not.
 */
int gitapi_check(const struct trawl_git_api *api, const char *path);

#endif
