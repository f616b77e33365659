/* Nonce account state (solana-nonce: Versions, State, Data; bincode with
 * fixed-width little-endian integers) and durable nonce derivation. */
#include "chain/nonce.h"

#include <string.h>

#include "util/cursor.h"
#include "util/hash.h"

int tcn_chain_nonce_parse(const uint8_t *data, size_t len, bool strict, tcn_chain_nonce_state *out, tcn_error *err)
{
    tcn_cursor c;
    memset(out, 0, sizeof(*out));
    TCN_ENSURE(!strict || len == TCN_CHAIN_NONCE_ACCOUNT_BYTES, err, TCN_ERR_MALFORMED,
               "nonce account: data: %zu bytes, want %u", len, TCN_CHAIN_NONCE_ACCOUNT_BYTES);
    tcn_cur_init(&c, data, len);
    TCN_ENSURE(tcn_cur_u32le(&c, &out->version) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "nonce account: version: missing");
    TCN_ENSURE(out->version <= TCN_CHAIN_NONCE_VERSION_CURRENT, err, TCN_ERR_MALFORMED,
               "nonce account: version: %u is neither legacy (0) nor current (1)", out->version);
    TCN_ENSURE(tcn_cur_u32le(&c, &out->state) == TCN_OK, err, TCN_ERR_TRUNCATED, "nonce account: state: missing");
    TCN_ENSURE(out->state <= TCN_CHAIN_NONCE_INITIALIZED, err, TCN_ERR_MALFORMED,
               "nonce account: state: %u is neither uninitialized (0) nor initialized (1)", out->state);
    if (out->state == TCN_CHAIN_NONCE_UNINITIALIZED) {
        TCN_ENSURE(!strict, err, TCN_ERR_MALFORMED, "nonce account: state: uninitialized");
        return TCN_OK;
    }
    TCN_ENSURE(tcn_cur_copy(&c, out->authority.b, TCN_CHAIN_PUBKEY_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "nonce account: authority: ends early");
    TCN_ENSURE(tcn_cur_copy(&c, out->durable_nonce.b, TCN_CHAIN_HASH_LEN) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "nonce account: durable_nonce: ends early");
    TCN_ENSURE(tcn_cur_u64le(&c, &out->lamports_per_signature) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "nonce account: lamports_per_signature: ends early");
    return TCN_OK;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

size_t tcn_chain_nonce_serialize(const tcn_chain_nonce_state *st, uint8_t *out, size_t cap)
{
    size_t need = st->state == TCN_CHAIN_NONCE_INITIALIZED ? TCN_CHAIN_NONCE_ACCOUNT_BYTES : 8u;
    if (cap < need)
        return 0;
    put_u32(out, TCN_CHAIN_NONCE_VERSION_CURRENT);
    put_u32(out + 4, st->state);
    if (st->state != TCN_CHAIN_NONCE_INITIALIZED)
        return need;
    memcpy(out + TCN_CHAIN_NONCE_OFF_AUTHORITY, st->authority.b, TCN_CHAIN_PUBKEY_LEN);
    memcpy(out + TCN_CHAIN_NONCE_OFF_VALUE, st->durable_nonce.b, TCN_CHAIN_HASH_LEN);
    for (int i = 0; i < 8; i++)
        out[TCN_CHAIN_NONCE_OFF_LAMPORTS_PER_SIGNATURE + i] = (uint8_t)(st->lamports_per_signature >> (8 * i));
    return need;
}

void tcn_chain_durable_nonce_from_blockhash(const tcn_chain_hash *blockhash, tcn_chain_hash *out)
{
    static const char prefix[] = "DURABLE_NONCE";
    tcn_sha256_ctx h;
    tcn_sha256_init(&h);
    tcn_sha256_update(&h, prefix, sizeof(prefix) - 1);
    tcn_sha256_update(&h, blockhash->b, TCN_CHAIN_HASH_LEN);
    tcn_sha256_final(&h, out->b);
}
