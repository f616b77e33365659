/* Unit tests for the chain codecs against vectors from outside the project:
 * base58, compact-u16, and the eight transactions of
 * shared/testdata/solana/vectors.json (encoded and signed by @solana/web3.js)
 * rebuilt from the key seeds and reproduced byte for byte — messages,
 * signatures, wire bytes; decode/re-encode; every truncation and bit flip;
 * malformed inputs refused with the field named; System instruction and
 * nonce account layouts; the rent-exempt minimums.
 *
 * With TCN_CHAIN_CORPUS_DIR set, the vectors' wire bytes are written there,
 * one file each: the seed corpus of tests/fuzz/fuzz_chain_tx.c (the bytes
 * come from testdata and are not committed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "chain/base58.h"
#include "chain/keypair.h"
#include "chain/message.h"
#include "chain/nonce.h"
#include "chain/rent.h"
#include "chain/shortvec.h"
#include "chain/system.h"
#include "chain/transaction.h"
#include "testlib.h"
#include "util/buf.h"
#include "util/encoding.h"
#include "util/hash.h"
#include "util/secmem.h"

#define VECTORS "solana/vectors.json"
#define N_CASES 8

/* ---- the vectors ------------------------------------------------------------ */

enum { PAYER, COORDINATOR, ESCROW, NONCE, ALICE, LP, DEST, N_KEYS };
static const char *const KEY_NAMES[N_KEYS] = {"payer", "coordinator", "escrow", "nonce", "alice", "lp", "dest"};

