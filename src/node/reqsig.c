/* Signed client requests: canonical string, signing, the server's checks, and the replay cache. */
#include "node/reqsig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "chain/base58.h"
#include "util/assert.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"

static const char *const check_names[TCN_REQSIG_CHECK_COUNT_] = {
    [TCN_REQSIG_OK] = "ok",
    [TCN_REQSIG_MISSING] = "missing",
    [TCN_REQSIG_MALFORMED] = "malformed",
    [TCN_REQSIG_TIMESTAMP] = "timestamp",
    [TCN_REQSIG_SIGNATURE] = "signature",
    [TCN_REQSIG_REPLAY] = "replay",
};

const char *tcn_reqsig_check_name(tcn_reqsig_check c)
{
    return (unsigned)c < TCN_REQSIG_CHECK_COUNT_ ? check_names[c] : "?";
}

int tcn_reqsig_canonical(const char *method, const char *path, const char *ts_text,
                         const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                         tcn_buf *out, tcn_error *err)
{
    uint8_t digest[TCN_SHA256_LEN];
    char digest_hex[2 * TCN_SHA256_LEN + 1], group_hex[2 * TCN_REQSIG_GROUP_ID_LEN + 1];
    tcn_sha256(body != NULL ? body : (const uint8_t *)"", body != NULL ? body_len : 0, digest);
    tcn_hex_encode(digest, sizeof(digest), digest_hex);
    tcn_hex_encode(group_id, TCN_REQSIG_GROUP_ID_LEN, group_hex);
    const char *parts[] = {TCN_REQSIG_DOMAIN, method, path, ts_text, group_hex, digest_hex};
    for (size_t i = 0; i < TCN_ARRAY_LEN(parts); i++) {
        /* A newline inside a part would let two requests share a string. */
        TCN_ENSURE(strchr(parts[i], '\n') == NULL, err, TCN_ERR_MALFORMED, "reqsig: a newline inside a field");
        if (i > 0 && tcn_buf_u8(out, '\n') != TCN_OK)
            return tcn_err_set(err, TCN_ERR_NOMEM, "reqsig: out of memory");
        if (tcn_buf_append(out, parts[i], strlen(parts[i])) != TCN_OK)
            return tcn_err_set(err, TCN_ERR_NOMEM, "reqsig: out of memory");
    }
    return TCN_OK;
}

int tcn_reqsig_sign(const uint8_t seed[TCN_CHAIN_SEED_LEN], const char *method, const char *path, uint64_t ts_ms,
                    const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                    tcn_reqsig_headers *out, tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->ts, sizeof(out->ts), "%" PRIu64, ts_ms);
    tcn_buf msg = {0};
    TCN_GUARD(tcn_reqsig_canonical(method, path, out->ts, group_id, body, body_len, &msg, err));
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES];
    crypto_sign_seed_keypair(pk, sk, seed);
    crypto_sign_detached(sig, NULL, msg.p, msg.len, sk);
    tcn_wipe(sk, sizeof(sk));
    tcn_buf_free(&msg);
    tcn_chain_pubkey k;
    tcn_chain_signature s;
    memcpy(k.b, pk, sizeof(k.b));
    memcpy(s.b, sig, sizeof(s.b));
    tcn_chain_pubkey_to_base58(&k, out->key);
    tcn_chain_signature_to_base58(&s, out->sig);
    return TCN_OK;
}

/* Decimal, digits only, no leading zero, fits in u64. */
static bool parse_ts(const char *s, uint64_t *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > TCN_REQSIG_TS_CHARS_MAX || (n > 1 && s[0] == '0'))
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

static int refuse(tcn_reqsig_check *check, tcn_reqsig_check c, tcn_error *err, int code, const char *what)
{
    *check = c;
    return tcn_err_set(err, code, "reqsig: %s: %s", tcn_reqsig_check_name(c), what);
}

