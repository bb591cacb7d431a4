/*
 * clocale.h — the "C" locale for number formatting and parsing.
 *
 * Replies must not depend on the host's LC_NUMERIC (a comma as decimal point
 * would change INCRBYFLOAT's text). The executor thread runs in the C locale
 * for its whole life; code that formats numbers on a caller's thread (inline
 * mode, typed wrappers) switches with ember__locale_enter/leave, which only
 * swap a thread-local pointer (uselocale).
 */
#ifndef EMBER_CLOCALE_H
#define EMBER_CLOCALE_H

#include <locale.h>

/* The process-wide C locale object, or (locale_t)0 if it could not be made
 * (then the enter/leave pair changes nothing). */
locale_t ember__c_locale(void);

static inline locale_t ember__locale_enter(void)
{
    locale_t c = ember__c_locale();
    return c ? uselocale(c) : (locale_t)0;
}

static inline void ember__locale_leave(locale_t old)
{
    if (old)
        uselocale(old);
}

#endif