typedef struct vcase {
    const char *name;
    uint8_t msg[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t msg_len;
    tcn_chain_signature sigs[2];
    size_t n_sigs;
    uint8_t wire[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t wire_len;
    const char *nonce_data_hex; /* NULL when the vector has none */
    const char *nonce_value;
} vcase;

static json_t *g_root;
static tcn_chain_keypair *g_kp[N_KEYS];
static tcn_chain_pubkey g_pk[N_KEYS];
static vcase g_case[N_CASES];
static uint64_t g_rent0, g_rent80;

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void hex_into(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
    tcn_error err;
    assert_int_equal(tcn_hex_decode(hex, out, cap, len, &err), TCN_OK);
}

static int load(void **state)
{
    (void)state;
    size_t len;
    uint8_t *raw = tcn_test_read(VECTORS, &len);
    json_error_t jerr;
    g_root = json_loadb((const char *)raw, len, 0, &jerr);
    free(raw);
    assert_non_null(g_root);

    json_t *keys = json_object_get(g_root, "keys");
    for (int k = 0; k < N_KEYS; k++) {
        json_t *o = json_object_get(keys, KEY_NAMES[k]);
        assert_non_null(o);
        uint8_t seed[TCN_CHAIN_SEED_LEN];
        tcn_error err;
        assert_int_equal(tcn_hex_decode_exact(jstr(o, "seed_hex"), seed, sizeof(seed), &err), TCN_OK);
        assert_int_equal(tcn_chain_keypair_from_seed(seed, &g_kp[k], &err), TCN_OK);
        tcn_wipe(seed, sizeof(seed));
        g_pk[k] = *tcn_chain_keypair_pubkey(g_kp[k]);
    }
    json_t *rent = json_object_get(g_root, "rent_exempt_minimum");
    g_rent0 = (uint64_t)json_integer_value(json_object_get(rent, "0"));
    g_rent80 = (uint64_t)json_integer_value(json_object_get(rent, "80"));

    json_t *cases = json_object_get(g_root, "cases");
    assert_int_equal(json_array_size(cases), N_CASES);
    for (int i = 0; i < N_CASES; i++) {
        json_t *c = json_array_get(cases, (size_t)i);
        vcase *v = &g_case[i];
        v->name = jstr(c, "name");
        hex_into(jstr(c, "message_hex"), v->msg, sizeof(v->msg), &v->msg_len);
        json_t *sigs = json_object_get(c, "signatures_hex");
        v->n_sigs = json_array_size(sigs);
        assert_true(v->n_sigs >= 1 && v->n_sigs <= 2);
        for (size_t s = 0; s < v->n_sigs; s++) {
            tcn_error err;
            assert_int_equal(tcn_hex_decode_exact(json_string_value(json_array_get(sigs, s)), v->sigs[s].b,
                                                  TCN_CHAIN_SIGNATURE_LEN, &err),
                             TCN_OK);
        }
        const char *b64 = jstr(c, "transaction_base64");
        tcn_error err;
        assert_int_equal(tcn_b64_decode(b64, strlen(b64), v->wire, sizeof(v->wire), &v->wire_len, &err), TCN_OK);
        json_t *nd = json_object_get(c, "nonce_account_data_hex");
        v->nonce_data_hex = json_is_string(nd) ? json_string_value(nd) : NULL;
        json_t *nv = json_object_get(c, "nonce_value");
        v->nonce_value = json_is_string(nv) ? json_string_value(nv) : NULL;
    }
    return 0;
}

static int unload(void **state)
{
    (void)state;
    for (int k = 0; k < N_KEYS; k++)
        tcn_chain_keypair_free(g_kp[k]);
    json_decref(g_root);
    return 0;
}

/* ---- building the cases from their description (PROVENANCE.md) ------------- */

/* LiteSVM's first blockhash: SHA-256("genesis"); each nonce value is
 * DurableNonce::from_blockhash of the blockhash its transaction ran with. */
static void genesis_blockhash(tcn_chain_hash *out) { tcn_sha256("genesis", 7, out->b); }

static void nonce_value_n(int n, tcn_chain_hash *out)
{
    genesis_blockhash(out);
    for (int i = 0; i < n; i++) {
        tcn_chain_hash next;
        tcn_chain_durable_nonce_from_blockhash(out, &next);
        *out = next;
    }
}

/* AdvanceNonceAccount(nonce, coordinator) + Transfer(escrow -> to), fee payer escrow. */
static void nonce_transfer(tcn_chain_tx *tx, int to, uint64_t lamports, int nonce_gen)
{
    tcn_chain_ix ix[2];
    tcn_chain_hash bh;
    tcn_error err;
    tcn_chain_message m;
    nonce_value_n(nonce_gen, &bh);
    tcn_chain_system_advance_nonce(&ix[0], &g_pk[NONCE], &g_pk[COORDINATOR]);
    tcn_chain_system_transfer(&ix[1], &g_pk[ESCROW], &g_pk[to], lamports);
    assert_int_equal(tcn_chain_message_compile(&g_pk[ESCROW], &bh, ix, 2, &m, &err), TCN_OK);
    tcn_chain_tx_init(tx, &m);
    const tcn_chain_keypair *signers[2] = {g_kp[COORDINATOR], g_kp[ESCROW]}; /* any order */
    assert_int_equal(tcn_chain_tx_sign(tx, signers, 2, &err), TCN_OK);
}

static void build_case(int i, tcn_chain_tx *tx)
{
    tcn_chain_ix ix[2];
    tcn_chain_hash bh;
    tcn_error err;
    tcn_chain_message m;
    genesis_blockhash(&bh);
    switch (i) {
    case 0: /* transfer: payer -> lp 1,000,000 */
        tcn_chain_system_transfer(&ix[0], &g_pk[PAYER], &g_pk[LP], 1000000);
        assert_int_equal(tcn_chain_message_compile(&g_pk[PAYER], &bh, ix, 1, &m, &err), TCN_OK);
        tcn_chain_tx_init(tx, &m);
        assert_int_equal(tcn_chain_tx_sign(tx, (const tcn_chain_keypair *const[]){g_kp[PAYER]}, 1, &err), TCN_OK);
        return;
    case 1: { /* create_nonce_account: CreateAccount(80 bytes, rent-exempt) + InitializeNonceAccount(coordinator) */
        tcn_chain_system_create_account(&ix[0], &g_pk[PAYER], &g_pk[NONCE], tcn_chain_rent_minimum_balance(80), 80,
                                        &tcn_chain_system_program_id);
        tcn_chain_system_initialize_nonce(&ix[1], &g_pk[NONCE], &g_pk[COORDINATOR]);
        assert_int_equal(tcn_chain_message_compile(&g_pk[PAYER], &bh, ix, 2, &m, &err), TCN_OK);
        tcn_chain_tx_init(tx, &m);
        const tcn_chain_keypair *signers[2] = {g_kp[PAYER], g_kp[NONCE]};
        assert_int_equal(tcn_chain_tx_sign(tx, signers, 2, &err), TCN_OK);
        return;
    }
    case 2: /* nonce_payout */
    case 3: /* duplicate_payout: the same bytes */
        nonce_transfer(tx, DEST, 2000000, 1);
        return;
    case 4: /* stale_refund: escrow -> alice 10,000,000 against the first nonce value */
        nonce_transfer(tx, ALICE, 10000000, 1);
        return;
    case 5: /* nonce_payout_insufficient_funds: 999,000,000,000 against the second nonce value */
        nonce_transfer(tx, DEST, 999000000000ull, 2);
        return;
    case 6: /* tampered_signature: escrow -> dest 1,000,000, then one bit of signature 0 flipped */
        nonce_transfer(tx, DEST, 1000000, 2);
        return;
    case 7: /* refund_current_nonce: escrow -> alice 5,000,000 against the second nonce value */
        nonce_transfer(tx, ALICE, 5000000, 2);
        return;
    }
    fail();
}

static void encode_msg(const tcn_chain_tx *tx, tcn_buf *b)
{
    tcn_error err;
    b->len = 0;
    assert_int_equal(tcn_chain_message_encode(&tx->msg, b, &err), TCN_OK);
}

static void encode_tx(const tcn_chain_tx *tx, tcn_buf *b)
{
    tcn_error err;
    b->len = 0;
    assert_int_equal(tcn_chain_tx_encode(tx, b, &err), TCN_OK);
}

static unsigned popcount_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    unsigned d = 0;
    for (size_t i = 0; i < n; i++)
        d += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
    return d;
}

/* ---- base58 ------------------------------------------------------------------ */

/* Bitcoin Core src/test/data/base58_encode_decode.json (leading zeros, empty). */
static const struct {
    const char *hex, *b58;
} B58[] = {
    {"", ""},
    {"61", "2g"},
    {"626262", "a3gV"},
    {"636363", "aPEr"},
    {"73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
    {"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
    {"516b6fcd0f", "ABnLTmg"},
    {"bf4f89001e670274dd", "3SEo3LWLoPntC"},
    {"572e4794", "3EFU7m"},
    {"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
    {"10c8511e", "Rt5zm"},
    {"00000000000000000000", "1111111111"},
};

static void test_base58_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(B58) / sizeof(B58[0]); i++) {
        uint8_t bytes[64], back[64];
        size_t n = 0, m = 0;
        char s[128];
        tcn_error err;
        hex_into(B58[i].hex, bytes, sizeof(bytes), &n);
        assert_int_equal(tcn_chain_base58_encode(bytes, n, s, sizeof(s)), TCN_OK);
        assert_string_equal(s, B58[i].b58);
        assert_int_equal(tcn_chain_base58_decode(B58[i].b58, strlen(B58[i].b58), back, sizeof(back), &m, &err),
                         TCN_OK);
        assert_int_equal(m, n);
        assert_memory_equal(back, bytes, n);
    }
    /* The vectors' public keys, derived here from their seeds. */
    json_t *keys = json_object_get(g_root, "keys");
    for (int k = 0; k < N_KEYS; k++) {
        char s[TCN_CHAIN_BASE58_PUBKEY_CHARS];
        tcn_chain_pubkey_to_base58(&g_pk[k], s);
        assert_string_equal(s, jstr(json_object_get(keys, KEY_NAMES[k]), "pubkey"));
        tcn_chain_pubkey back;
        tcn_error err;
        assert_int_equal(tcn_chain_pubkey_from_base58(s, &back, &err), TCN_OK);
        assert_true(tcn_chain_pubkey_eq(&back, &g_pk[k]));
    }
    /* The well-known ids. */
    char s[TCN_CHAIN_BASE58_PUBKEY_CHARS];
    tcn_chain_pubkey_to_base58(&tcn_chain_system_program_id, s);
    assert_string_equal(s, "11111111111111111111111111111111");
    tcn_chain_pubkey_to_base58(&tcn_chain_sysvar_recent_blockhashes_id, s);
    assert_string_equal(s, "SysvarRecentB1ockHashes11111111111111111111");
    tcn_chain_pubkey_to_base58(&tcn_chain_sysvar_rent_id, s);
    assert_string_equal(s, "SysvarRent111111111111111111111111111111111");
    tcn_chain_pubkey_to_base58(&tcn_chain_sysvar_owner_id, s);
    assert_string_equal(s, "Sysvar1111111111111111111111111111111111111");
}

static void expect_b58_refusal(const char *s, size_t want, const char *needle)
{
    uint8_t out[64];
    tcn_error err;
    tcn_err_clear(&err);
    assert_int_not_equal(tcn_chain_base58_decode_exact(s, strlen(s), out, want, "public key", &err), TCN_OK);
    if (strstr(err.msg, needle) == NULL || strstr(err.msg, "public key") == NULL) {
        fprintf(stderr, "base58 '%s': message '%s' lacks '%s'\n", s, err.msg, needle);
        fail();
    }
}

static void test_base58_strict(void **state)
{
    (void)state;
    const char *good = "AKnL4NNf3DGWZJS6cPknBuEGnVsV4A4m5tgebLHaRSZ9";
    for (const char *bad = "0OIl+/ =\x80"; *bad; bad++) {
        char s[64];
        snprintf(s, sizeof(s), "%s", good);
        s[5] = *bad;
        expect_b58_refusal(s, 32, "not in the alphabet");
    }
    /* wrong decoded lengths: 31 and 33 leading zeros, a value above 2^256 */
    expect_b58_refusal("1111111111111111111111111111111", 32, "want 32");
    expect_b58_refusal("111111111111111111111111111111111", 32, "want 32");
    expect_b58_refusal("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", 32, "want 32");
    expect_b58_refusal("", 32, "want 32");
    /* a valid key is not a valid signature */
    expect_b58_refusal(good, 64, "want 64");
    /* too long to even try */
    char longs[200];
    memset(longs, '2', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    expect_b58_refusal(longs, 32, "exceed");
    /* a small output buffer is refused, not overrun */
    uint8_t small[4];
    size_t n;
    tcn_error err;
    assert_int_equal(tcn_chain_base58_decode(good, strlen(good), small, sizeof(small), &n, &err), TCN_ERR_MALFORMED);
    char tiny[10];
    assert_int_equal(tcn_chain_base58_encode(g_pk[0].b, 32, tiny, sizeof(tiny)), TCN_ERR_USAGE);
    /* signatures: 64 bytes round trip */
    char sb[TCN_CHAIN_BASE58_SIGNATURE_CHARS];
    tcn_chain_signature sig;
    tcn_chain_signature_to_base58(&g_case[0].sigs[0], sb);
    assert_int_equal(tcn_chain_signature_from_base58(sb, &sig, &err), TCN_OK);
    assert_true(tcn_chain_signature_eq(&sig, &g_case[0].sigs[0]));
}

/* Expected orders computed with Node 20 (ICU 78.2):
 * a.localeCompare(b, 'en', web3.js's options {caseFirst: 'lower', ...}). */
static const struct {
    const char *a, *b;
    int order;
} COLLATE[] = {
    {"aB", "Ab", -1},   {"aB", "ab", 1},    {"Ab", "ab", 1},       {"AB", "aB", 1},     {"B", "a", 1},
    {"Z", "y", 1},      {"a", "B", -1},     {"9", "a", -1},        {"9", "A", -1},      {"1", "11", -1},
    {"z", "11", 1},     {"Zz", "zZ", 1},    {"abc", "aBc", -1},    {"abC", "aBc", -1},  {"AbC", "aBC", 1},
    {"abcD", "abcd1", -1}, {"Abcd", "abcD", 1}, {"x", "X", -1},    {"xY", "Xy", -1},    {"qZ2", "Qz1", 1},
    {"GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB", "EdmxWPmx2WH6WgFfTdu9xfkYf3k1g5wD1zccTVySEEh1", 1},
    {"8SFqwqnq4whPhs8icwHA2hQg3hUoN1qrCLK1SBx3WKwe", "EdmxWPmx2WH6WgFfTdu9xfkYf3k1g5wD1zccTVySEEh1", -1},
    {"SysvarRent111111111111111111111111111111111", "SysvarRecentB1ockHashes11111111111111111111", 1},
    {"11111111111111111111111111111111", "SysvarRecentB1ockHashes11111111111111111111", -1},
};

static int sign_of(int v) { return v < 0 ? -1 : v > 0 ? 1 : 0; }

static void test_base58_collate(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(COLLATE) / sizeof(COLLATE[0]); i++) {
        assert_int_equal(sign_of(tcn_chain_base58_collate(COLLATE[i].a, COLLATE[i].b)), COLLATE[i].order);
        assert_int_equal(sign_of(tcn_chain_base58_collate(COLLATE[i].b, COLLATE[i].a)), -COLLATE[i].order);
        assert_int_equal(tcn_chain_base58_collate(COLLATE[i].a, COLLATE[i].a), 0);
    }
}

/* ---- compact-u16 ------------------------------------------------------------ */

static void test_shortvec(void **state)
{
    (void)state;
    static const struct {
        uint16_t v;
        uint8_t bytes[3];
        unsigned n;
    } OK[] = {
        {0, {0x00}, 1},          {1, {0x01}, 1},          {127, {0x7f}, 1},          {128, {0x80, 0x01}, 2},
        {255, {0xff, 0x01}, 2},  {16383, {0xff, 0x7f}, 2}, {16384, {0x80, 0x80, 0x01}, 3},
        {65535, {0xff, 0xff, 0x03}, 3},
    };
    tcn_buf b = {0};
    tcn_error err;
    for (size_t i = 0; i < sizeof(OK) / sizeof(OK[0]); i++) {
        b.len = 0;
        assert_int_equal(tcn_chain_shortvec_write(&b, OK[i].v), TCN_OK);
        assert_int_equal(b.len, OK[i].n);
        assert_int_equal(tcn_chain_shortvec_len(OK[i].v), OK[i].n);
        assert_memory_equal(b.p, OK[i].bytes, OK[i].n);
    }
    /* every value round trips through its minimal encoding */
    for (uint32_t v = 0; v <= 0xffff; v++) {
        b.len = 0;
        assert_int_equal(tcn_chain_shortvec_write(&b, (uint16_t)v), TCN_OK);
        tcn_cursor c;
        uint16_t got;
        tcn_cur_init(&c, b.p, b.len);
        assert_int_equal(tcn_chain_shortvec_read(&c, &got, "x", &err), TCN_OK);
        assert_int_equal(got, v);
        assert_int_equal(tcn_cur_remaining(&c), 0);
    }
    tcn_buf_free(&b);
    static const struct {
        uint8_t bytes[3];
        unsigned n;
        const char *needle;
    } BAD[] = {
        {{0x80, 0x00}, 2, "not minimal"},       {{0x80, 0x80, 0x00}, 3, "not minimal"},
        {{0xff, 0x80, 0x00}, 3, "not minimal"}, {{0xff, 0xff, 0x04}, 3, "exceeds 65535"},
        {{0x80, 0x80, 0x80}, 3, "third byte"},  {{0x80}, 1, "ends after 1"},
        {{0xff, 0xff}, 2, "ends after 2"},      {{0}, 0, "ends after 0"},
    };
    for (size_t i = 0; i < sizeof(BAD) / sizeof(BAD[0]); i++) {
        tcn_cursor c;
        uint16_t got = 7;
        tcn_err_clear(&err);
        tcn_cur_init(&c, BAD[i].bytes, BAD[i].n);
        assert_int_not_equal(tcn_chain_shortvec_read(&c, &got, "field.len", &err), TCN_OK);
        assert_non_null(strstr(err.msg, BAD[i].needle));
        assert_non_null(strstr(err.msg, "field.len"));
        assert_int_equal(c.off, 0); /* a failed read does not move */
        assert_int_equal(got, 7);
    }
}

/* ---- the vectors, byte for byte -------------------------------------------- */

static void test_vectors_reproduced(void **state)
{
    (void)state;
    tcn_buf b = {0};
    for (int i = 0; i < N_CASES; i++) {
        const vcase *v = &g_case[i];
        tcn_chain_tx tx;
        build_case(i, &tx);
        encode_msg(&tx, &b);
        if (b.len != v->msg_len || memcmp(b.p, v->msg, b.len) != 0) {
            fprintf(stderr, "case %d (%s): message bytes differ from web3.js\n", i + 1, v->name);
            fail();
        }
        assert_int_equal(tx.n_signatures, v->n_sigs);
        if (i == 6) {
            /* tampered_signature: web3.js's signatures, then one bit flipped. */
            assert_int_equal(popcount_diff(tx.signatures[0].b, v->sigs[0].b, TCN_CHAIN_SIGNATURE_LEN), 1);
            assert_true(tcn_chain_signature_eq(&tx.signatures[1], &v->sigs[1]));
            tx.signatures[0] = v->sigs[0];
        } else {
            for (size_t s = 0; s < v->n_sigs; s++)
                assert_true(tcn_chain_signature_eq(&tx.signatures[s], &v->sigs[s]));
        }
        encode_tx(&tx, &b);
        assert_int_equal(b.len, v->wire_len);
        assert_memory_equal(b.p, v->wire, v->wire_len);
        assert_true(tcn_chain_signature_eq(tcn_chain_tx_id(&tx), &v->sigs[0]));
    }
    tcn_buf_free(&b);
}

static void test_vectors_decode(void **state)
{
    (void)state;
    tcn_buf b = {0};
    for (int i = 0; i < N_CASES; i++) {
        const vcase *v = &g_case[i];
        tcn_chain_tx tx, built;
        tcn_error err;
        assert_int_equal(tcn_chain_tx_decode(v->wire, v->wire_len, &tx, &err), TCN_OK);
        encode_tx(&tx, &b);
        assert_int_equal(b.len, v->wire_len);
        assert_memory_equal(b.p, v->wire, v->wire_len);
        /* the message decodes on its own too, to the same bytes */
        tcn_chain_message m;
        assert_int_equal(tcn_chain_message_decode(v->msg, v->msg_len, &m, &err), TCN_OK);
        encode_msg(&tx, &b);
        assert_memory_equal(b.p, v->msg, v->msg_len);
        /* the decoded message is the one we compile */
        build_case(i, &built);
        assert_int_equal(tx.msg.n_keys, built.msg.n_keys);
        assert_memory_equal(tx.msg.keys, built.msg.keys, sizeof(tx.msg.keys[0]) * tx.msg.n_keys);
        assert_memory_equal(&tx.msg.header, &built.msg.header, sizeof(tx.msg.header));
        tcn_err_clear(&err);
        if (i == 6) {
            assert_int_equal(tcn_chain_tx_verify(&tx, &err), TCN_ERR_BAD_SIGNATURE);
            assert_non_null(strstr(err.msg, "signatures[0]"));
            assert_non_null(strstr(err.msg, "GyGKxMyg1p9SsHfm15MkNUu1u9TN2JtTspcdmrtGUdse")); /* the escrow */
        } else {
            assert_int_equal(tcn_chain_tx_verify(&tx, &err), TCN_OK);
        }
    }
    tcn_buf_free(&b);
}

/* Every truncation fails to decode; every bit flip of a correctly signed
 * transaction either fails to decode or fails to verify. */
static void test_vectors_truncations_and_flips(void **state)
{
    (void)state;
    static uint8_t buf[TCN_CHAIN_PACKET_BYTES_MAX];
    size_t flips = 0, refused_decode = 0;
    for (int i = 0; i < N_CASES; i++) {
        const vcase *v = &g_case[i];
        tcn_chain_tx tx;
        tcn_error err;
        for (size_t n = 0; n < v->wire_len; n++) {
            tcn_err_clear(&err);
            assert_int_not_equal(tcn_chain_tx_decode(v->wire, n, &tx, &err), TCN_OK);
            assert_true(err.msg[0] != '\0');
        }
        if (i == 6)
            continue; /* already does not verify */
        /* all bits of the first three cases, every third bit of the others */
        size_t stride = i < 3 ? 1 : 3;
        for (size_t bit = (size_t)i % stride; bit < v->wire_len * 8; bit += stride) {
            memcpy(buf, v->wire, v->wire_len);
            buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            flips++;
            if (tcn_chain_tx_decode(buf, v->wire_len, &tx, &err) != TCN_OK) {
                refused_decode++;
                continue;
            }
            if (tcn_chain_tx_verify(&tx, &err) == TCN_OK) {
                fprintf(stderr, "case %d: flipping bit %zu gives a transaction that verifies\n", i + 1, bit);
                fail();
            }
        }
    }
    assert_true(flips > 10000);
    assert_true(refused_decode > 0);
}

/* ---- malformed inputs -------------------------------------------------------- */

/* A raw message writer independent of the library's encoder. */
typedef struct raw {
    uint8_t p[2048];
    size_t n;
} raw;

static void put(raw *r, const void *p, size_t n)
{
    assert_true(r->n + n <= sizeof(r->p));
    memcpy(r->p + r->n, p, n);
    r->n += n;
}

static void put8(raw *r, uint8_t v) { put(r, &v, 1); }

/* header, n keys (key i = byte i+1 repeated, or `dup` twice), blockhash, and
 * one instruction (program index, account indexes, data). */
static void raw_message(raw *r, uint8_t req, uint8_t ro_signed, uint8_t ro_unsigned, unsigned n_keys, bool dup,
                        uint8_t prog, const uint8_t *accs, uint8_t n_accs, const uint8_t *data, uint8_t n_data)
{
    uint8_t key[32];
    put8(r, req);
    put8(r, ro_signed);
    put8(r, ro_unsigned);
    put8(r, (uint8_t)n_keys);
    for (unsigned i = 0; i < n_keys; i++) {
        memset(key, (int)(dup && i == n_keys - 1 ? 1 : i + 1), sizeof(key));
        put(r, key, sizeof(key));
    }
    memset(key, 0xbb, sizeof(key));
    put(r, key, sizeof(key));
    put8(r, 1);
    put8(r, prog);
    put8(r, n_accs);
    put(r, accs, n_accs);
    put8(r, n_data);
    put(r, data, n_data);
}

static void raw_tx(raw *r, uint8_t n_sigs)
{
    uint8_t sig[64];
    memset(sig, 0x5a, sizeof(sig));
    put8(r, n_sigs);
    for (unsigned i = 0; i < n_sigs; i++)
        put(r, sig, sizeof(sig));
}

static void expect_refused(const raw *r, int code, const char *needle)
{
    tcn_chain_tx tx;
    tcn_error err;
    tcn_err_clear(&err);
    int rc = tcn_chain_tx_decode(r->p, r->n, &tx, &err);
    if (rc == TCN_OK || (code != 0 && rc != code) || strstr(err.msg, needle) == NULL) {
        fprintf(stderr, "expected refusal %s naming '%s', got %s: '%s'\n", code ? tcn_err_name(code) : "(any)",
                needle, tcn_err_name(rc), err.msg);
        fail();
    }
}

static void test_malformed(void **state)
{
    (void)state;
    static const uint8_t accs[2] = {0, 1};
    static const uint8_t data[4] = {2, 0, 0, 0};
    raw r;

    /* the baseline is accepted */
    memset(&r, 0, sizeof(r));
    raw_tx(&r, 1);
    raw_message(&r, 1, 0, 1, 3, false, 2, accs, 2, data, 4);
    {
        tcn_chain_tx tx;
        tcn_error err;
        assert_int_equal(tcn_chain_tx_decode(r.p, r.n, &tx, &err), TCN_OK);
    }
#define CASE(nsig, req, ros, rou, nk, dup, prog, a, na, code, needle) \
    do {                                                                \
        memset(&r, 0, sizeof(r));                                       \
        raw_tx(&r, nsig);                                               \
        raw_message(&r, req, ros, rou, nk, dup, prog, a, na, data, 4);  \
        expect_refused(&r, code, needle);                               \
    } while (0)

    CASE(2, 1, 0, 1, 3, false, 2, accs, 2, 0, "signatures.len"); /* 2 signatures, 1 signer: misparses or mismatches */
    CASE(1, 2, 0, 1, 3, false, 2, accs, 2, TCN_ERR_MALFORMED, "signatures.len: 1 signatures for 2 required");
    CASE(1, 1, 1, 1, 3, false, 2, accs, 2, TCN_ERR_MALFORMED, "header: num_readonly_signed_accounts");
    CASE(1, 0, 0, 1, 3, false, 2, accs, 2, TCN_ERR_MALFORMED, "header: num_readonly_signed_accounts");
    CASE(1, 1, 0, 3, 3, false, 2, accs, 2, TCN_ERR_MALFORMED, "header: 1 signers + 3 read-only unsigned");
    CASE(1, 1, 0, 1, 3, true, 2, accs, 2, TCN_ERR_MALFORMED, "account_keys[2]: duplicates account_keys[0]");
    CASE(1, 1, 0, 1, 3, false, 3, accs, 2, TCN_ERR_MALFORMED, "instructions[0].program_id_index: 3 outside");
    CASE(1, 1, 0, 1, 3, false, 0, accs, 2, TCN_ERR_MALFORMED, "instructions[0].program_id_index: 0 is the fee payer");
    static const uint8_t bad_accs[2] = {0, 9};
    CASE(1, 1, 0, 1, 3, false, 2, bad_accs, 2, TCN_ERR_MALFORMED, "instructions[0].accounts[1]: index 9");
    CASE(1, 1, 0, 1, 0, false, 2, accs, 2, TCN_ERR_MALFORMED, "account_keys.len: 0");
    CASE(0, 1, 0, 1, 3, false, 2, accs, 2, TCN_ERR_MALFORMED, "signatures.len: 0");
    CASE(1, 0x81, 0, 1, 3, false, 2, accs, 2, TCN_ERR_UNSUPPORTED, "versioned messages are not supported");
#undef CASE

    /* trailing byte */
    memset(&r, 0, sizeof(r));
    raw_tx(&r, 1);
    raw_message(&r, 1, 0, 1, 3, false, 2, accs, 2, data, 4);
    put8(&r, 0);
    expect_refused(&r, TCN_ERR_MALFORMED, "1 trailing bytes");

    /* a non-minimal compact-u16 (data length 4 as 0x84 0x00) */
    memset(&r, 0, sizeof(r));
    raw_tx(&r, 1);
    raw_message(&r, 1, 0, 1, 3, false, 2, accs, 2, data, 4);
    r.n -= 5; /* drop data.len and the data */
    put8(&r, 0x84);
    put8(&r, 0x00);
    put(&r, data, 4);
    expect_refused(&r, TCN_ERR_MALFORMED, "instructions[0]: data.len: compact-u16 is not minimal");

    /* more than 64 keys */
    memset(&r, 0, sizeof(r));
    raw_tx(&r, 1);
    put8(&r, 1);
    put8(&r, 0);
    put8(&r, 0);
    put8(&r, 65);
    expect_refused(&r, TCN_ERR_TOO_LARGE, "account_keys.len: 65");

    /* instruction data length beyond the input */
    memset(&r, 0, sizeof(r));
    raw_tx(&r, 1);
    raw_message(&r, 1, 0, 1, 3, false, 2, accs, 2, data, 4);
    r.p[r.n - 5] = 5; /* claims 5 data bytes, 4 follow */
    expect_refused(&r, TCN_ERR_TRUNCATED, "instructions[0].data: 5 bytes");

    /* larger than a packet */
    {
        static uint8_t big[TCN_CHAIN_PACKET_BYTES_MAX + 1];
        tcn_chain_tx tx;
        tcn_error err;
        memcpy(big, g_case[0].wire, g_case[0].wire_len);
        assert_int_equal(tcn_chain_tx_decode(big, sizeof(big), &tx, &err), TCN_ERR_TOO_LARGE);
        assert_non_null(strstr(err.msg, "1233 bytes exceed the 1232-byte packet"));
    }
}

/* The encoder and compiler refuse what the decoder would refuse. */
static void test_encoder_refusals(void **state)
{
    (void)state;
    tcn_chain_tx tx;
    tcn_buf b = {0};
    tcn_error err;
    build_case(0, &tx);
    tcn_chain_tx bad = tx;
    bad.n_signatures = 2;
    assert_int_equal(tcn_chain_tx_encode(&bad, &b, &err), TCN_ERR_USAGE);
    bad = tx;
    bad.msg.ix[0].program_index = 0;
    assert_int_equal(tcn_chain_tx_encode(&bad, &b, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "program_id_index"));
    bad = tx;
    bad.msg.keys[1] = bad.msg.keys[0];
    assert_int_equal(tcn_chain_tx_encode(&bad, &b, &err), TCN_ERR_USAGE);
    assert_int_equal(b.len, 0);
    /* signing with a key that is not a required signer, or without all of them */
    tcn_chain_tx t2 = tx;
    assert_int_equal(tcn_chain_tx_sign(&t2, (const tcn_chain_keypair *const[]){g_kp[LP]}, 1, &err), TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "AKkzLhjhyFtM9j7WAhbaqYpFe49cXeJBg2kzLRC2PnNa")); /* lp's public key */
    build_case(2, &t2);
    assert_int_equal(tcn_chain_tx_sign(&t2, (const tcn_chain_keypair *const[]){g_kp[ESCROW]}, 1, &err),
                     TCN_ERR_USAGE);
    assert_non_null(strstr(err.msg, "signatures[1]: no key given"));
    /* the program id cannot be the fee payer */
    tcn_chain_ix ix;
    tcn_chain_hash bh;
    tcn_chain_message m;
    genesis_blockhash(&bh);
    tcn_chain_system_transfer(&ix, &g_pk[PAYER], &g_pk[LP], 1);
    assert_int_not_equal(tcn_chain_message_compile(&tcn_chain_system_program_id, &bh, &ix, 1, &m, &err), TCN_OK);
    tcn_buf_free(&b);
}

/* A compiled message puts a fee payer that no instruction names first, and
 * merges the flags of a key named twice. */
static void test_compile_order(void **state)
{
    (void)state;
    tcn_chain_ix ix[2];
    tcn_chain_hash bh;
    tcn_chain_message m;
    tcn_error err;
    genesis_blockhash(&bh);
    tcn_chain_system_transfer(&ix[0], &g_pk[ALICE], &g_pk[LP], 5);
    tcn_chain_system_transfer(&ix[1], &g_pk[LP], &g_pk[ALICE], 5); /* lp: writable, then a writable signer */
    assert_int_equal(tcn_chain_message_compile(&g_pk[PAYER], &bh, ix, 2, &m, &err), TCN_OK);
    assert_int_equal(m.n_keys, 4);
    assert_true(tcn_chain_pubkey_eq(&m.keys[0], &g_pk[PAYER]));
    assert_int_equal(m.header.num_required_signatures, 3);
    assert_int_equal(m.header.num_readonly_signed, 0);
    assert_int_equal(m.header.num_readonly_unsigned, 1);
    /* alice "8SFq…" sorts before lp "AKkz…" */
    assert_true(tcn_chain_pubkey_eq(&m.keys[1], &g_pk[ALICE]));
    assert_true(tcn_chain_pubkey_eq(&m.keys[2], &g_pk[LP]));
    assert_true(tcn_chain_pubkey_eq(&m.keys[3], &tcn_chain_system_program_id));
    assert_int_equal(m.ix[0].program_index, 3);
    assert_memory_equal(tcn_chain_message_ix_accounts(&m, 1), ((uint8_t[]){2, 1}), 2);

    /* Where byte order and web3.js's order differ: "a…" < "b…" < "B…" for
     * localeCompare (case decides last, lowercase first), while bytes
     * (strcmp) give "B…" < "a…" < "b…". */
    static const char *const names[3] = {"b111111111111111111111111111111111111111111",
                                         "B111111111111111111111111111111111111111111",
                                         "a111111111111111111111111111111111111111111"};
    tcn_chain_pubkey k[3];
    tcn_chain_ix one;
    memset(&one, 0, sizeof(one));
    one.program_id = tcn_chain_system_program_id;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(tcn_chain_pubkey_from_base58(names[i], &k[i], &err), TCN_OK);
        one.accounts[one.n_accounts++] = (tcn_chain_account_meta){.pubkey = k[i], .is_writable = true};
    }
    assert_int_equal(tcn_chain_message_compile(&g_pk[PAYER], &bh, &one, 1, &m, &err), TCN_OK);
    assert_int_equal(m.n_keys, 5);
    assert_true(tcn_chain_pubkey_eq(&m.keys[1], &k[2])); /* a… */
    assert_true(tcn_chain_pubkey_eq(&m.keys[2], &k[0])); /* b… */
    assert_true(tcn_chain_pubkey_eq(&m.keys[3], &k[1])); /* B… */
    assert_memory_equal(tcn_chain_message_ix_accounts(&m, 0), ((uint8_t[]){2, 3, 1}), 3);
}

