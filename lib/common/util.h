/*
 * util.h — number <-> string conversions and glob matching with Redis's exact
 * rules (so replies and errors match Redis byte for byte).
 */
#ifndef EMBER_UTIL_H
#define EMBER_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Room for any int64 in decimal plus NUL. */
#define EM_LLSTR_SIZE 21
/* Longest text Redis accepts as a long double, and room to print one. */
#define EM_MAX_LD_CHARS (5 * 1024)

/* Strict decimal int64: optional '-', no '+', no spaces, no leading zeros.
 * Returns 1 and sets *out, or 0. */
int ember__str_to_ll(const char *s, size_t len, long long *out);
/* Writes v in decimal (no NUL needed by callers but one is written); returns length. */
size_t ember__ll_to_str(char *buf, long long v);
/* As Redis's getLongDoubleFromObject: strtold over the whole text, no leading
 * space, no NaN, overflow rejected. Returns 1 or 0. */
int ember__str_to_ld(const char *s, size_t len, long double *out);
/* As Redis's getDoubleFromObject (strtod). Returns 1 or 0. */
int ember__str_to_d(const char *s, size_t len, double *out);
/* Redis's "human" long double format (INCRBYFLOAT): %.17Lf without trailing
 * zeros; "inf"/"-inf". buf must hold EM_MAX_LD_CHARS. Returns length or 0. */
size_t ember__ld_to_str_human(char *buf, size_t cap, long double v);
/* Redis's reply format of a double (%.17g, "inf", "-inf", "nan"). Returns length. */
size_t ember__d_to_str(char *buf, size_t cap, double v);
/* Redis's d2string (used when a double is stored as text): integers print
 * without exponent, "-0" and "0" kept apart. Returns length. */
size_t ember__d_to_str_store(char *buf, size_t cap, double v);

/* Glob match with Redis's stringmatchlen semantics: * ? [abc] [^a] [a-z] and
 * backslash escapes; nocase folds ASCII case. Returns 1 on match. */
int ember__glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase);

/* Grows the array *p of *cap elements of elem bytes to hold at least need
 * (doubling, from 8). Returns 0, or -1 when out of memory (*p unchanged). */
int ember__array_grow(void **p, size_t *cap, size_t need, size_t elem);

#endif
