/*
 * A progress line on a terminal (trawl sync, docs/operations.md): "sync: 812/5000 done, 2
 * failed, 790 unchanged, 4 running, ETA 1m05s" on standard error, redrawn in place at most every
 * PROGRESS_MS, and erased before anything else is written, so that every other line stays
 * whole. Off (every call does nothing) when standard error is not a terminal, so nothing of it
 * reaches a log or a pipe. The ETA is the time per item so far times the items left.
 *
 * Not thread-safe: the one thread that writes the output draws it.
 */
#ifndef TRAWL_CLI_PROGRESS_H
#define TRAWL_CLI_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>

#define PROGRESS_MS 250.0 /* the shortest time between two drawings */

struct progress {
	bool is_on, is_shown;
	size_t total, done, failed, unchanged;
	double t0_ms, drawn_ms;
};

/* A line for total items, drawn only with is_on. */
void progress_init(struct progress *pg, bool is_on, size_t total);

/* Erases the line when it is shown: call before writing anything else. */
void progress_erase(struct progress *pg);

/* Draws the line (running: the items under way), unless it was drawn less than PROGRESS_MS ago. */
void progress_draw(struct progress *pg, size_t running);

/* One more item done. */
void progress_count(struct progress *pg, bool is_failed, bool is_unchanged);

#endif