/* ---- System instructions, nonce accounts, rent -------------------------------- */

static void test_system_decode(void **state)
{
    (void)state;
    tcn_chain_ix ix;
    tcn_chain_system_ix d;
    tcn_error err;
    tcn_chain_system_create_account(&ix, &g_pk[PAYER], &g_pk[NONCE], 1447680, 80, &g_pk[DEST]);
    assert_int_equal(ix.data_len, TCN_CHAIN_SYS_CREATE_ACCOUNT_BYTES);
    assert_int_equal(tcn_chain_system_decode(ix.data, ix.data_len, false, &d, &err), TCN_OK);
    assert_int_equal(d.kind, TCN_CHAIN_SYS_CREATE_ACCOUNT);
    assert_int_equal(d.lamports, 1447680);
    assert_int_equal(d.space, 80);
    assert_true(tcn_chain_pubkey_eq(&d.owner, &g_pk[DEST]));
    tcn_chain_system_initialize_nonce(&ix, &g_pk[NONCE], &g_pk[COORDINATOR]);
    assert_int_equal(tcn_chain_system_decode(ix.data, ix.data_len, false, &d, &err), TCN_OK);
    assert_true(tcn_chain_pubkey_eq(&d.authority, &g_pk[COORDINATOR]));
    assert_int_equal(ix.n_accounts, 3);
    assert_true(tcn_chain_pubkey_eq(&ix.accounts[2].pubkey, &tcn_chain_sysvar_rent_id));

    /* trailing bytes: refused when strict, ignored in the runtime's mode */
    tcn_chain_system_transfer(&ix, &g_pk[PAYER], &g_pk[LP], 7);
    uint8_t data[16];
    memcpy(data, ix.data, 12);
    data[12] = 0xee;
    tcn_err_clear(&err);
    assert_int_equal(tcn_chain_system_decode(data, 13, false, &d, &err), TCN_ERR_MALFORMED);
    assert_non_null(strstr(err.msg, "Transfer: 1 trailing bytes"));
    assert_int_equal(tcn_chain_system_decode(data, 13, true, &d, &err), TCN_OK);
    assert_int_equal(d.lamports, 7);
    /* truncated fields */
    assert_int_equal(tcn_chain_system_decode(data, 11, true, &d, &err), TCN_ERR_TRUNCATED);
    assert_non_null(strstr(err.msg, "Transfer: lamports"));
    assert_int_equal(tcn_chain_system_decode(data, 3, true, &d, &err), TCN_ERR_TRUNCATED);
    assert_non_null(strstr(err.msg, "discriminant"));
    /* known but unsupported; unknown */
    uint8_t assign[36] = {1};
    assert_int_equal(tcn_chain_system_decode(assign, sizeof(assign), false, &d, &err), TCN_ERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "Assign"));
    uint8_t unknown[4] = {13};
    assert_int_equal(tcn_chain_system_decode(unknown, 4, true, &d, &err), TCN_ERR_MALFORMED);
}

