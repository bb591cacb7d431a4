/* Keeps the test-support library non-empty before any helper exists. */
int ember_testcommon_dummy;
