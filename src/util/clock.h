/*
 * The one monotonic clock: deadlines, time budgets and durations in logs are all taken from it,
 * so a deadline computed in one module can be compared in another.
 */
#ifndef TRAWL_UTIL_CLOCK_H
#define TRAWL_UTIL_CLOCK_H

/* CLOCK_MONOTONIC in milliseconds (with fractions). Never fails; thread-safe. */
double clock_now_ms(void);

#endif
