/* The simulated TEE: evidence layout, Ed25519 signing and verification, measurement. */
#include "attest/sim.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "util/assert.h"
#include "util/buf.h"
#include "util/cursor.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"

#define SIM_SIGNED_LEN (TCN_SIM_EVIDENCE_LEN - TCN_SIM_SIG_LEN)
#define KEYFILE_MAX 4096

int tcn_sim_platform_generate(tcn_sim_platform *out, tcn_error *err)
{
    out->sk = tcn_secure_alloc(crypto_sign_SECRETKEYBYTES);
    TCN_ENSURE(out->sk != NULL, err, TCN_ERR_NOMEM, "sim platform key: cannot allocate secure memory");
    crypto_sign_keypair(out->pk, out->sk);
    return TCN_OK;
}

void tcn_sim_platform_free(tcn_sim_platform *p)
{
    tcn_secure_free(p->sk);
    p->sk = NULL;
}

int tcn_sim_platform_save(const tcn_sim_platform *p, const char *path, tcn_error *err)
{
    char pk_hex[65], seed_hex[65];
    uint8_t seed[32];
    crypto_sign_ed25519_sk_to_seed(seed, p->sk);
    tcn_hex_encode(p->pk, 32, pk_hex);
    tcn_hex_encode(seed, 32, seed_hex);
    char text[256];
    int n = snprintf(text, sizeof(text),
                     "{\"type\":\"tcn-sim-platform-key\",\"public_key\":\"%s\",\"seed\":\"%s\"}\n", pk_hex, seed_hex);
    int rc = tcn_file_write(path, text, (size_t)n, 0600, err);
    tcn_wipe(seed, sizeof(seed));
    tcn_wipe(seed_hex, sizeof(seed_hex));
    tcn_wipe(text, sizeof(text));
    return rc;
}

int tcn_sim_platform_load(const char *path, tcn_sim_platform *out, tcn_error *err)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    out->sk = NULL;
    if (tcn_file_read(path, KEYFILE_MAX, &raw, &len, err) != TCN_OK)
        return tcn_err_wrap(err, "sim platform key");
    json_error_t jerr;
    json_t *j = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr);
    tcn_wipe(raw, len);
    free(raw);
    int rc = TCN_OK;
    uint8_t seed[32];
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *pk_hex = json_string_value(json_object_get(j, "public_key"));
    const char *seed_hex = json_string_value(json_object_get(j, "seed"));
    if (j == NULL) {
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "sim platform key %s: line %d: %s", path, jerr.line, jerr.text);
    } else if (type == NULL || strcmp(type, "tcn-sim-platform-key") != 0) {
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "sim platform key %s: field 'type' must be \"tcn-sim-platform-key\"",
                         path);
    } else if (pk_hex == NULL || seed_hex == NULL) {
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "sim platform key %s: fields 'public_key' and 'seed' are required",
                         path);
    } else if (tcn_hex_decode_exact(seed_hex, seed, 32, err) != TCN_OK) {
        rc = tcn_err_wrap(err, "sim platform key %s: field 'seed'", path);
    } else if ((out->sk = tcn_secure_alloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
        rc = tcn_err_set(err, TCN_ERR_NOMEM, NULL);
    } else {
        uint8_t want_pk[32];
        crypto_sign_seed_keypair(out->pk, out->sk, seed);
        if (tcn_hex_decode_exact(pk_hex, want_pk, 32, err) != TCN_OK)
            rc = tcn_err_wrap(err, "sim platform key %s: field 'public_key'", path);
        else if (!tcn_ct_equal(want_pk, out->pk, 32))
            rc = tcn_err_set(err, TCN_ERR_MALFORMED, "sim platform key %s: 'public_key' does not belong to 'seed'", path);
    }
    tcn_wipe(seed, sizeof(seed));
    json_decref(j); /* the seed string inside j is not wiped: jansson owns it (key files are test-only) */
    if (rc != TCN_OK)
        tcn_sim_platform_free(out);
    return rc;
}

void tcn_sim_evidence_create(const tcn_sim_platform *p, const tcn_sim_report *r, uint8_t out[TCN_SIM_EVIDENCE_LEN])
{
    tcn_buf b = {0};
    int rc = tcn_buf_append(&b, TCN_SIM_MAGIC, 8);
    rc |= tcn_buf_u16le(&b, TCN_SIM_VERSION);
    rc |= tcn_buf_u16le(&b, r->debug ? TCN_SIM_FLAG_DEBUG : 0);
    rc |= tcn_buf_u16le(&b, r->product_id);
    rc |= tcn_buf_u16le(&b, r->svn);
    rc |= tcn_buf_append(&b, r->measurement, TCN_SIM_MEASUREMENT_LEN);
    rc |= tcn_buf_append(&b, r->report_data, TCN_REPORT_DATA_LEN);
    rc |= tcn_buf_u64le(&b, (uint64_t)r->issued_at_ms);
    rc |= tcn_buf_append(&b, p->pk, TCN_SIM_PUBKEY_LEN);
    TCN_ASSERT(rc == TCN_OK && b.len == SIM_SIGNED_LEN);
    memcpy(out, b.p, SIM_SIGNED_LEN);
    tcn_buf_free(&b);
    crypto_sign_detached(out + SIM_SIGNED_LEN, NULL, out, SIM_SIGNED_LEN, p->sk);
}