static void test_nonce_layout(void **state)
{
    (void)state;
    tcn_chain_hash h;
    tcn_error err;
    for (int i = 0; i < N_CASES; i++) {
        const vcase *v = &g_case[i];
        if (v->nonce_data_hex == NULL)
            continue;
        uint8_t data[128], again[TCN_CHAIN_NONCE_ACCOUNT_BYTES];
        size_t n;
        tcn_chain_nonce_state st;
        hex_into(v->nonce_data_hex, data, sizeof(data), &n);
        assert_int_equal(n, TCN_CHAIN_NONCE_ACCOUNT_BYTES);
        assert_int_equal(tcn_chain_nonce_parse(data, n, true, &st, &err), TCN_OK);
        assert_int_equal(st.version, TCN_CHAIN_NONCE_VERSION_CURRENT);
        assert_int_equal(st.state, TCN_CHAIN_NONCE_INITIALIZED);
        assert_true(tcn_chain_pubkey_eq(&st.authority, &g_pk[COORDINATOR]));
        assert_int_equal(st.lamports_per_signature, TCN_CHAIN_LAMPORTS_PER_SIGNATURE);
        assert_int_equal(tcn_chain_hash_from_base58(v->nonce_value, &h, &err), TCN_OK);
        assert_true(tcn_chain_hash_eq(&h, &st.durable_nonce));
        assert_memory_equal(data + TCN_CHAIN_NONCE_OFF_VALUE, h.b, 32);
        assert_int_equal(tcn_chain_nonce_serialize(&st, again, sizeof(again)), TCN_CHAIN_NONCE_ACCOUNT_BYTES);
        assert_memory_equal(again, data, TCN_CHAIN_NONCE_ACCOUNT_BYTES);
        /* strict refusals */
        assert_int_equal(tcn_chain_nonce_parse(data, n - 1, true, &st, &err), TCN_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "79 bytes, want 80"));
        data[0] = 2;
        assert_int_equal(tcn_chain_nonce_parse(data, n, false, &st, &err), TCN_ERR_MALFORMED);
        assert_non_null(strstr(err.msg, "version"));
    }
    /* DurableNonce::from_blockhash, checked on the chain of values the vectors show */
    tcn_chain_hash expect;
    nonce_value_n(1, &h);
    assert_int_equal(tcn_chain_hash_from_base58(g_case[1].nonce_value, &expect, &err), TCN_OK);
    assert_true(tcn_chain_hash_eq(&h, &expect));
    nonce_value_n(2, &h);
    assert_int_equal(tcn_chain_hash_from_base58(g_case[2].nonce_value, &expect, &err), TCN_OK);
    assert_true(tcn_chain_hash_eq(&h, &expect));
    nonce_value_n(3, &h);
    assert_int_equal(tcn_chain_hash_from_base58(g_case[7].nonce_value, &expect, &err), TCN_OK);
    assert_true(tcn_chain_hash_eq(&h, &expect));
    /* an uninitialized (all zero, legacy) account: fine for the runtime, refused when strict */
    uint8_t zero[80] = {0};
    tcn_chain_nonce_state st;
    assert_int_equal(tcn_chain_nonce_parse(zero, sizeof(zero), false, &st, &err), TCN_OK);
    assert_int_equal(st.state, TCN_CHAIN_NONCE_UNINITIALIZED);
    assert_int_equal(tcn_chain_nonce_parse(zero, sizeof(zero), true, &st, &err), TCN_ERR_MALFORMED);
    assert_int_equal(tcn_chain_nonce_serialize(&(tcn_chain_nonce_state){.state = 1}, zero, 79), 0);
}

