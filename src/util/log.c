/* logfmt logging with levels. */
#include "util/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "util/assert.h"
#include "util/timefmt.h"

static tcn_log_level g_level = TCN_LOG_INFO;
static FILE *g_stream;

void tcn_log_set_level(tcn_log_level lvl) { g_level = lvl; }
tcn_log_level tcn_log_get_level(void) { return g_level; }
void tcn_log_set_stream(FILE *f) { g_stream = f; }

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

int tcn_log_level_parse(const char *s)
{
    for (size_t i = 0; i < TCN_ARRAY_LEN(level_names); i++)
        if (strcmp(s, level_names[i]) == 0)
            return (int)i;
    return -1;
}

/* Appends with truncation; returns new position. */
static size_t put(char *out, size_t cap, size_t pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n && pos + 1 < cap; i++)
        out[pos++] = s[i];
    if (cap > 0)
        out[pos < cap ? pos : cap - 1] = '\0';
    return pos;
}

static int needs_quotes(const char *v)
{
    if (*v == '\0')
        return 1;
    for (const char *p = v; *p; p++)
        if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || (unsigned char)*p >= 0x7f)
            return 1;
    return 0;
}

static size_t put_value(char *out, size_t cap, size_t pos, const char *v)
{
    if (!needs_quotes(v))
        return put(out, cap, pos, v, strlen(v));
    pos = put(out, cap, pos, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            pos = put(out, cap, pos, esc, 2);
        } else if (*p == '\n') {
            pos = put(out, cap, pos, "\\n", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            pos = put(out, cap, pos, esc, 4);
        } else {
            pos = put(out, cap, pos, (const char *)p, 1);
        }
    }
    return put(out, cap, pos, "\"", 1);
}

size_t tcn_log_format(char *out, size_t cap, long long ts_ms, tcn_log_level lvl, const char *msg,
                      const char *const *kv, size_t nkv)
{
    TCN_ASSERT(cap > 0);
    char ts[40];
    tcn_time_format_rfc3339_ms(ts_ms, ts, sizeof(ts));
    size_t pos = 0;
    out[0] = '\0';
    pos = put(out, cap, pos, "ts=", 3);
    pos = put(out, cap, pos, ts, strlen(ts));
    pos = put(out, cap, pos, " level=", 7);
    const char *ln = level_names[lvl < TCN_LOG_OFF ? lvl : TCN_LOG_ERROR];
    pos = put(out, cap, pos, ln, strlen(ln));
    pos = put(out, cap, pos, " msg=", 5);
    pos = put_value(out, cap, pos, msg ? msg : "");
    for (size_t i = 0; i < nkv; i += 2) {
        const char *k = kv[i];
        const char *v = (i + 1 < nkv && kv[i + 1]) ? kv[i + 1] : "";
        pos = put(out, cap, pos, " ", 1);
        pos = put(out, cap, pos, k, strlen(k));
        pos = put(out, cap, pos, "=", 1);
        pos = put_value(out, cap, pos, v);
    }
    return pos;
}

void tcn_log(tcn_log_level lvl, const char *msg, ...)
{
    if (lvl < g_level || lvl >= TCN_LOG_OFF)
        return;
    const char *kv[64];
    size_t n = 0;
    va_list ap;
    va_start(ap, msg);
    const char *s;
    while ((s = va_arg(ap, const char *)) != NULL && n < TCN_ARRAY_LEN(kv))
        kv[n++] = s;
    va_end(ap);
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    char line[2048];
    tcn_log_format(line, sizeof(line), (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000, lvl, msg, kv, n);
    FILE *f = g_stream ? g_stream : stderr;
    fprintf(f, "%s\n", line);
    fflush(f);
}
