/* The client API's JSON: strict reading of request fields, and the views as answers. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "chain/base58.h"
#include "node/api_internal.h"
#include "util/encoding.h"
#include "util/timefmt.h"

#define JSON_U64_MAX ((uint64_t)INT64_MAX) /* jansson integers are signed 64-bit */

/* The message is the field's name followed by what is wrong with it. */
static bool bad_set(api_bad *bad, const char *field, const char *what)
{
    bad->field = field;
    snprintf(bad->msg, sizeof(bad->msg), "%s%s", field, what);
    return false;
}

bool api_json_fields(const json_t *o, const char *const *allowed, api_bad *bad)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v)
    {
        (void)v;
        bool ok = false;
        for (size_t i = 0; allowed[i] != NULL && !ok; i++)
            ok = strcmp(allowed[i], k) == 0;
        if (!ok) {
            /* The name is echoed only when it is short, printable ASCII. */
            bool plain = strlen(k) <= 64;
            for (const char *c = k; *c != '\0' && plain; c++)
                plain = *c >= 0x20 && *c < 0x7f && *c != '"' && *c != '\\';
            bad->field = plain ? k : NULL; /* valid while o lives: answered before it is freed */
            snprintf(bad->msg, sizeof(bad->msg), "unknown field%s%s%s", plain ? " \"" : "", plain ? k : "",
                     plain ? "\"" : "");
            return false;
        }
    }
    return true;
}

static const json_t *get(const json_t *o, const char *field, bool required, bool *present, api_bad *bad,
                         bool *ok)
{
    const json_t *v = json_object_get(o, field);
    *ok = true;
    if (present != NULL)
        *present = v != NULL && !json_is_null(v);
    if (v == NULL || json_is_null(v)) {
        if (required)
            *ok = bad_set(bad, field, " is required");
        return NULL;
    }
    return v;
}

static bool u64_value(const json_t *v, const char *field, uint64_t *out, api_bad *bad)
{
    if (json_is_real(v))
        return bad_set(bad, field, " must be an integer, not a fraction");
    if (!json_is_integer(v))
        return bad_set(bad, field, " must be a JSON integer");
    json_int_t i = json_integer_value(v);
    if (i < 0)
        return bad_set(bad, field, " must not be negative");
    *out = (uint64_t)i;
    return true;
}

bool api_json_u64(const json_t *o, const char *field, bool required, bool *present, uint64_t *out, api_bad *bad)
{
    bool ok;
    const json_t *v = get(o, field, required, present, bad, &ok);
    if (v == NULL)
        return ok;
    return u64_value(v, field, out, bad);
}

bool api_json_pubkey(const json_t *o, const char *field, bool required, bool *present, tcn_chain_pubkey *out,
                     api_bad *bad)
{
    bool ok;
    const json_t *v = get(o, field, required, present, bad, &ok);
    if (v == NULL)
        return ok;
    if (!json_is_string(v))
        return bad_set(bad, field, " must be a base58 public key (string)");
    tcn_error e;
    if (tcn_chain_base58_decode_exact(json_string_value(v), json_string_length(v), out->b, sizeof(out->b), field,
                                      &e) != TCN_OK)
        return bad_set(bad, field, " is not a base58 32-byte public key");
    return true;
}

bool api_json_time(const json_t *o, const char *field, bool required, bool *present, uint64_t *out, api_bad *bad)
{
    bool ok;
    const json_t *v = get(o, field, required, present, bad, &ok);
    if (v == NULL)
        return ok;
    if (!json_is_string(v))
        return bad_set(bad, field, " must be an RFC 3339 time (string)");
    int64_t ms;
    tcn_error e;
    if (tcn_time_parse_rfc3339(json_string_value(v), &ms, &e) != TCN_OK || ms < 0)
        return bad_set(bad, field, " is not an RFC 3339 time after 1970");
    *out = (uint64_t)ms;
    return true;
}

