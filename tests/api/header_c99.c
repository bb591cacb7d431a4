/* Compiled with -std=c99 -pedantic-errors: the public header is plain C99. */
#include <ember.h>

int ember_header_c99_probe(void);
int ember_header_c99_probe(void)
{
    return EMBER_VERSION_MAJOR + EMBER_REPLY_BOOL;
}