int tcn_sim_evidence_parse(const uint8_t *ev, size_t len, tcn_sim_report *r, uint8_t pk[TCN_SIM_PUBKEY_LEN],
                           tcn_error *err)
{
    TCN_ENSURE(len == TCN_SIM_EVIDENCE_LEN, err, len < TCN_SIM_EVIDENCE_LEN ? TCN_ERR_TRUNCATED : TCN_ERR_MALFORMED,
               "sim evidence: length %zu, expected %d", len, TCN_SIM_EVIDENCE_LEN);
    tcn_cursor c;
    tcn_cur_init(&c, ev, len);
    const uint8_t *magic;
    uint16_t version, flags;
    uint64_t issued;
    memset(r, 0, sizeof(*r));
    TCN_GUARD(tcn_cur_view(&c, 8, &magic));
    TCN_ENSURE(memcmp(magic, TCN_SIM_MAGIC, 8) == 0, err, TCN_ERR_MALFORMED, "sim evidence: bad magic");
    TCN_GUARD(tcn_cur_u16le(&c, &version));
    TCN_ENSURE(version == TCN_SIM_VERSION, err, TCN_ERR_UNSUPPORTED, "sim evidence: version %u, expected %d",
               version, TCN_SIM_VERSION);
    TCN_GUARD(tcn_cur_u16le(&c, &flags));
    TCN_ENSURE((flags & ~TCN_SIM_FLAG_DEBUG) == 0, err, TCN_ERR_MALFORMED, "sim evidence: unknown flags 0x%04x",
               flags);
    r->debug = (flags & TCN_SIM_FLAG_DEBUG) != 0;
    TCN_GUARD(tcn_cur_u16le(&c, &r->product_id));
    TCN_GUARD(tcn_cur_u16le(&c, &r->svn));
    TCN_GUARD(tcn_cur_copy(&c, r->measurement, TCN_SIM_MEASUREMENT_LEN));
    TCN_GUARD(tcn_cur_copy(&c, r->report_data, TCN_REPORT_DATA_LEN));
    TCN_GUARD(tcn_cur_u64le(&c, &issued));
    TCN_ENSURE(issued <= (uint64_t)INT64_MAX, err, TCN_ERR_MALFORMED, "sim evidence: issued-at out of range");
    r->issued_at_ms = (int64_t)issued;
    TCN_GUARD(tcn_cur_copy(&c, pk, TCN_SIM_PUBKEY_LEN));
    TCN_ASSERT(tcn_cur_remaining(&c) == TCN_SIM_SIG_LEN);
    return TCN_OK;
}

int tcn_sim_verify(const uint8_t *ev, size_t len, const uint8_t (*trusted)[TCN_SIM_PUBKEY_LEN], size_t n,
                   tcn_claims *out, tcn_error *err)
{
    tcn_sim_report r;
    uint8_t pk[TCN_SIM_PUBKEY_LEN];
    if (tcn_sim_evidence_parse(ev, len, &r, pk, err) != TCN_OK)
        return err->code;
    int named = 0;
    for (size_t i = 0; i < n; i++)
        named |= tcn_ct_equal(trusted[i], pk, TCN_SIM_PUBKEY_LEN);
    if (!named) {
        char hex[65];
        tcn_hex_encode(pk, 32, hex);
        return tcn_err_set(err, TCN_ERR_UNTRUSTED_ROOT,
                           "sim evidence: platform key %s is not named by the policy (sim_platform_keys has %zu)", hex,
                           n);
    }
    TCN_ENSURE(crypto_sign_verify_detached(ev + SIM_SIGNED_LEN, ev, SIM_SIGNED_LEN, pk) == 0, err,
               TCN_ERR_BAD_SIGNATURE, "sim evidence: Ed25519 signature does not verify");
    memset(out, 0, sizeof(*out));
    out->tee = TCN_TEE_SIM;
    memcpy(out->measurement, r.measurement, TCN_SIM_MEASUREMENT_LEN);
    out->measurement_len = TCN_SIM_MEASUREMENT_LEN;
    out->product_id = r.product_id;
    out->svn = r.svn;
    out->debug = r.debug;
    out->report_data_present = true;
    memcpy(out->report_data, r.report_data, TCN_REPORT_DATA_LEN);
    out->timestamp_ms = r.issued_at_ms;
    out->tcb_status = TCN_TCB_NONE;
    memcpy(out->sim_platform_key, pk, 32);
    return TCN_OK;
}

int tcn_sim_measure_file(const char *path, uint8_t out[TCN_SIM_MEASUREMENT_LEN], tcn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tcn_err_set(err, errno == ENOENT ? TCN_ERR_NOT_FOUND : TCN_ERR_IO, "measure %s: %s", path,
                           strerror(errno));
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    int ok = md != NULL && EVP_DigestInit_ex(md, EVP_sha384(), NULL);
    uint8_t buf[65536];
    ssize_t r;
    while (ok && (r = read(fd, buf, sizeof(buf))) != 0) {
        if (r < 0) {
            if (errno == EINTR)
                continue;
            ok = 0;
            break;
        }
        ok = EVP_DigestUpdate(md, buf, (size_t)r);
    }
    int saved = errno;
    close(fd);
    unsigned int n = 0;
    ok = ok && EVP_DigestFinal_ex(md, out, &n) && n == TCN_SIM_MEASUREMENT_LEN;
    EVP_MD_CTX_free(md);
    TCN_ENSURE(ok, err, TCN_ERR_IO, "measure %s: %s", path, strerror(saved));
    return TCN_OK;
}

int tcn_sim_measure_self(uint8_t out[TCN_SIM_MEASUREMENT_LEN], tcn_error *err)
{
    return tcn_sim_measure_file("/proc/self/exe", out, err);
}
