/* Helpers shared by unit tests and benchmarks. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"

const char *tcn_test_testdata(void)
{
    const char *e = getenv("TCN_TESTDATA");
    return (e != NULL && *e) ? e : TCN_TESTDATA_DEFAULT;
}

const char *tcn_test_path(const char *rel)
{
    static char buf[4096];
    if (rel[0] == '/')
        snprintf(buf, sizeof(buf), "%s", rel);
    else
        snprintf(buf, sizeof(buf), "%s/%s", tcn_test_testdata(), rel);
    return buf;
}

int tcn_test_have_testdata(const char *rel)
{
    struct stat st;
    if (stat(tcn_test_path(rel), &st) == 0)
        return 1;
    fprintf(stderr,
            "\n*** SKIPPED: testdata not found at %s\n"
            "*** These tests need the real evidence in shared/testdata; set TCN_TESTDATA to its path.\n\n",
            tcn_test_path(rel));
    return 0;
}

uint8_t *tcn_test_read(const char *rel, size_t *len)
{
    uint8_t *p = NULL;
    tcn_error err;
    tcn_err_clear(&err);
    if (tcn_file_read(tcn_test_path(rel), 16 * 1024 * 1024, &p, len, &err) != TCN_OK) {
        fprintf(stderr, "cannot read %s: %s\n", tcn_test_path(rel), err.msg);
        fail();
    }
    return p;
}
