/* The provider side of Nitro attestation: the /dev/nsm Attestation request and
 * response (CBOR) and the ioctl that carries them. Only the ioctl needs real
 * hardware; the encoding and decoding are pure and tested everywhere. */
#include "attest/nitro.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "attest/nitro_doc.h"
#include "util/assert.h"
#include "util/cursor.h"

/* The raw message of include/uapi/linux/nsm.h (struct nsm_raw: two
 * {__u64 addr; __u64 len} pairs). On the 64-bit targets Nitro Enclaves run on
 * (x86_64, aarch64) this is the same 32-byte layout as the {struct iovec
 * request; struct iovec response;} of nsm-api src/driver/mod.rs, so the ioctl
 * number below is the same for the in-tree and the older out-of-tree driver.
 * The driver reads request.len bytes, writes at most response.len bytes and
 * stores the count it wrote back into response.len (drivers/misc/nsm.c,
 * parse_resp_raw). */
struct nsm_iov {
    uint64_t addr;
    uint64_t len;
};
struct nsm_raw_msg {
    struct nsm_iov request;
    struct nsm_iov response;
};
_Static_assert(sizeof(struct nsm_raw_msg) == 32, "struct nsm_raw is four __u64");

#define NSM_IOCTL_MAGIC 0x0A
#define NSM_IOCTL_RAW _IOWR(NSM_IOCTL_MAGIC, 0, struct nsm_raw_msg)

/* ---- request ------------------------------------------------------------- */

static int put_text(tcn_buf *b, const char *s)
{
    size_t n = strlen(s);
    TCN_GUARD(tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_TEXT, n));
    return tcn_buf_append(b, s, n);
}

/* serde's Option<ByteBuf>: None is CBOR null (0xf6, RFC 8949 §3.3). */
static int put_opt_bytes(tcn_buf *b, const uint8_t *p, size_t n)
{
    if (p == NULL)
        return tcn_buf_u8(b, 0xf6);
    TCN_GUARD(tcn_nitro_cbor_put_head(b, TCN_NITRO_CBOR_BYTES, n));
    return n > 0 ? tcn_buf_append(b, p, n) : TCN_OK;
}

static int check_arg(const uint8_t *p, size_t n, const char *name, tcn_error *err)
{
    TCN_ENSURE(p != NULL || n == 0, err, TCN_ERR_USAGE, "nsm request: field '%s' is NULL with length %zu", name, n);
    TCN_ENSURE(n <= TCN_NITRO_FIELD_MAX, err, TCN_ERR_USAGE, "nsm request: field '%s' has %zu bytes, limit %d", name,
               n, TCN_NITRO_FIELD_MAX);
    return TCN_OK;
}

int tcn_nitro_nsm_encode_attestation_request(const uint8_t *user_data, size_t ud_len, const uint8_t *nonce,
                                             size_t nonce_len, const uint8_t *public_key, size_t pk_len,
                                             tcn_buf *out, tcn_error *err)
{
    TCN_GUARD(check_arg(user_data, ud_len, "user_data", err));
    TCN_GUARD(check_arg(nonce, nonce_len, "nonce", err));
    TCN_GUARD(check_arg(public_key, pk_len, "public_key", err));
    size_t start = out->len;
    /* Request::Attestation { user_data, nonce, public_key }: a struct variant,
     * so a one-entry map from the variant name to a map of the fields in
     * declaration order (nsm-api src/api/mod.rs). */
    int rc = tcn_nitro_cbor_put_head(out, TCN_NITRO_CBOR_MAP, 1);
    if (rc == TCN_OK)
        rc = put_text(out, "Attestation");
    if (rc == TCN_OK)
        rc = tcn_nitro_cbor_put_head(out, TCN_NITRO_CBOR_MAP, 3);
    if (rc == TCN_OK)
        rc = put_text(out, "user_data");
    if (rc == TCN_OK)
        rc = put_opt_bytes(out, user_data, ud_len);
    if (rc == TCN_OK)
        rc = put_text(out, "nonce");
    if (rc == TCN_OK)
        rc = put_opt_bytes(out, nonce, nonce_len);
    if (rc == TCN_OK)
        rc = put_text(out, "public_key");
    if (rc == TCN_OK)
        rc = put_opt_bytes(out, public_key, pk_len);
    if (rc != TCN_OK) {
        out->len = start;
        return tcn_err_set(err, TCN_ERR_NOMEM, "nsm request: out of memory");
    }
    /* 3 fields of at most 1024 bytes plus names and heads stay far below the
     * driver's 4096-byte request limit. */
    TCN_ASSERT(out->len - start <= TCN_NITRO_NSM_REQUEST_MAX);
    return TCN_OK;
}

