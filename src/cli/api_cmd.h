/* What the API commands of tcn share (status, verify, swap, payout, client,
 * keys, keygen): options, pins and key, the client, and output. */
#ifndef TCN_CLI_API_CMD_H
#define TCN_CLI_API_CMD_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/client.h"

/* The options every API command takes, for its --help text. */
#define API_CMD_COMMON_HELP                                                                             \
    "  --node URL, --dir DIR, --expect-measurement HEX, --expect-group HEX, --sim-platform-pubkey HEX,\n" \
    "  --key FILE: see 'tcn status --help'; writes are signed with the client key\n"                    \
    "  --json                       print one JSON object\n"                                          \
    "exit: 0 success, 1 refused or failed, 2 usage error\n"

#define API_CMD_FLAGS_MAX 12
#define API_CMD_POS_MAX 2

/* A command's options: the common ones, then its own value flags. */
typedef struct api_cmd {
    const char *name;  /* "swap create": for messages */
    const char *usage; /* the command's usage text */
    bool json;
    const char *node, *dir, *measurement, *group, *sim_key, *key_file;
    size_t n_flags;
    const char *flag_names[API_CMD_FLAGS_MAX]; /* its own flags, "--amount" ... (set before parsing) */
    const char *flag_values[API_CMD_FLAGS_MAX];
    size_t n_pos;
    const char *pos[API_CMD_POS_MAX];
} api_cmd;

/* Parses argv[1..argc) (argv[0] is the command word). Returns -1 when the
 * options are good, or the exit code to return (0 after --help, 2 on a
 * usage error, which it has printed). */
int api_cmd_parse(api_cmd *c, int argc, char **argv, size_t pos_min, size_t pos_max);
const char *api_cmd_flag(const api_cmd *c, const char *name); /* NULL when not given */
int api_cmd_usage_error(const api_cmd *c, const char *what);

/* The client for the command: pins and key from --dir, then the flags.
 * need_key: signed writes. allow_unverified: tcn verify. On failure prints
 * and returns the exit code (1, or 2 for usage), with *out NULL. */
int api_cmd_client(const api_cmd *c, bool need_key, bool allow_unverified, tcn_client **out);

/* Sends and judges: returns -1 when the answer's status is one of ok1/ok2
 * (then r holds it), else prints the failure (one JSON object with --json)
 * and returns 1. */
int api_cmd_call(const api_cmd *c, tcn_client *cl, const char *method, const char *path, json_t *body, bool sign,
                 long ok1, long ok2, tcn_client_response *r);
/* A failure without an answer: {"error","error_code"} and 1. */
int api_cmd_fail(const api_cmd *c, const char *code, const char *msg);

/* LAMPORTS: decimal 1..2^63-1 (0 allowed when zero_ok). */
bool api_cmd_parse_amount(const char *s, bool zero_ok, uint64_t *out);
/* RFC 3339, or +SECONDS from now: writes RFC 3339 into out. */
bool api_cmd_parse_when(const char *s, char *out, size_t cap);

int tcn_cmd_status(int argc, char **argv);
int tcn_cmd_verify(int argc, char **argv);
int tcn_cmd_swap(int argc, char **argv);
int tcn_cmd_payout(int argc, char **argv);
int tcn_cmd_client(int argc, char **argv);
int tcn_cmd_keys(int argc, char **argv);
int tcn_cmd_keygen(int argc, char **argv);

#endif
