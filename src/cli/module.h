/*
 * Loading one of trawl's own modules (trawl-git.so, trawl-serve.so): the libraries only some
 * commands need live in them, so that every other command starts without resolving them.
 *
 * SECURITY: a module is taken from the directory of the running binary only (/proc/self/exe),
 * never a path from the environment or the working directory.
 */
#ifndef TRAWL_CLI_MODULE_H
#define TRAWL_CLI_MODULE_H

#include <stddef.h>

/*
 * Loads FILE (a name, e.g. "trawl-serve.so") from the binary's directory and returns the address
 * of its SYMBOL in *table, and the module's path in path (for the caller's messages). EIO with
 * a message naming WHAT ("the server module") and the path when it cannot. The module is never
 * unloaded.
 */
int module_load(const void **table, char *path, size_t path_len, const char *file,
		const char *symbol, const char *what);

#endif