int tcn_reqsig_verify(const char *key_h, const char *ts_h, const char *sig_h, const char *method, const char *path,
                      const uint8_t group_id[TCN_REQSIG_GROUP_ID_LEN], const uint8_t *body, size_t body_len,
                      uint64_t now_ms, uint64_t skew_ms, tcn_reqsig_verified *out, tcn_reqsig_check *check,
                      tcn_error *err)
{
    memset(out, 0, sizeof(*out));
    *check = TCN_REQSIG_OK;
    if (key_h == NULL)
        return refuse(check, TCN_REQSIG_MISSING, err, TCN_ERR_MALFORMED, "no " TCN_REQSIG_HEADER_KEY " header");
    if (ts_h == NULL)
        return refuse(check, TCN_REQSIG_MISSING, err, TCN_ERR_MALFORMED, "no " TCN_REQSIG_HEADER_TS " header");
    if (sig_h == NULL)
        return refuse(check, TCN_REQSIG_MISSING, err, TCN_ERR_MALFORMED, "no " TCN_REQSIG_HEADER_SIG " header");
    tcn_error e;
    if (tcn_chain_base58_decode_exact(key_h, strlen(key_h), out->key.b, sizeof(out->key.b), TCN_REQSIG_HEADER_KEY,
                                      &e) != TCN_OK)
        return refuse(check, TCN_REQSIG_MALFORMED, err, TCN_ERR_MALFORMED,
                      TCN_REQSIG_HEADER_KEY " is not a base58 32-byte key");
    if (tcn_chain_base58_decode_exact(sig_h, strlen(sig_h), out->sig.b, sizeof(out->sig.b),
                                      TCN_REQSIG_HEADER_SIG, &e) != TCN_OK)
        return refuse(check, TCN_REQSIG_MALFORMED, err, TCN_ERR_MALFORMED,
                      TCN_REQSIG_HEADER_SIG " is not a base58 64-byte signature");
    if (!parse_ts(ts_h, &out->ts_ms))
        return refuse(check, TCN_REQSIG_MALFORMED, err, TCN_ERR_MALFORMED,
                      TCN_REQSIG_HEADER_TS " is not decimal milliseconds");
    uint64_t diff = out->ts_ms > now_ms ? out->ts_ms - now_ms : now_ms - out->ts_ms;
    if (diff > skew_ms) {
        *check = TCN_REQSIG_TIMESTAMP;
        return tcn_err_set(err, TCN_ERR_EXPIRED, "reqsig: timestamp: %" PRIu64 " ms %s the node's clock (at most %" PRIu64 ")",
                           diff, out->ts_ms > now_ms ? "ahead of" : "behind", skew_ms);
    }
    tcn_buf msg = {0};
    int rc = tcn_reqsig_canonical(method, path, ts_h, group_id, body, body_len, &msg, err);
    if (rc != TCN_OK) {
        *check = TCN_REQSIG_MALFORMED;
        return rc;
    }
    bool ok = crypto_sign_verify_detached(out->sig.b, msg.p, msg.len, out->key.b) == 0;
    tcn_buf_free(&msg);
    if (!ok)
        return refuse(check, TCN_REQSIG_SIGNATURE, err, TCN_ERR_BAD_SIGNATURE,
                      "does not verify (method, path, timestamp, group id and body are all signed)");
    return TCN_OK;
}

/* ---- replay cache ----------------------------------------------------------------- */

#define CACHE_HASH_LEN 16u

typedef struct slot {
    uint8_t h[CACHE_HASH_LEN];
    uint64_t expires_ms; /* 0: empty */
} slot;

struct tcn_reqsig_cache {
    slot *slots;
    size_t mask;   /* capacity - 1; capacity a power of two >= 2 * max */
    size_t used;   /* slots not empty (live or expired) */
    size_t max;
    uint64_t skew_ms;
    uint8_t key[crypto_generichash_KEYBYTES];
};

