/*
 * The server module: src/server and src/sso are built into trawl-serve.so, next to the trawl
 * binary, and loaded by `trawl serve` only (server/serveapi.h says why and how).
 *
 * servemod_init() loads the module and checks its table, EIO naming the file when it cannot;
 * then the servemod.* pointers call the server's functions.
 */
#ifndef TRAWL_CLI_SERVEMOD_H
#define TRAWL_CLI_SERVEMOD_H

#include "server/serveapi.h"

/* The loaded module's table, copied once servemod_init() has checked it. */
extern struct trawl_serve_api servemod;

int servemod_init(void);

#endif
