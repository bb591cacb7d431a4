/*
 * clocale.c — one C locale object for the process (clocale.h).
 */
#include "clocale.h"

#include <pthread.h>

static locale_t c_locale;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void make_locale(void)
{
    c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

locale_t ember__c_locale(void)
{
    pthread_once(&once, make_locale);
    return c_locale;
}
