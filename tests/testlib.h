/* Helpers shared by unit tests and benchmarks: testdata location, file reads. */
#ifndef TCN_TESTS_TESTLIB_H
#define TCN_TESTS_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* ctest treats this exit code as "skipped" (SKIP_RETURN_CODE). */
#define TCN_TEST_SKIP 77

/* The testdata root: $TCN_TESTDATA, else the build-time default
 * (<repo>/../shared/testdata). */
const char *tcn_test_testdata(void);
/* Returns 1 when <testdata>/<rel> exists; otherwise prints a loud SKIPPED
 * line naming the path and the variable to set, and returns 0. */
int tcn_test_have_testdata(const char *rel);
/* Reads <testdata>/<rel> (or an absolute path); fails the test if missing. */
uint8_t *tcn_test_read(const char *rel, size_t *len);
/* Builds "<testdata>/<rel>" into a static buffer. */
const char *tcn_test_path(const char *rel);

#endif
