/*
 * state_dump.h — a canonical text image of every database of a store, built
 * through the public API only, for tests that compare states exactly
 * (snapshot round trips, point-in-time checks).
 */
#ifndef EMBER_TEST_STATE_DUMP_H
#define EMBER_TEST_STATE_DUMP_H

#include <ember.h>

/* One line per key, sorted: "db|hex(key)|type|pexpiretime|value", values in a
 * canonical order (sets and hashes sorted). views[d] addresses database d
 * (ember_db_view), d < ndb. malloc'd; NULL if a call failed. Safe inside an
 * ember_run() closure. */
char *ember_test_dump(ember_db *const *views, int ndb);

#endif