static void test_rent(void **state)
{
    (void)state;
    assert_int_equal(tcn_chain_rent_minimum_balance(0), g_rent0);
    assert_int_equal(tcn_chain_rent_minimum_balance(80), g_rent80);
    assert_int_equal(g_rent0, 890880);
    assert_int_equal(g_rent80, 1447680);
    assert_int_equal(tcn_chain_rent_state_of(0, 0), TCN_CHAIN_RENT_UNINITIALIZED);
    assert_int_equal(tcn_chain_rent_state_of(890879, 0), TCN_CHAIN_RENT_PAYING);
    assert_int_equal(tcn_chain_rent_state_of(890880, 0), TCN_CHAIN_RENT_EXEMPT);
    assert_true(tcn_chain_rent_transition_allowed(1000000, 0, 0, 0));        /* emptied */
    assert_false(tcn_chain_rent_transition_allowed(1000000, 0, 500000, 0));  /* exempt -> paying */
    assert_false(tcn_chain_rent_transition_allowed(0, 0, 1, 0));             /* new and paying */
    assert_true(tcn_chain_rent_transition_allowed(500000, 0, 400000, 0));    /* paying, shrinking */
    assert_false(tcn_chain_rent_transition_allowed(500000, 0, 600000, 0));   /* paying, credited */
    assert_false(tcn_chain_rent_transition_allowed(500000, 0, 400000, 8));   /* paying, resized */
}