/* ---- response ------------------------------------------------------------ */

/* Reads the next head and requires major type `want`. The input has passed
 * tcn_nitro_cbor_check, so a failure here means a wrong shape, not a wrong
 * length. */
static int expect(tcn_cursor *c, unsigned want, uint64_t *arg, const char *what, tcn_error *err)
{
    unsigned major = 0;
    int rc = tcn_nitro_cbor_head(c, &major, arg);
    TCN_ENSURE(rc == TCN_OK && major == want, err, TCN_ERR_MALFORMED, "nsm response: %s", what);
    return TCN_OK;
}

static int expect_text(tcn_cursor *c, const uint8_t **p, size_t *n, const char *what, tcn_error *err)
{
    uint64_t len;
    TCN_GUARD(expect(c, TCN_NITRO_CBOR_TEXT, &len, what, err));
    TCN_ENSURE(len <= tcn_cur_remaining(c) && tcn_cur_view(c, (size_t)len, p) == TCN_OK, err, TCN_ERR_MALFORMED,
               "nsm response: %s", what);
    *n = (size_t)len;
    return TCN_OK;
}

static bool text_is(const uint8_t *p, size_t n, const char *s) { return n == strlen(s) && memcmp(p, s, n) == 0; }

int tcn_nitro_nsm_decode_attestation_response(const uint8_t *p, size_t len, const uint8_t **doc, size_t *doc_len,
                                              tcn_error *err)
{
    TCN_ASSERT(doc != NULL && doc_len != NULL && (p != NULL || len == 0));
    TCN_ENSURE(len > 0, err, TCN_ERR_TRUNCATED, "nsm response: empty");
    TCN_ENSURE(len <= TCN_NITRO_NSM_RESPONSE_MAX, err, TCN_ERR_TOO_LARGE, "nsm response: %zu bytes, limit %d", len,
               TCN_NITRO_NSM_RESPONSE_MAX);
    TCN_GUARD(tcn_nitro_cbor_check(p, len, TCN_NITRO_CBOR_DEPTH_MAX, "nsm response", err));

    /* Response is a serde externally tagged enum: {"<Variant>": <content>}. */
    tcn_cursor c;
    tcn_cur_init(&c, p, len);
    uint64_t n;
    TCN_GUARD(expect(&c, TCN_NITRO_CBOR_MAP, &n, "expected a map naming one response variant", err));
    TCN_ENSURE(n == 1, err, TCN_ERR_MALFORMED, "nsm response: map has %llu entries, expected 1 (one variant)",
               (unsigned long long)n);
    const uint8_t *k;
    size_t klen;
    TCN_GUARD(expect_text(&c, &k, &klen, "variant name is not a text string", err));

    if (text_is(k, klen, "Error")) {
        /* Response::Error(ErrorCode): the code is a unit variant, so a text string. */
        const uint8_t *code;
        size_t code_len;
        TCN_GUARD(expect_text(&c, &code, &code_len, "'Error' does not carry an error code string", err));
        char q[48];
        tcn_nitro_quote(code, code_len, q, sizeof(q));
        return tcn_err_set(err, TCN_ERR_IO, "nsm: the device answered Error %s", q);
    }
    if (!text_is(k, klen, "Attestation")) {
        char q[48];
        tcn_nitro_quote(k, klen, q, sizeof(q));
        return tcn_err_set(err, TCN_ERR_MALFORMED, "nsm response: variant '%s' does not answer an Attestation request",
                           q);
    }
    /* Response::Attestation { document: ByteBuf } */
    TCN_GUARD(expect(&c, TCN_NITRO_CBOR_MAP, &n, "'Attestation' is not a map", err));
    TCN_ENSURE(n == 1, err, TCN_ERR_MALFORMED, "nsm response: 'Attestation' has %llu fields, expected 1 ('document')",
               (unsigned long long)n);
    TCN_GUARD(expect_text(&c, &k, &klen, "'Attestation' field name is not a text string", err));
    if (!text_is(k, klen, "document")) {
        char q[48];
        tcn_nitro_quote(k, klen, q, sizeof(q));
        return tcn_err_set(err, TCN_ERR_MALFORMED, "nsm response: 'Attestation' field is '%s', expected 'document'", q);
    }
    uint64_t dlen;
    TCN_GUARD(expect(&c, TCN_NITRO_CBOR_BYTES, &dlen, "'document' is not a byte string", err));
    TCN_ENSURE(dlen > 0, err, TCN_ERR_MALFORMED, "nsm response: 'document' is empty");
    TCN_ENSURE(dlen <= TCN_NITRO_DOC_MAX, err, TCN_ERR_TOO_LARGE, "nsm response: 'document' has %llu bytes, limit %d",
               (unsigned long long)dlen, TCN_NITRO_DOC_MAX);
    const uint8_t *view;
    TCN_ENSURE(tcn_cur_view(&c, (size_t)dlen, &view) == TCN_OK, err, TCN_ERR_TRUNCATED,
               "nsm response: 'document' runs past the end");
    /* tcn_nitro_cbor_check guaranteed one item and nothing after it. */
    TCN_ASSERT(tcn_cur_remaining(&c) == 0);
    *doc = view;
    *doc_len = (size_t)dlen;
    return TCN_OK;
}

