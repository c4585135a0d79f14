/* Inside src/symbols only: what ctags.c and the launcher (launcher.c) share. */
#ifndef TRAWL_SYMBOLS_CTAGS_INT_H
#define TRAWL_SYMBOLS_CTAGS_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Starts `helper __ctags` (NULL: /proc/self/exe) with its standard input and output one end of
 * a new socket pair, standard error /dev/null, a fixed environment (LC_ALL=C, PATH,
 * TRAWL_CTAGS_PARENT = this process) and nothing else inherited. *fd is the other end
 * (close-on-exec), *pid the helper's. EIO, with a message.
 */
int ctags_spawn(pid_t *pid, int *fd, const char *helper);

/* The ctags program: CTAGS_PATH, or in the test builds TRAWL_TEST_CTAGS when set. */
const char *ctags_program(void);

/* What its confinement lets it read: the program (and /usr/bin, /bin for a test's script). */
size_t ctags_read_paths(const char *paths[3], const char *program);

/*
 * Confines this process as CONFINE_CTAGS (its parent must still be parent, when not 0) and
 * becomes program, in interactive mode on its standard input and output. program is compared
 * by address by the filters (confine_exec): pass ctags_program()'s pointer. Returns only on
 * failure, with a message.
 */
int ctags_exec_confined(const char *program, pid_t parent);

/*
 * Through a launcher (ctags_launcher_start): a new ctags, its id for ctags_launcher_kill, its
 * pid and our end of its socket. ELIMIT when the launcher started as many as it may, EIO.
 * Thread-safe.
 */
int ctags_launcher_spawn(struct ctags_launcher *l, uint32_t *id, pid_t *pid, int *fd);

/* Has the launcher kill (SIGKILL) and reap the ctags it started as id. Thread-safe. */
void ctags_launcher_kill(struct ctags_launcher *l, uint32_t id);

#endif
