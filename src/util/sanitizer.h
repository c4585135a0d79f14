/*
 * Which sanitizer this unit is built with, as 0/1 constants usable in `if` and `#if`.
 * AddressSanitizer and ThreadSanitizer both reserve terabytes of address space for their
 * shadow memory (HAS_SHADOW): an address-space limit would kill the process at start-up.
 */
#ifndef TRAWL_UTIL_SANITIZER_H
#define TRAWL_UTIL_SANITIZER_H

#if defined(__SANITIZE_ADDRESS__)
#define HAS_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAS_ASAN 1
#endif
#endif
#ifndef HAS_ASAN
#define HAS_ASAN 0
#endif

#if defined(__SANITIZE_THREAD__)
#define HAS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HAS_TSAN 1
#endif
#endif
#ifndef HAS_TSAN
#define HAS_TSAN 0
#endif

#define HAS_SHADOW (HAS_ASAN || HAS_TSAN)

#endif
