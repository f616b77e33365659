/* RFC 3339 timestamps: parse and format in UTC, and the wall clock. */
#ifndef TCN_UTIL_TIMEFMT_H
#define TCN_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

/* Parses "2025-07-01T00:00:00Z", "...T00:00:00.123Z" or "...+02:00" into
 * milliseconds since the epoch. Rejects anything else with a reason. */
int tcn_time_parse_rfc3339(const char *s, int64_t *out_ms, tcn_error *err) TCN_MUST_CHECK;
/* "2025-07-01T00:00:00Z" (seconds) and "2025-07-01T00:00:00.000Z" (ms). */
void tcn_time_format_rfc3339(int64_t ms, char *out, size_t cap);
void tcn_time_format_rfc3339_ms(int64_t ms, char *out, size_t cap);
/* Wall clock in ms (for the CLI and the daemon; raft/ and state/ never call it). */
int64_t tcn_time_now_ms(void);

#endif
