/*
 * Text for a terminal. Names and contents come from repositories and may hold bytes a terminal
 * obeys rather than shows: ESC and CSI start control sequences (set the window title, move the
 * cursor, rewrite the screen), BEL rings, CR and LF move the cursor so that a file name can
 * forge a result line. Written to a terminal, such bytes are shown as escapes instead:
 *
 *   \t \n \r        tab, line feed, carriage return
 *   \xHH            any other C0 control byte (ESC is \x1b, BEL \x07), DEL (\x7f), a C1
 *                   control U+0080..U+009F (its two UTF-8 bytes, CSI is \xc2\x9b), and every
 *                   byte that is not part of valid UTF-8 (a terminal in an 8-bit locale takes
 *                   a lone 0x9b as CSI)
 *
 * Everything else, backslashes included, is copied as it is.
 */
#ifndef TRAWL_UTIL_TERM_H
#define TRAWL_UTIL_TERM_H

#include <stddef.h>

#include "util/buf.h"

enum term_text {
	TERM_RAW,     /* bytes as they are: output that is not a terminal */
	TERM_NAME,    /* a name on a terminal: every control character escaped */
	TERM_CONTENT, /* a content line on a terminal: the same, but a tab is layout and stays */
};

/* Appends s[0..len) to b as how says. ENOMEM, ELIMIT. */
int term_put(struct buf *b, const void *s, size_t len, enum term_text how);

#endif
