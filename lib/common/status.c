/*
 * status.c — names of the EMBER_E* status codes, one X-macro table.
 */
#include "common.h"

#include "../../include/ember.h"

#define EM_STATUS_TABLE(X)                                                                         \
    X(EMBER_OK, "EMBER_OK: success")                                                               \
    X(EMBER_EINVAL, "EMBER_EINVAL: invalid argument")                                              \
    X(EMBER_ENOMEM, "EMBER_ENOMEM: out of memory")                                                 \
    X(EMBER_EMISUSE, "EMBER_EMISUSE: API misuse (bad handle, thread or state)")                    \
    X(EMBER_ECLOSED, "EMBER_ECLOSED: the database is closed or closing")                           \
    X(EMBER_EREPLY, "EMBER_EREPLY: the command replied with an error")                             \
    X(EMBER_EWRONGTYPE, "EMBER_EWRONGTYPE: the key holds the wrong kind of value")                 \
    X(EMBER_ENOTINT, "EMBER_ENOTINT: value is not an integer or out of range")                     \
    X(EMBER_ENOTFLOAT, "EMBER_ENOTFLOAT: value is not a valid float")                              \
    X(EMBER_EOVERFLOW, "EMBER_EOVERFLOW: the operation would overflow")                            \
    X(EMBER_ESYNTAX, "EMBER_ESYNTAX: syntax error")                                                \
    X(EMBER_ENOTFOUND, "EMBER_ENOTFOUND: no such key or element (nil reply)")                      \
    X(EMBER_ENOKEY, "EMBER_ENOKEY: no such key")                                                   \
    X(EMBER_EABORT, "EMBER_EABORT: transaction discarded because of previous errors")              \
    X(EMBER_EUNKNOWN, "EMBER_EUNKNOWN: unknown command")                                           \
    X(EMBER_EARITY, "EMBER_EARITY: wrong number of arguments")                                     \
    X(EMBER_ERANGE, "EMBER_ERANGE: index or value out of range")                                   \
    X(EMBER_EIO, "EMBER_EIO: I/O error")                                                           \
    X(EMBER_EBUSY, "EMBER_EBUSY: resource busy")                                                   \
    X(EMBER_ENOTSUP, "EMBER_ENOTSUP: not supported in this configuration")                         \
    X(EMBER_ECORRUPT, "EMBER_ECORRUPT: malformed or corrupt input")                                \
    X(EMBER_EDROPPED, "EMBER_EDROPPED: subscriber dropped (buffer limit exceeded)")

const char *ember__status_name(int status)
{
    switch (status) {
#define EM_STATUS_CASE(code, text)                                                                 \
    case code:                                                                                     \
        return text;
        EM_STATUS_TABLE(EM_STATUS_CASE)
#undef EM_STATUS_CASE
    default:
        return "unknown ember status";
    }
}
