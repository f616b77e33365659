/* What the files of the client API share (api.c, api_json.c); not an API. */
#ifndef TCN_NODE_API_INTERNAL_H
#define TCN_NODE_API_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "node/api.h"
#include "state/state.h"

/* A refused request field: answered 400 {"error":{"code":"bad_request","field","message"}}. */
typedef struct api_bad {
    const char *field; /* NULL: the body as a whole */
    char msg[256];
} api_bad;

/* Each returns true when the field is acceptable (absent and optional:
 * *present false), false with bad filled. */
bool api_json_fields(const json_t *o, const char *const *allowed, api_bad *bad);
/* A JSON integer 0..2^63-1 (never a real, a string or negative). */
bool api_json_u64(const json_t *o, const char *field, bool required, bool *present, uint64_t *out, api_bad *bad);
bool api_json_pubkey(const json_t *o, const char *field, bool required, bool *present, tcn_chain_pubkey *out,
                     api_bad *bad);
/* An RFC 3339 time (string) as unix ms. */
bool api_json_time(const json_t *o, const char *field, bool required, bool *present, uint64_t *out, api_bad *bad);
/* {"destinations":[pubkey..],"max_per_payout":n,"max_per_day":n,"windows":[{"start_min","end_min"}..]} */
bool api_json_policy(const json_t *v, const char *field, tcn_key_policy *out, api_bad *bad);
bool api_role_parse(const char *s, tcn_role *out);
const char *api_role_name(tcn_role r);

/* New references (NULL when out of memory). */
json_t *api_u64_json(uint64_t v); /* an integer, or a decimal string above 2^63-1 */
json_t *api_pubkey_json(const tcn_chain_pubkey *pk);
json_t *api_time_json(uint64_t ms);
json_t *api_policy_json(const tcn_key_policy *p);
json_t *api_key_json(const tcn_key_view *k);
json_t *api_swap_json(const tcn_state *st, const tcn_swap_view *s);
json_t *api_status_json(const tcn_api_status *s);
/* The key whose public key is pk, or 0. */
uint64_t api_key_by_pubkey(const tcn_state *st, const tcn_chain_pubkey *pk);

#endif
