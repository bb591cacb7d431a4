/*
 * test_glob.c — ember__glob_match against results taken from a real
 * redis-server 7.0.15: each case-sensitive case was checked by storing the
 * key and running KEYS with the pattern; the nocase cases by
 * COMMAND LIST FILTERBY PATTERN (Redis matches command names without case).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/util.h"

typedef struct glob_case {
    const char *pat;
    size_t plen;
    const char *str;
    size_t slen;
    int match;
} glob_case;

/* KEYS <pat> on a database holding only <str>: was <str> returned? */
static const glob_case keys_cases[] = {
    {"*", 1, "", 0, 1},
    {"**", 2, "", 0, 0},
    {"*", 1, "abc", 3, 1},
    {"a*", 2, "a", 1, 1},
    {"a*c", 3, "abc", 3, 1},
    {"a*c", 3, "ab", 2, 0},
    {"a**c", 4, "ac", 2, 1},
    {"*a*b*", 5, "xaxbx", 5, 1},
    {"?", 1, "", 0, 0},
    {"?", 1, "a", 1, 1},
    {"??", 2, "a", 1, 0},
    {"a?c", 3, "abc", 3, 1},
    {"[abc]", 5, "b", 1, 1},
    {"[abc]", 5, "d", 1, 0},
    {"[^abc]", 6, "d", 1, 1},
    {"[^abc]", 6, "a", 1, 0},
    {"[a-c]", 5, "b", 1, 1},
    {"[c-a]", 5, "b", 1, 1},
    {"[c-a]", 5, "d", 1, 0},
    {"[a-]", 4, "-", 1, 0},
    {"[a-]", 4, "a", 1, 1},
    {"[-a]", 4, "-", 1, 1},
    {"[]", 2, "]", 1, 0},
    {"[]]", 3, "]", 1, 0},
    {"[]a]", 4, "a", 1, 0},
    {"[", 1, "a", 1, 0},
    {"a[", 2, "a", 1, 0},
    {"a[", 2, "ab", 2, 0},
    {"[ab", 3, "a", 1, 1},
    {"[ab", 3, "b", 1, 1},
    {"[ab", 3, "ab", 2, 0},
    {"[^", 2, "x", 1, 1},
    {"a[^", 3, "ab", 2, 1},
    {"[\\]]", 4, "]", 1, 1},
    {"[\\-]", 4, "-", 1, 1},
    {"[a\\-c]", 6, "b", 1, 0},
    {"\\*", 2, "*", 1, 1},
    {"\\*", 2, "a", 1, 0},
    {"\\?", 2, "?", 1, 1},
    {"\\", 1, "\\", 1, 1},
    {"a\\", 2, "a\\", 2, 1},
    {"a\\", 2, "a", 1, 0},
    {"\\[a]", 4, "[a]", 3, 1},
    {"[\\", 2, "\\", 1, 1},
    {"h[ae]llo", 8, "hello", 5, 1},
    {"h[^e]llo", 8, "hallo", 5, 1},
    {"h[^e]llo", 8, "hello", 5, 0},
    {"h[a-b]llo", 9, "hbllo", 5, 1},
    {"a\x00"
     "b",
     3,
     "a\x00"
     "b",
     3, 1},
    {"a?b", 3,
     "a\x00"
     "b",
     3, 1},
    {"*\x00"
     "",
     2,
     "x\x00"
     "",
     2, 1},
    {"[\x00"
     "]",
     3,
     "\x00"
     "",
     1, 1},
    {"[^a]", 4,
     "\xff"
     "",
     1, 1},
    {"[\x80"
     "-\xff"
     "]",
     5,
     "\xc3"
     "",
     1, 1},
    {"[a-\xff"
     "]",
     5,
     "\xc3"
     "",
     1, 0},
    {"A", 1, "a", 1, 0},
    {"[A-Z]", 5, "q", 1, 0},
    {"*?", 2, "", 0, 0},
    {"*?", 2, "x", 1, 1},
    {"?*", 2, "x", 1, 1},
    {"a*b*c*d*e*", 10, "aabbccddee", 10, 1},
    {"[a-c-e]", 7, "d", 1, 0},
    {"[a-c-e]", 7, "-", 1, 1},
    {"[]-a]", 5, "^", 1, 0},
    {"[!a]", 4, "b", 1, 0},
    {"[^]", 3, "]", 1, 1},
    {"[^]]", 4, "a", 1, 0},
    {"*[", 2, "ab", 2, 0},
    {"x*[", 3, "x", 1, 0},
};