bool api_json_policy(const json_t *v, const char *field, tcn_key_policy *out, api_bad *bad)
{
    static const char *const allowed[] = {"destinations", "max_per_payout", "max_per_day", "windows", NULL};
    memset(out, 0, sizeof(*out));
    if (!json_is_object(v))
        return bad_set(bad, field, " must be an object");
    if (!api_json_fields(v, allowed, bad)) {
        bad->field = field;
        return false;
    }
    const json_t *d = json_object_get(v, "destinations");
    if (d != NULL && !json_is_null(d)) {
        if (!json_is_array(d) || json_array_size(d) > TCN_POLICY_DESTINATIONS_MAX)
            return bad_set(bad, field, ".destinations must be an array of at most 8 public keys");
        for (size_t i = 0; i < json_array_size(d); i++) {
            const json_t *k = json_array_get(d, i);
            tcn_error e;
            if (!json_is_string(k) || tcn_chain_base58_decode_exact(json_string_value(k), json_string_length(k),
                                                                   out->destinations[i].b, TCN_CHAIN_PUBKEY_LEN,
                                                                   "destination", &e) != TCN_OK)
                return bad_set(bad, field, ".destinations holds something that is not a base58 public key");
        }
        out->n_destinations = (uint8_t)json_array_size(d);
    }
    if (!api_json_u64(v, "max_per_payout", false, NULL, &out->max_per_payout, bad) ||
        !api_json_u64(v, "max_per_day", false, NULL, &out->max_per_day, bad)) {
        bad->field = field;
        return false;
    }
    const json_t *w = json_object_get(v, "windows");
    if (w != NULL && !json_is_null(w)) {
        if (!json_is_array(w) || json_array_size(w) > TCN_POLICY_WINDOWS_MAX)
            return bad_set(bad, field, ".windows must be an array of at most 4 windows");
        for (size_t i = 0; i < json_array_size(w); i++) {
            static const char *const wf[] = {"start_min", "end_min", NULL};
            const json_t *x = json_array_get(w, i);
            uint64_t s = 0, e = 0;
            if (!json_is_object(x) || !api_json_fields(x, wf, bad) ||
                !api_json_u64(x, "start_min", true, NULL, &s, bad) ||
                !api_json_u64(x, "end_min", true, NULL, &e, bad) || s > 1439 || e > 1439)
                return bad_set(bad, field, ".windows: each is {\"start_min\",\"end_min\"}, minutes 0..1439");
            out->windows[i].start_min = (uint16_t)s;
            out->windows[i].end_min = (uint16_t)e;
        }
        out->n_windows = (uint8_t)json_array_size(w);
    }
    return true;
}

static const char *const role_names[] = {"none", "user", "lp", "operator"};

bool api_role_parse(const char *s, tcn_role *out)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (tcn_role)i;
            return true;
        }
    return false;
}

const char *api_role_name(tcn_role r)
{
    return (unsigned)r < sizeof(role_names) / sizeof(role_names[0]) ? role_names[r] : "?";
}

/* ---- answers ------------------------------------------------------------------------ */

json_t *api_u64_json(uint64_t v)
{
    if (v <= JSON_U64_MAX)
        return json_integer((json_int_t)v);
    char s[24];
    snprintf(s, sizeof(s), "%" PRIu64, v);
    return json_string(s);
}