/* Signing errors name public keys only: no seed or secret in any message. */
static void test_secrets_stay_inside(void **state)
{
    (void)state;
    json_t *keys = json_object_get(g_root, "keys");
    tcn_chain_tx tx;
    tcn_error err;
    build_case(0, &tx);
    const tcn_chain_keypair *wrong[2] = {g_kp[LP], g_kp[PAYER]};
    for (int attempt = 0; attempt < 2; attempt++) {
        tcn_err_clear(&err);
        assert_int_not_equal(tcn_chain_tx_sign(&tx, attempt ? &wrong[1] : wrong, attempt ? 0 : 2, &err), TCN_OK);
        assert_true(err.msg[0] != '\0');
        char msg[TCN_ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", err.msg);
        for (int k = 0; k < N_KEYS; k++) {
            const char *seed_hex = jstr(json_object_get(keys, KEY_NAMES[k]), "seed_hex");
            uint8_t seed[32];
            char seed_b58[64];
            tcn_error e2;
            assert_int_equal(tcn_hex_decode_exact(seed_hex, seed, sizeof(seed), &e2), TCN_OK);
            assert_int_equal(tcn_chain_base58_encode(seed, sizeof(seed), seed_b58, sizeof(seed_b58)), TCN_OK);
            assert_null(strstr(msg, seed_hex));
            assert_null(strstr(msg, seed_b58));
        }
    }
}

/* ---- the fuzz seed corpus ------------------------------------------------------ */

static void test_write_corpus(void **state)
{
    (void)state;
    const char *dir = getenv("TCN_CHAIN_CORPUS_DIR");
    if (dir == NULL || *dir == '\0')
        return;
    for (int i = 0; i < N_CASES; i++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s/%02d-%s.bin", dir, i + 1, g_case[i].name);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(g_case[i].wire, 1, g_case[i].wire_len, f), g_case[i].wire_len);
        assert_int_equal(fclose(f), 0);
    }
    fprintf(stderr, "wrote %d seeds to %s\n", N_CASES, dir);
}

int main(void)
{
    if (!tcn_test_have_testdata(VECTORS))
        return TCN_TEST_SKIP;
    if (tcn_crypto_init() != TCN_OK)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_base58_vectors),
        cmocka_unit_test(test_base58_strict),
        cmocka_unit_test(test_base58_collate),
        cmocka_unit_test(test_shortvec),
        cmocka_unit_test(test_vectors_reproduced),
        cmocka_unit_test(test_vectors_decode),
        cmocka_unit_test(test_vectors_truncations_and_flips),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_encoder_refusals),
        cmocka_unit_test(test_compile_order),
        cmocka_unit_test(test_system_decode),
        cmocka_unit_test(test_nonce_layout),
        cmocka_unit_test(test_rent),
        cmocka_unit_test(test_secrets_stay_inside),
        cmocka_unit_test(test_write_corpus),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
