/*
 * common.h — macros shared by every layer. Depends on nothing.
 */
#ifndef EMBER_COMMON_H
#define EMBER_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define EM_LIKELY(x) __builtin_expect(!!(x), 1)
#define EM_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define EM_UNUSED(x) ((void)(x))
#define EM_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EM_CACHELINE 64
#define EM_ALIGNED_CL __attribute__((aligned(EM_CACHELINE)))

/* The status name table (X-macro) lives in status.c. */
const char *ember__status_name(int status);

#endif
