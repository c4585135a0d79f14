/*
 * The shard writer records per document whether its content is valid UTF-8 (DOC_INVALID_UTF8)
 * so that search can pick its matching mode without looking; the rule is util/utf8.h's.
 */
#ifndef TRAWL_INDEX_UTF8_H
#define TRAWL_INDEX_UTF8_H

#include "util/utf8.h"

#endif
