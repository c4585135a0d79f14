/*
 * A repair of the Vectorscan library this process scans with (matcher.c applies it before its
 * first scan).
 *
 * SECURITY: Vectorscan 5.4.9 (Debian 12's, fixed upstream in 5.4.13) leaves a debugging line in
 * its reverse double-byte search (rvermicelliDoubleExecReal), run by every scan whatever the
 * build: snprintf(s, end - buf + 1, "%s", buf) into a 255-byte stack array. It reads the
 * scanned text as a C string, past its end up to a NUL byte (a fault when the text ends before
 * an unmapped page), and from 255 bytes on the fortified snprintf finds its size larger than
 * the array and aborts the process ("buffer overflow detected"): `trawl search '/(a|aa)*c/'`
 * over a line of 300 bytes ended that way. The output is never used. libhs calls snprintf
 * nowhere else but to format hs_database_info's string.
 */
#ifndef TRAWL_REGEX_HSFIX_H
#define TRAWL_REGEX_HSFIX_H

#include <stdbool.h>

/*
 * Points libhs's link to __snprintf_chk (its GOT slot) at a version that never reads a "%s"
 * argument past the size it is given and never aborts (a size larger than the buffer is cut
 * to the buffer's). Once per process; thread-safe. Returns whether libhs is repaired: false
 * when its slot or the symbol cannot be found or written (then the error detail says why).
 */
bool hsfix_apply(void);

#endif