json_t *api_pubkey_json(const tcn_chain_pubkey *pk)
{
    char s[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(pk, s);
    return json_string(s);
}

json_t *api_time_json(uint64_t ms)
{
    char s[40];
    tcn_time_format_rfc3339_ms((int64_t)ms, s, sizeof(s));
    return json_string(s);
}

json_t *api_policy_json(const tcn_key_policy *p)
{
    json_t *o = json_object(), *d = json_array(), *w = json_array();
    if (o == NULL || d == NULL || w == NULL)
        goto fail;
    for (uint8_t i = 0; i < p->n_destinations; i++)
        if (json_array_append_new(d, api_pubkey_json(&p->destinations[i])) != 0)
            goto fail;
    for (uint8_t i = 0; i < p->n_windows; i++)
        if (json_array_append_new(w, json_pack("{s:i,s:i}", "start_min", (int)p->windows[i].start_min, "end_min",
                                               (int)p->windows[i].end_min)) != 0)
            goto fail;
    if (json_object_set_new(o, "destinations", d) != 0) {
        d = NULL;
        goto fail;
    }
    d = NULL;
    if (json_object_set_new(o, "windows", w) != 0) {
        w = NULL;
        goto fail;
    }
    w = NULL;
    if (json_object_set_new(o, "max_per_payout", api_u64_json(p->max_per_payout)) != 0 ||
        json_object_set_new(o, "max_per_day", api_u64_json(p->max_per_day)) != 0)
        goto fail;
    return o;
fail:
    json_decref(o);
    json_decref(d);
    json_decref(w);
    return NULL;
}

json_t *api_key_json(const tcn_key_view *k)
{
    bool share = k->kind == TCN_KEY_FROST_SHARE;
    return json_pack("{s:o,s:s,s:o,s:o,s:o,s:o}", "key_id", api_u64_json(k->id), "kind",
                     share ? "frost_share" : "ed25519_seed", "pubkey", share ? json_null() : api_pubkey_json(&k->pubkey),
                     "owner", api_pubkey_json(&k->owner), "policy", api_policy_json(&k->policy), "swap_id",
                     k->swap_id != 0 ? api_u64_json(k->swap_id) : json_null());
}

static const char *swap_state_name(uint8_t s)
{
    switch (s) {
    case TCN_SWAP_NEW:
        return "new";
    case TCN_SWAP_OPEN:
        return "open";
    case TCN_SWAP_CLOSED:
        return "closed";
    default:
        return "?";
    }
}

static const char *payout_status_name(uint8_t s)
{
    switch (s) {
    case TCN_PAYOUT_SCHEDULED:
        return "scheduled";
    case TCN_PAYOUT_INTENT:
        return "intent";
    case TCN_PAYOUT_PAID:
        return "paid";
    case TCN_PAYOUT_FAILED:
        return "failed";
    default:
        return "?";
    }
}

static json_t *payout_json(const tcn_payout_view *p)
{
    json_t *sig = json_null();
    static const tcn_chain_signature zero;
    if (!tcn_chain_signature_eq(&p->sig, &zero)) {
        char s[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
        tcn_chain_signature_to_base58(&p->sig, s);
        sig = json_string(s);
    }
    return json_pack("{s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:i}", "payout_id", api_u64_json(p->id), "status",
                     payout_status_name(p->status), "to", api_pubkey_json(&p->destination), "amount",
                     api_u64_json(p->amount), "due", api_time_json(p->due_ms), "signature", sig, "landed_slot",
                     p->landed_slot != 0 ? api_u64_json(p->landed_slot) : json_null(), "attempts",
                     (int)p->attempts);
}

json_t *api_swap_json(const tcn_state *st, const tcn_swap_view *s)
{
    json_t *payouts = json_array();
    if (payouts == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_payouts; i++) {
        tcn_payout_view p;
        uint64_t id = tcn_state_swap_payout(st, s->id, i);
        if (id != 0 && tcn_state_payout(st, id, &p) && json_array_append_new(payouts, payout_json(&p)) != 0) {
            json_decref(payouts);
            return NULL;
        }
    }
    json_t *refund = json_null(), *refund_nonce = json_null();
    if (s->refund_len > 0) {
        size_t n = tcn_b64_encoded_len(s->refund_len);
        char *b = malloc(n);
        if (b != NULL) {
            tcn_b64_encode(s->refund, s->refund_len, b, n);
            refund = json_string(b);
            free(b);
        }
        char h[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_hash_to_base58(&s->nonce_value, h);
        refund_nonce = json_string(h);
    }
    return json_pack("{s:o,s:s,s:o,s:o,s:b,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "swap_id", api_u64_json(s->id),
                     "state", swap_state_name(s->status), "amount", api_u64_json(s->amount), "balance",
                     api_u64_json(s->escrow_lamports), "funded", (int)s->funded, "escrow",
                     api_pubkey_json(&s->escrow), "nonce_account", api_pubkey_json(&s->nonce), "user",
                     api_pubkey_json(&s->user), "lp", api_pubkey_json(&s->lp), "refund_to",
                     api_pubkey_json(&s->refund_to), "deadline", api_time_json(s->deadline_ms), "created",
                     api_time_json(s->created_ms), "payouts", payouts, "refund_tx", refund, "refund_nonce",
                     refund_nonce);
}

static json_t *str_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

/* Node ids as the logs print them: 16 hex digits. */
static json_t *node_id_json(uint64_t id)
{
    char s[17];
    snprintf(s, sizeof(s), "%016" PRIx64, id);
    return json_string(s);
}

json_t *api_status_json(const tcn_api_status *s)
{
    json_t *members = json_array();
    if (members == NULL)
        return NULL;
    for (size_t i = 0; i < s->n_members && i < TCN_API_MEMBERS_MAX; i++) {
        const tcn_api_member *m = &s->members[i];
        if (json_array_append_new(members, json_pack("{s:s,s:o,s:s,s:b,s:o}", "name", m->name, "node_id",
                                                     node_id_json(m->node_id), "role", m->role, "healthy",
                                                     (int)m->healthy, "api", str_or_null(m->api))) != 0) {
            json_decref(members);
            return NULL;
        }
    }
    return json_pack("{s:s,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:o}", "name", s->name, "node_id",
                     node_id_json(s->node_id), "role", s->role, "term", api_u64_json(s->term), "leader",
                     s->has_leader ? str_or_null(s->leader_name) : json_null(), "leader_id",
                     s->has_leader ? node_id_json(s->leader_id) : json_null(), "leader_api",
                     s->has_leader ? str_or_null(s->leader_api) : json_null(), "commit_index",
                     api_u64_json(s->commit_index), "applied_index", api_u64_json(s->applied_index), "members",
                     members);
}

uint64_t api_key_by_pubkey(const tcn_state *st, const tcn_chain_pubkey *pk)
{
    tcn_key_view k;
    for (uint64_t id = 1; tcn_state_key(st, id, &k); id++)
        if (k.kind == TCN_KEY_ED25519_SEED && tcn_chain_pubkey_eq(&k.pubkey, pk))
            return id;
    return 0;
}