/* ---- the device ---------------------------------------------------------- */

int tcn_nitro_nsm_attest(const char *dev_path, const uint8_t report_data[64], tcn_buf *doc_out, tcn_error *err)
{
    TCN_ASSERT(dev_path != NULL && report_data != NULL && doc_out != NULL);
    tcn_buf req = {0};
    TCN_GUARD(tcn_nitro_nsm_encode_attestation_request(report_data, TCN_REPORT_DATA_LEN, NULL, 0, NULL, 0, &req,
                                                       err));
    uint8_t *resp = malloc(TCN_NITRO_NSM_RESPONSE_MAX);
    if (resp == NULL) {
        tcn_buf_free(&req);
        return tcn_err_set(err, TCN_ERR_NOMEM, NULL);
    }
    int rc = TCN_OK;
    int fd = open(dev_path, O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        rc = tcn_err_set(err, errno == ENOENT ? TCN_ERR_NOT_FOUND : TCN_ERR_IO, "nsm: open %s: %s", dev_path,
                         strerror(errno));
        goto out;
    }
    struct nsm_raw_msg msg = {
        .request = {.addr = (uint64_t)(uintptr_t)req.p, .len = req.len},
        .response = {.addr = (uint64_t)(uintptr_t)resp, .len = TCN_NITRO_NSM_RESPONSE_MAX},
    };
    int r;
    do { /* a fresh attestation is idempotent, so an interrupted call is simply repeated */
        msg.response.len = TCN_NITRO_NSM_RESPONSE_MAX;
        r = ioctl(fd, NSM_IOCTL_RAW, &msg);
    } while (r < 0 && errno == EINTR);
    if (r < 0) {
        rc = tcn_err_set(err, TCN_ERR_IO, "nsm: attestation ioctl on %s: %s", dev_path, strerror(errno));
        goto out;
    }
    if (msg.response.len > TCN_NITRO_NSM_RESPONSE_MAX) {
        rc = tcn_err_set(err, TCN_ERR_MALFORMED, "nsm: driver reported %llu response bytes in a %d-byte buffer",
                         (unsigned long long)msg.response.len, TCN_NITRO_NSM_RESPONSE_MAX);
        goto out;
    }
    const uint8_t *doc = NULL;
    size_t doc_len = 0;
    rc = tcn_nitro_nsm_decode_attestation_response(resp, (size_t)msg.response.len, &doc, &doc_len, err);
    if (rc == TCN_OK && tcn_buf_append(doc_out, doc, doc_len) != TCN_OK)
        rc = tcn_err_set(err, TCN_ERR_NOMEM, NULL);
out:
    if (fd >= 0)
        close(fd);
    free(resp);
    tcn_buf_free(&req);
    return rc;
}
