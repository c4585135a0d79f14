/* A progress line on a terminal; see progress.h. */
#include "cli/progress.h"

#include <stdio.h>

#include "util/clock.h"

void progress_init(struct progress *pg, bool is_on, size_t total)
{
	*pg = (struct progress){ .is_on = is_on, .total = total, .t0_ms = clock_now_ms() };
}

void progress_erase(struct progress *pg)
{
	if (!pg->is_shown)
		return;
	fputs("\r\033[K", stderr);
	fflush(stderr);
	pg->is_shown = false;
}

void progress_draw(struct progress *pg, size_t running)
{
	double now = clock_now_ms();
	char eta[32] = "";

	if (!pg->is_on || (pg->is_shown && now - pg->drawn_ms < PROGRESS_MS))
		return;
	if (pg->done && pg->done < pg->total) {
		double per = (now - pg->t0_ms) / 1000.0 / (double)pg->done;
		unsigned long long left = (unsigned long long)(per * (double)(pg->total - pg->done));

		if (left >= 3600)
			snprintf(eta, sizeof(eta), ", ETA %lluh%02llum", left / 3600, left / 60 % 60);
		else if (left >= 60)
			snprintf(eta, sizeof(eta), ", ETA %llum%02llus", left / 60, left % 60);
		else
			snprintf(eta, sizeof(eta), ", ETA %llus", left);
	}
	fflush(stdout); /* the lines before it first, when stdout is the same terminal */
	progress_erase(pg);
	fprintf(stderr, "sync: %zu/%zu done, %zu failed, %zu unchanged, %zu running%s", pg->done,
		pg->total, pg->failed, pg->unchanged, running, eta);
	fflush(stderr);
	pg->is_shown = true;
	pg->drawn_ms = now;
}

void progress_count(struct progress *pg, bool is_failed, bool is_unchanged)
{
	pg->done++;
	pg->failed += is_failed;
	pg->unchanged += is_unchanged;
}
