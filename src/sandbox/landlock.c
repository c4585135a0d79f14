/*
 * Landlock through its raw system calls (glibc has no wrappers): a ruleset that handles every
 * file-system right the running kernel's ABI knows, one rule per tree, then restrict_self.
 * The access rights newer than the build machine's <linux/landlock.h> are defined here with
 * the kernel's values, so a binary built on an older system still uses what the kernel has.
 */
#include "sandbox/confine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/error.h"

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13) /* ABI 2 */
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14) /* ABI 3 */
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#endif

/*
 * ABI 6 scoping (Linux 6.12): the ruleset attribute's third field, which the build machine's
 * header may lack, so the attribute is declared here with the kernel's layout.
 */
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

struct ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net; /* ABI 4; 0: network access is not handled (seccomp is) */
	uint64_t scoped;             /* ABI 6 */
};

#define FS_READ \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* The rights that apply to a file itself; a rule on a file may hold only these. */
#define FS_FILE \
	(LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
	 LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_IOCTL_DEV)

/* Every file-system right the ABI knows (the kernel documentation's best-effort table). */
static uint64_t fs_rights(int abi)
{
	uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0..12 */

	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		all |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return all;
}

int landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? 0 : (int)abi;
}

static int add_rule(int ruleset, uint64_t handled, const struct landlock_path *p)
{
	struct landlock_path_beneath_attr rule = { 0 };
	struct stat st;
	int fd, err = 0;

	fd = open(p->path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		if (p->is_optional && (errno == ENOENT || errno == ENOTDIR || errno == EACCES))
			return 0;
		error_set("sandbox: cannot use %s as a Landlock tree: %s", p->path, strerror(errno));
		return TRAWL_EINVAL;
	}
	rule.allowed_access = (p->is_write ? handled : FS_READ) & handled;
	if (fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode))
		rule.allowed_access &= FS_FILE;
	rule.parent_fd = fd;
	if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) < 0) {
		error_set("sandbox: Landlock refused the rule for %s: %s", p->path, strerror(errno));
		err = TRAWL_EPERM;
	}
	close(fd);
	return err;
}

int landlock_restrict(int abi, const struct landlock_path *paths, size_t n, bool scope_signals)
{
	struct ruleset_attr attr = { .handled_access_fs = fs_rights(abi) };
	/* An older kernel refuses a larger attribute it does not know: give it its own size. */
	size_t attr_len = abi >= 6 ? sizeof(attr) : offsetof(struct ruleset_attr, handled_access_net);
	int ruleset, err = 0;

	if (abi >= 6)
		attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | (scope_signals ? SCOPE_SIGNAL : 0);
	ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, attr_len, 0);
	if (ruleset < 0) {
		error_set("sandbox: cannot create a Landlock ruleset: %s", strerror(errno));
		return TRAWL_EPERM;
	}
	for (size_t i = 0; i < n; i++)
		if ((err = add_rule(ruleset, attr.handled_access_fs, &paths[i])) < 0)
			goto out;
	if (syscall(SYS_landlock_restrict_self, ruleset, 0) < 0) {
		error_set("sandbox: cannot enforce the Landlock ruleset: %s", strerror(errno));
		err = TRAWL_EPERM;
	}
out:
	close(ruleset);
	return err;
}