/* COMMAND LIST FILTERBY PATTERN <pat>: was "get" listed? (nocase = 1) */
static const glob_case nocase_cases[] = {
    {"GET", 3, "get", 3, 1},     {"G?T", 3, "get", 3, 1},      {"[G]et", 5, "get", 3, 1},
    {"[A-Z]et", 7, "get", 3, 1}, {"[Z-A]et", 7, "get", 3, 1},  {"[\\G]et", 6, "get", 3, 0},
    {"[^G]et", 6, "get", 3, 0},  {"[Z-a]et", 7, "get", 3, 0},  {"[a-Z]et", 7, "get", 3, 0},
    {"\\Get", 4, "get", 3, 1},   {"[^a-z]et", 8, "get", 3, 0}, {"[F-H]ET", 7, "get", 3, 1},
};

/* KEYS short-cuts a lone '*' (it matches even the empty key, which the glob
 * itself does not); everything else goes through the glob. */
static int keys_would_match(const glob_case *c)
{
    if (c->plen == 1 && c->pat[0] == '*')
        return 1;
    return ember__glob_match(c->pat, c->plen, c->str, c->slen, 0);
}

static void test_keys_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof keys_cases / sizeof keys_cases[0]; i++) {
        const glob_case *c = &keys_cases[i];
        if (keys_would_match(c) != c->match)
            fail_msg("case %zu: pattern '%.*s' vs '%.*s': want %d", i, (int)c->plen, c->pat,
                     (int)c->slen, c->str, c->match);
    }
}

static void test_nocase_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof nocase_cases / sizeof nocase_cases[0]; i++) {
        const glob_case *c = &nocase_cases[i];
        if (ember__glob_match(c->pat, c->plen, c->str, c->slen, 1) != c->match)
            fail_msg("nocase case %zu: pattern '%.*s': want %d", i, (int)c->plen, c->pat, c->match);
    }
    /* Case-sensitive by default. */
    assert_false(ember__glob_match("GET", 3, "get", 3, 0));
    assert_true(ember__glob_match("GET", 3, "get", 3, 1));
}

static void test_star_and_empty(void **state)
{
    (void)state;
    /* The glob alone: '*' needs at least one round of its loop, so it does
     * not match the empty string (Redis's SCAN MATCH ** and KEYS ** agree). */
    assert_false(ember__glob_match("*", 1, "", 0, 0));
    assert_false(ember__glob_match("**", 2, "", 0, 0));
    assert_true(ember__glob_match("", 0, "", 0, 0));
    assert_false(ember__glob_match("", 0, "a", 1, 0));
    assert_true(ember__glob_match("a*", 2, "a", 1, 0));
}

/* Verified on redis-server with the key "ababab". */
static void test_mixed(void **state)
{
    (void)state;
    assert_true(ember__glob_match("*?*?*?*?*?*?", 12, "ababab", 6, 0));
    assert_false(ember__glob_match("*?*?*?*?*?*?*?", 14, "ababab", 6, 0));
    assert_true(ember__glob_match("[a-b]*[^a]", 10, "ababab", 6, 0));
    assert_true(ember__glob_match("\\a\\b*", 5, "ababab", 6, 0));
    assert_false(ember__glob_match("*\\", 2, "ababab", 6, 0));
}

static char *repeat(const char *unit, int n)
{
    size_t ul = strlen(unit);
    char *s = malloc(ul * (size_t)n + 1);
    assert_non_null(s);
    for (int i = 0; i < n; i++)
        memcpy(s + ul * (size_t)i, unit, ul);
    s[ul * (size_t)n] = '\0';
    return s;
}

/* Redis gives up beyond 1000 nested '*' (verified: "*a" x 1000 matches
 * "a" x 1000, x 1001 does not), and must not take exponential time. */
static void test_nesting_limit_and_blowup(void **state)
{
    (void)state;
    for (int n = 999; n <= 1002; n++) {
        char *p = repeat("*a", n), *s = repeat("a", n);
        assert_int_equal(ember__glob_match(p, strlen(p), s, strlen(s), 0), n <= 1000);
        free(p);
        free(s);
    }
    char *p = repeat("a*", 30), *s = repeat("a", 60);
    size_t pl = strlen(p);
    p = realloc(p, pl + 2);
    assert_non_null(p);
    p[pl] = 'b';
    p[pl + 1] = '\0';
    /* 30 stars against 60 characters: without the early exit this would
     * take about C(90, 30) steps. */
    assert_false(ember__glob_match(p, pl + 1, s, 60, 0));
    char *q = repeat("*a", 30);
    assert_true(ember__glob_match(q, strlen(q), s, 60, 0));
    free(p);
    free(q);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_cases),
        cmocka_unit_test(test_nocase_cases),
        cmocka_unit_test(test_star_and_empty),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_nesting_limit_and_blowup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
