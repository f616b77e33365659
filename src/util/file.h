/* Whole-file reads and writes with size limits. */
#ifndef TCN_UTIL_FILE_H
#define TCN_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Reads at most max bytes; a larger file is TCN_ERR_TOO_LARGE. The result
 * is malloc'd with one extra NUL byte (so text can be used as a string);
 * the caller frees it. */
int tcn_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len, tcn_error *err)
    TCN_MUST_CHECK;
/* Writes atomically (temporary file + rename) with the given mode. */
int tcn_file_write(const char *path, const void *p, size_t n, unsigned mode, tcn_error *err) TCN_MUST_CHECK;

#endif
