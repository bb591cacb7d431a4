/*
 * util.c — conversions and glob matching (see util.h).
 */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ember__str_to_ll(const char *s, size_t len, long long *out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int neg = 0;
    unsigned long long v;

    if (len == 0 || len > 20)
        return 0;
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return 1;
    }
    if (p[0] == '-') {
        neg = 1;
        i = 1;
        if (len == 1)
            return 0;
    }
    /* The first digit must be 1-9: no leading zeros, no "-0". */
    if (p[i] < '1' || p[i] > '9')
        return 0;
    v = p[i++] - '0';
    for (; i < len; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        if (v > (ULLONG_MAX / 10))
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - (p[i] - '0'))
            return 0;
        v += p[i] - '0';
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return 0;
        *out = (long long)(0 - v);
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

size_t ember__ll_to_str(char *buf, long long v)
{
    char tmp[EM_LLSTR_SIZE];
    unsigned long long u = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

/* Copies s into a NUL-terminated buffer for strto*; returns NULL if too long. */
static const char *terminated(const char *s, size_t len, char *buf, size_t cap)
{
    if (len >= cap)
        return NULL;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

/* The text Redis hands to strtod/strtold: non-empty, at most EM_MAX_LD_CHARS,
 * no leading space; copied so it is NUL-terminated. NULL if unacceptable. */
static const char *float_text(const char *s, size_t len, char *buf, size_t cap)
{
    if (len == 0 || len > EM_MAX_LD_CHARS)
        return NULL;
    const char *t = terminated(s, len, buf, cap);
    return t && !isspace((unsigned char)t[0]) ? t : NULL;
}

int ember__str_to_ld(const char *s, size_t len, long double *out)
{
    char buf[EM_MAX_LD_CHARS + 1], *end;
    const char *t = float_text(s, len, buf, sizeof buf);
    if (!t)
        return 0;
    errno = 0;
    long double v = strtold(t, &end);
    /* Whole text used; overflow and underflow to zero rejected; no NaN. */
    if ((size_t)(end - t) != len || isnan(v) ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || fpclassify(v) == FP_ZERO)))
        return 0;
    *out = v;
    return 1;
}

int ember__str_to_d(const char *s, size_t len, double *out)
{
    char buf[EM_MAX_LD_CHARS + 1], *end;
    const char *t = float_text(s, len, buf, sizeof buf);
    if (!t)
        return 0;
    errno = 0;
    double v = strtod(t, &end);
    if ((size_t)(end - t) != len || isnan(v) ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)))
        return 0;
    *out = v;
    return 1;
}

size_t ember__ld_to_str_human(char *buf, size_t cap, long double v)
{
    if (isinf(v)) {
        const char *t = v > 0 ? "inf" : "-inf";
        size_t n = strlen(t);
        if (n + 1 > cap)
            return 0;
        memcpy(buf, t, n + 1);
        return n;
    }
    int l = snprintf(buf, cap, "%.17Lf", v);
    if (l < 0 || (size_t)l + 1 > cap)
        return 0;
    /* Drop trailing zeros after the point, then the point itself. */
    if (memchr(buf, '.', (size_t)l)) {
        while (buf[l - 1] == '0')
            l--;
        if (buf[l - 1] == '.')
            l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    buf[l] = '\0';
    return (size_t)l;
}

size_t ember__d_to_str(char *buf, size_t cap, double v)
{
    int l;
    if (isinf(v))
        l = snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else if (isnan(v))
        l = snprintf(buf, cap, "nan");
    else
        l = snprintf(buf, cap, "%.17g", v);
    return l < 0 ? 0 : (size_t)l;
}

size_t ember__d_to_str_store(char *buf, size_t cap, double v)
{
    int l;
    if (isnan(v))
        l = snprintf(buf, cap, "nan");
    else if (isinf(v))
        l = snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    else if (v == 0)
        l = snprintf(buf, cap, "%s", signbit(v) ? "-0" : "0");
    else if (v > -4503599627370495.0 && v < 4503599627370496.0 && v == (double)(long long)v)
        l = snprintf(buf, cap, "%lld", (long long)v);
    else
        l = snprintf(buf, cap, "%.17g", v);
    return l < 0 ? 0 : (size_t)l;
}

/* ASCII-only case folding: Redis runs with the C locale's tolower(). */
static int fold(int c, int nocase)
{
    return nocase && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Same results as Redis's stringmatchlen, including its handling of malformed
 * patterns (an unterminated '[' class runs to the end of the pattern).
 * Why the `exhausted` short cut is correct: a '*' tries every suffix of the
 * string; if matching the rest of the pattern failed because the string ran
 * out (not because of a mismatch), then trying a shorter suffix cannot succeed
 * either, so every enclosing '*' may stop too. Recursion depth is bounded by
 * the number of '*' groups and cut at 1000 as Redis does.
 */
static int glob_impl(const unsigned char *p, size_t plen, const unsigned char *s, size_t slen,
                     int nocase, int *exhausted, int depth)
{
    if (depth > 1000)
        return 0;
    while (plen && slen) {
        switch (p[0]) {
        case '*':
            while (plen > 1 && p[1] == '*') {
                p++;
                plen--;
            }
            if (plen == 1)
                return 1;
            while (slen) {
                if (glob_impl(p + 1, plen - 1, s, slen, nocase, exhausted, depth + 1))
                    return 1;
                if (*exhausted)
                    return 0;
                s++;
                slen--;
            }
            *exhausted = 1;
            return 0;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            int neg, match = 0;
            p++;
            plen--;
            neg = plen && p[0] == '^';
            if (neg) {
                p++;
                plen--;
            }
            for (;;) {
                if (plen == 0) {
                    /* Unterminated class: step back so the shared advance
                     * below ends the pattern, as Redis does. */
                    p--;
                    plen++;
                    break;
                }
                if (p[0] == '\\' && plen >= 2) {
                    p++;
                    plen--;
                    if (p[0] == s[0]) /* Redis: an escaped class member ignores nocase */
                        match = 1;
                } else if (p[0] == ']') {
                    break;
                } else if (plen >= 3 && p[1] == '-') {
                    /* As Redis: bounds compare as signed chars ([a-\xff] is the
                     * range \xff..a) and case folds after ordering them. */
                    int lo = (signed char)p[0], hi = (signed char)p[2], c = (signed char)s[0];
                    if (lo > hi) {
                        int t = lo;
                        lo = hi;
                        hi = t;
                    }
                    lo = fold(lo, nocase);
                    hi = fold(hi, nocase);
                    c = fold(c, nocase);
                    p += 2;
                    plen -= 2;
                    if (c >= lo && c <= hi)
                        match = 1;
                } else if (fold(p[0], nocase) == fold(s[0], nocase)) {
                    match = 1;
                }
                p++;
                plen--;
            }
            if (neg)
                match = !match;
            if (!match)
                return 0;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (plen >= 2) {
                p++;
                plen--;
            }
            /* fall through */
        default:
            if (fold(p[0], nocase) != fold(s[0], nocase))
                return 0;
            s++;
            slen--;
            break;
        }
        p++;
        plen--;
        if (slen == 0) {
            while (plen && p[0] == '*') {
                p++;
                plen--;
            }
            break;
        }
    }
    return plen == 0 && slen == 0;
}

int ember__glob_match(const char *pat, size_t plen, const char *s, size_t slen, int nocase)
{
    int exhausted = 0;
    return glob_impl((const unsigned char *)pat, plen, (const unsigned char *)s, slen, nocase,
                     &exhausted, 0);
}

int ember__array_grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return -1;
    *p = np;
    *cap = nc;
    return 0;
}
