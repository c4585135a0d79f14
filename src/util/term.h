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
 *                   a lone 0x9b as CSI), the bidi controls (U+061C, U+200E, U+200F,
 *                   U+202A..U+202E, U+2066..U+2069: they show text in another order than
 *                   it is read, "Trojan Source") and the separators U+2028, U+2029 (their
 *                   UTF-8 bytes, RLO is \xe2\x80\xae)
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

/*
 * SECURITY: the one cleaning of text from a worker or a remote (a git server's error, a
 * worker's standard error line) before it is printed, logged or stored: s escaped as
 * TERM_NAME, so one line of printable, valid UTF-8 without C0, C1 or bidi controls, in at most
 * max bytes (a longer one is cut at the start of a UTF-8 sequence and ends in "...").
 * ENOMEM, ELIMIT.
 */
int term_put_line(struct buf *b, const void *s, size_t len, size_t max);

#endif