int tcn_reqsig_cache_new(size_t entries_max, uint64_t skew_ms, tcn_reqsig_cache **out, tcn_error *err)
{
    TCN_ENSURE(entries_max > 0 && entries_max <= (SIZE_MAX / 4) / sizeof(slot), err, TCN_ERR_USAGE,
               "reqsig: cache size out of range");
    size_t cap = 2;
    while (cap < 2 * entries_max)
        cap *= 2;
    tcn_reqsig_cache *c = calloc(1, sizeof(*c));
    TCN_ENSURE(c != NULL, err, TCN_ERR_NOMEM, "reqsig: out of memory");
    c->slots = calloc(cap, sizeof(slot));
    if (c->slots == NULL) {
        free(c);
        return tcn_err_set(err, TCN_ERR_NOMEM, "reqsig: out of memory");
    }
    c->mask = cap - 1;
    c->max = entries_max;
    c->skew_ms = skew_ms;
    tcn_random_bytes(c->key, sizeof(c->key));
    *out = c;
    return TCN_OK;
}

void tcn_reqsig_cache_free(tcn_reqsig_cache *c)
{
    if (c == NULL)
        return;
    free(c->slots);
    tcn_wipe(c->key, sizeof(c->key));
    free(c);
}

size_t tcn_reqsig_cache_count(const tcn_reqsig_cache *c)
{
    return c->used;
}

static size_t home(const tcn_reqsig_cache *c, const uint8_t h[CACHE_HASH_LEN])
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | h[i];
    return (size_t)v & c->mask;
}

/* Rebuilds the table with the live entries only (linear probing has no cheap delete). */
static void sweep(tcn_reqsig_cache *c, uint64_t now_ms)
{
    size_t cap = c->mask + 1;
    slot *old = c->slots;
    slot *fresh = calloc(cap, sizeof(slot));
    if (fresh == NULL)
        return; /* keep the old table: still correct, only fuller */
    size_t used = 0;
    for (size_t i = 0; i < cap; i++) {
        if (old[i].expires_ms == 0 || old[i].expires_ms <= now_ms)
            continue;
        size_t j = home(c, old[i].h);
        while (fresh[j].expires_ms != 0)
            j = (j + 1) & c->mask;
        fresh[j] = old[i];
        used++;
    }
    free(old);
    c->slots = fresh;
    c->used = used;
}

int tcn_reqsig_cache_insert(tcn_reqsig_cache *c, const tcn_chain_signature *sig, uint64_t ts_ms, uint64_t now_ms)
{
    uint8_t h[CACHE_HASH_LEN];
    crypto_generichash(h, sizeof(h), sig->b, sizeof(sig->b), c->key, sizeof(c->key));
    /* Kept until the timestamp check would refuse the signature anyway;
     * never 0 (the empty mark). */
    uint64_t expires = (ts_ms > now_ms ? ts_ms : now_ms) + c->skew_ms + 1;
    size_t i = home(c, h);
    size_t reuse = SIZE_MAX;
    for (;;) {
        slot *s = &c->slots[i];
        if (s->expires_ms == 0)
            break;
        bool live = s->expires_ms > now_ms;
        if (sodium_memcmp(s->h, h, sizeof(h)) == 0) {
            if (live)
                return TCN_ERR_BAD_SIGNATURE;
            s->expires_ms = expires; /* an expired twin: refreshed in place */
            return TCN_OK;
        }
        if (!live && reuse == SIZE_MAX)
            reuse = i;
        i = (i + 1) & c->mask;
    }
    if (reuse != SIZE_MAX) {
        memcpy(c->slots[reuse].h, h, sizeof(h));
        c->slots[reuse].expires_ms = expires;
        return TCN_OK;
    }
    if (c->used >= c->max) {
        sweep(c, now_ms);
        if (c->used >= c->max)
            return TCN_ERR_BUSY;
        i = home(c, h);
        while (c->slots[i].expires_ms != 0)
            i = (i + 1) & c->mask;
    }
    memcpy(c->slots[i].h, h, sizeof(h));
    c->slots[i].expires_ms = expires;
    c->used++;
    return TCN_OK;
}

/* api_limits.h mirrors these (it cannot include node/limits.h). */
#include "node/limits.h"
_Static_assert(TCN_API_NAME_CHARS_MAX == TCN_NODE_NAME_CHARS_MAX, "api_limits.h: name length");
_Static_assert(TCN_API_ADDR_CHARS_MAX == TCN_NODE_ADDR_CHARS_MAX, "api_limits.h: address length");
