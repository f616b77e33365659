/* logfmt logging with levels: ts=... level=... msg="..." key=value ... */
#ifndef TCN_UTIL_LOG_H
#define TCN_UTIL_LOG_H

#include <stdio.h>

typedef enum { TCN_LOG_DEBUG = 0, TCN_LOG_INFO, TCN_LOG_WARN, TCN_LOG_ERROR, TCN_LOG_OFF } tcn_log_level;

void tcn_log_set_level(tcn_log_level lvl);
tcn_log_level tcn_log_get_level(void);
/* Where lines go (stderr by default). */
void tcn_log_set_stream(FILE *f);
/* Parses "debug", "info", "warn", "error", "off"; returns -1 otherwise. */
int tcn_log_level_parse(const char *s);

/* Logs msg with key/value string pairs, terminated by NULL:
 *   tcn_log(TCN_LOG_INFO, "peer accepted", "peer", name, "tee", "sgx", NULL);
 * Values are quoted and escaped as logfmt requires. Never pass a secret. */
void tcn_log(tcn_log_level lvl, const char *msg, ...) __attribute__((sentinel));

/* Formats one logfmt line (without newline) into out; exposed for tests. */
size_t tcn_log_format(char *out, size_t cap, long long ts_ms, tcn_log_level lvl, const char *msg,
                      const char *const *kv, size_t nkv);

#endif
