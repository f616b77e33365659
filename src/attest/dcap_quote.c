/* Pure parsers for DCAP quotes (v3/v4/v5) and the PCK certificate's SGX extension. */
#include "attest/dcap_quote.h"

#include <string.h>

#include "util/cursor.h"

/* Intel's QE vendor ID (Quote Library Reference, "Quote Header"). */
const uint8_t tcn_dcap_intel_qe_vendor_id[TCN_DCAP_QE_VENDOR_ID_LEN] = {
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

/* ---- reading helpers: every read names its field in the error ------------ */

static int truncated(const tcn_cursor *c, size_t n, const char *field, tcn_error *err)
{
    return tcn_err_set(err, TCN_ERR_TRUNCATED, "quote: ends inside %s (%zu bytes needed, %zu left)", field, n,
                       tcn_cur_remaining(c));
}

static int rd_copy(tcn_cursor *c, void *dst, size_t n, const char *field, tcn_error *err)
{
    if (tcn_cur_copy(c, dst, n) != TCN_OK)
        return truncated(c, n, field, err);
    return TCN_OK;
}

static int rd_u16(tcn_cursor *c, uint16_t *v, const char *field, tcn_error *err)
{
    if (tcn_cur_u16le(c, v) != TCN_OK)
        return truncated(c, 2, field, err);
    return TCN_OK;
}

static int rd_u32(tcn_cursor *c, uint32_t *v, const char *field, tcn_error *err)
{
    if (tcn_cur_u32le(c, v) != TCN_OK)
        return truncated(c, 4, field, err);
    return TCN_OK;
}

/* A declared length: it must fit in what is left of the enclosing cursor. */
static int rd_sub(tcn_cursor *c, size_t n, tcn_cursor *sub, const char *field, tcn_error *err)
{
    if (tcn_cur_sub(c, n, sub) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "quote: %s: %zu bytes needed, only %zu left", field, n,
                           tcn_cur_remaining(c));
    return TCN_OK;
}

static tcn_slice slice_of(const tcn_cursor *c)
{
    tcn_slice s = {tcn_cur_ptr(c), tcn_cur_remaining(c)};
    return s;
}

/* ---- report bodies --------------------------------------------------------- */

/* SGX REPORTBODY, 384 bytes (Intel SDM Vol. 3D §38.15; Quote Library
 * Reference Appendix A "Enclave Report Body"). */
static int parse_sgx_report(tcn_cursor *c, tcn_dcap_sgx_report *r, const char *what, tcn_error *err)
{
    tcn_cursor b;
    TCN_GUARD(rd_sub(c, TCN_DCAP_SGX_REPORT_LEN, &b, what, err));
    /* The sub-cursor holds exactly 384 bytes, so no read below can fail. */
    int rc = tcn_cur_copy(&b, r->cpusvn, sizeof(r->cpusvn));
    rc |= tcn_cur_copy(&b, r->miscselect, sizeof(r->miscselect));
    rc |= tcn_cur_skip(&b, 12 + 16); /* reserved1, ISVEXTPRODID */
    rc |= tcn_cur_copy(&b, r->attributes, sizeof(r->attributes));
    rc |= tcn_cur_copy(&b, r->mrenclave, sizeof(r->mrenclave));
    rc |= tcn_cur_skip(&b, 32); /* reserved2 */
    rc |= tcn_cur_copy(&b, r->mrsigner, sizeof(r->mrsigner));
    rc |= tcn_cur_skip(&b, 32 + 64); /* reserved3, CONFIGID */
    rc |= tcn_cur_u16le(&b, &r->isvprodid);
    rc |= tcn_cur_u16le(&b, &r->isvsvn);
    rc |= tcn_cur_skip(&b, 2 + 42 + 16); /* CONFIGSVN, reserved4, ISVFAMILYID */
    rc |= tcn_cur_copy(&b, r->report_data, sizeof(r->report_data));
    if (rc != TCN_OK || tcn_cur_remaining(&b) != 0)
        return tcn_err_set(err, TCN_ERR_INTERNAL, "quote: SGX report layout does not add up to 384 bytes");
    return TCN_OK;
}

/* TD report body (TDX DCAP Quote Library reference, "TD Report Body" /
 * "TD 1.5 Report Body"). */
static int parse_td_report(tcn_cursor *c, bool td15, tcn_dcap_td_report *r, tcn_error *err)
{
    tcn_cursor b;
    size_t n = td15 ? TCN_DCAP_TD15_REPORT_LEN : TCN_DCAP_TD10_REPORT_LEN;
    TCN_GUARD(rd_sub(c, n, &b, td15 ? "TD 1.5 report body" : "TD 1.0 report body", err));
    int rc = tcn_cur_copy(&b, r->tee_tcb_svn, sizeof(r->tee_tcb_svn));
    rc |= tcn_cur_copy(&b, r->mr_seam, sizeof(r->mr_seam));
    rc |= tcn_cur_copy(&b, r->mr_signer_seam, sizeof(r->mr_signer_seam));
    rc |= tcn_cur_copy(&b, r->seam_attributes, sizeof(r->seam_attributes));
    rc |= tcn_cur_copy(&b, r->td_attributes, sizeof(r->td_attributes));
    rc |= tcn_cur_copy(&b, r->xfam, sizeof(r->xfam));
    rc |= tcn_cur_copy(&b, r->mr_td, sizeof(r->mr_td));
    rc |= tcn_cur_copy(&b, r->mr_config_id, sizeof(r->mr_config_id));
    rc |= tcn_cur_copy(&b, r->mr_owner, sizeof(r->mr_owner));
    rc |= tcn_cur_copy(&b, r->mr_owner_config, sizeof(r->mr_owner_config));
    for (int i = 0; i < 4; i++)
        rc |= tcn_cur_copy(&b, r->rtmr[i], sizeof(r->rtmr[i]));
    rc |= tcn_cur_copy(&b, r->report_data, sizeof(r->report_data));
    if (td15) {
        rc |= tcn_cur_copy(&b, r->tee_tcb_svn2, sizeof(r->tee_tcb_svn2));
        rc |= tcn_cur_copy(&b, r->mr_servicetd, sizeof(r->mr_servicetd));
    }
    if (rc != TCN_OK || tcn_cur_remaining(&b) != 0)
        return tcn_err_set(err, TCN_ERR_INTERNAL, "quote: TD report layout does not add up to %zu bytes", n);
    return TCN_OK;
}

/* ---- header and body -------------------------------------------------------- */

static int parse_header_and_body(tcn_cursor *c, tcn_dcap_quote *q, tcn_error *err)
{
    uint8_t hdr[TCN_DCAP_HEADER_LEN];
    TCN_GUARD(rd_copy(c, hdr, sizeof(hdr), "header", err));
    tcn_cursor h;
    tcn_cur_init(&h, hdr, sizeof(hdr));
    int rc = tcn_cur_u16le(&h, &q->version);
    rc |= tcn_cur_u16le(&h, &q->att_key_type);
    rc |= tcn_cur_u32le(&h, &q->tee_type);
    rc |= tcn_cur_u16le(&h, &q->qe_svn);
    rc |= tcn_cur_u16le(&h, &q->pce_svn);
    rc |= tcn_cur_copy(&h, q->qe_vendor_id, sizeof(q->qe_vendor_id));
    rc |= tcn_cur_copy(&h, q->user_data, sizeof(q->user_data));
    if (rc != TCN_OK)
        return tcn_err_set(err, TCN_ERR_INTERNAL, "quote: header layout does not add up to 48 bytes");

    TCN_ENSURE(q->version >= TCN_DCAP_VERSION_MIN && q->version <= TCN_DCAP_VERSION_MAX, err, TCN_ERR_UNSUPPORTED,
               "quote: version %u is not supported (3, 4 and 5 are)", q->version);
    /* The key type fixes the sizes of the signature and key that follow, so
     * it is a layout question as much as a policy one. */
    TCN_ENSURE(q->att_key_type == TCN_DCAP_ATT_KEY_ECDSA_P256, err, TCN_ERR_UNSUPPORTED,
               "quote: attestation key type %u is not supported (only 2, ECDSA-256-with-P-256)", q->att_key_type);

    if (q->version == 3) {
        /* v3 defines only SGX; the field at offset 4 is reserved (Appendix A). */
        TCN_ENSURE(q->tee_type == TCN_DCAP_TEE_SGX, err, TCN_ERR_UNSUPPORTED,
                   "quote: v3 header reserved field (TEE type) is 0x%08x, must be 0 (SGX)", q->tee_type);
        q->body_kind = TCN_DCAP_BODY_SGX;
    } else if (q->version == 4) {
        if (q->tee_type == TCN_DCAP_TEE_SGX)
            q->body_kind = TCN_DCAP_BODY_SGX;
        else if (q->tee_type == TCN_DCAP_TEE_TDX)
            q->body_kind = TCN_DCAP_BODY_TD10;
        else
            return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "quote: TEE type 0x%08x is not supported (0 SGX, 0x81 TDX)",
                               q->tee_type);
    } else {
        uint16_t body_type;
        uint32_t body_size;
        TCN_GUARD(rd_u16(c, &body_type, "v5 body type", err));
        TCN_GUARD(rd_u32(c, &body_size, "v5 body size", err));
        size_t want;
        uint32_t want_tee;
        switch (body_type) {
        case TCN_DCAP_BODY_SGX:
            want = TCN_DCAP_SGX_REPORT_LEN;
            want_tee = TCN_DCAP_TEE_SGX;
            break;
        case TCN_DCAP_BODY_TD10:
            want = TCN_DCAP_TD10_REPORT_LEN;
            want_tee = TCN_DCAP_TEE_TDX;
            break;
        case TCN_DCAP_BODY_TD15:
            want = TCN_DCAP_TD15_REPORT_LEN;
            want_tee = TCN_DCAP_TEE_TDX;
            break;
        default:
            return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "quote: v5 body type %u is not supported (1, 2, 3)",
                               body_type);
        }
        TCN_ENSURE(body_size == want, err, TCN_ERR_MALFORMED, "quote: v5 body type %u declares size %u, must be %zu",
                   body_type, body_size, want);
        TCN_ENSURE(q->tee_type == want_tee, err, TCN_ERR_MALFORMED,
                   "quote: v5 body type %u does not match TEE type 0x%08x", body_type, q->tee_type);
        q->v5_body_type = body_type;
        q->body_kind = (tcn_dcap_body_kind)body_type;
    }

    if (q->body_kind == TCN_DCAP_BODY_SGX)
        TCN_GUARD(parse_sgx_report(c, &q->sgx, "SGX report body", err));
    else
        TCN_GUARD(parse_td_report(c, q->body_kind == TCN_DCAP_BODY_TD15, &q->td, err));
    q->signed_len = c->off;
    return TCN_OK;
}

/* ---- signature data ----------------------------------------------------------
 * QE report certification data: QE report 384, QE report signature 64,
 * QE authentication data (u16 size + bytes), certification data (u16 type,
 * u32 size, bytes). In v3 it follows the attestation key directly; in v4/v5
 * it is the body of an outer certification data entry of type 6. */
static int parse_qe_cert_data(tcn_cursor *c, size_t base, tcn_dcap_quote *q, tcn_error *err)
{
    q->qe_report_off = base + c->off;
    TCN_GUARD(parse_sgx_report(c, &q->qe_report, "QE report", err));
    TCN_GUARD(rd_copy(c, q->qe_report_sig, sizeof(q->qe_report_sig), "QE report signature", err));
    uint16_t auth_len;
    TCN_GUARD(rd_u16(c, &auth_len, "QE authentication data size", err));
    tcn_cursor auth;
    TCN_GUARD(rd_sub(c, auth_len, &auth, "QE authentication data size", err));
    q->qe_auth_data = slice_of(&auth);
    TCN_GUARD(rd_u16(c, &q->cert_type, "certification data type", err));
    uint32_t cert_len;
    TCN_GUARD(rd_u32(c, &cert_len, "certification data size", err));
    TCN_ENSURE(cert_len <= TCN_DCAP_CERT_DATA_MAX, err, TCN_ERR_TOO_LARGE,
               "quote: certification data size %u exceeds the limit of %d", cert_len, TCN_DCAP_CERT_DATA_MAX);
    tcn_cursor cert;
    TCN_GUARD(rd_sub(c, cert_len, &cert, "certification data size", err));
    q->cert_data = slice_of(&cert);
    return TCN_OK;
}

static int parse_signature_data(tcn_cursor *c, tcn_dcap_quote *q, tcn_error *err)
{
    uint32_t sig_len;
    TCN_GUARD(rd_u32(c, &sig_len, "signature data length", err));
    q->sig_data_off = c->off;
    tcn_cursor s;
    TCN_GUARD(rd_sub(c, sig_len, &s, "signature data length", err));
    q->sig_data_len = sig_len;
    TCN_GUARD(rd_copy(&s, q->quote_sig, sizeof(q->quote_sig), "quote signature", err));
    TCN_GUARD(rd_copy(&s, q->att_key, sizeof(q->att_key), "attestation key", err));
    if (q->version == 3) {
        TCN_GUARD(parse_qe_cert_data(&s, q->sig_data_off, q, err));
    } else {
        TCN_GUARD(rd_u16(&s, &q->outer_cert_type, "outer certification data type", err));
        TCN_ENSURE(q->outer_cert_type == TCN_DCAP_CERT_QE_REPORT, err, TCN_ERR_UNSUPPORTED,
                   "quote: outer certification data type is %u, must be 6 (QE report certification data)",
                   q->outer_cert_type);
        uint32_t outer_len;
        TCN_GUARD(rd_u32(&s, &outer_len, "outer certification data size", err));
        size_t outer_base = q->sig_data_off + s.off;
        tcn_cursor o;
        TCN_GUARD(rd_sub(&s, outer_len, &o, "outer certification data size", err));
        TCN_GUARD(parse_qe_cert_data(&o, outer_base, q, err));
        TCN_ENSURE(tcn_cur_remaining(&o) == 0, err, TCN_ERR_MALFORMED,
                   "quote: %zu unparsed bytes inside the outer certification data", tcn_cur_remaining(&o));
    }
    TCN_ENSURE(tcn_cur_remaining(&s) == 0, err, TCN_ERR_MALFORMED,
               "quote: %zu unparsed bytes inside the declared signature data", tcn_cur_remaining(&s));
    return TCN_OK;
}

int tcn_dcap_quote_parse(const uint8_t *p, size_t len, tcn_dcap_quote *out, tcn_error *err)
{
    TCN_ENSURE(len <= TCN_DCAP_QUOTE_MAX, err, TCN_ERR_TOO_LARGE, "quote: %zu bytes exceed the limit of %d", len,
               TCN_DCAP_QUOTE_MAX);
    tcn_dcap_quote q;
    memset(&q, 0, sizeof(q));
    tcn_cursor c;
    tcn_cur_init(&c, len > 0 ? p : (const uint8_t *)"", len);
    TCN_GUARD(parse_header_and_body(&c, &q, err));
    TCN_GUARD(parse_signature_data(&c, &q, err));
    /* Bytes after the declared signature data are outside every signature and
     * every length, so they cannot change what is verified; real quotes carry
     * them (PROVENANCE.md: tdx_v4_phala_dcap_qvl ends with 70 NULs from the
     * generator's fixed-size buffer, tdx_v4_google_go_tdx_guest with 39 bytes
     * added by its authors to test exactly this tolerance). Ignore them. */
    q.trailing_len = tcn_cur_remaining(&c);
    *out = q;
    return TCN_OK;
}

bool tcn_dcap_quote_is_debug(const tcn_dcap_quote *q)
{
    if (q->body_kind == TCN_DCAP_BODY_SGX)
        return (q->sgx.attributes[0] & TCN_DCAP_SGX_FLAG_DEBUG) != 0;
    return (q->td.td_attributes[0] & TCN_DCAP_TD_ATTR_DEBUG) != 0;
}

void tcn_dcap_quote_to_claims(const tcn_dcap_quote *q, tcn_claims *out)
{
    out->debug = tcn_dcap_quote_is_debug(q);
    out->report_data_present = true;
    if (q->body_kind == TCN_DCAP_BODY_SGX) {
        out->tee = TCN_TEE_SGX;
        memcpy(out->measurement, q->sgx.mrenclave, TCN_DCAP_MR32_LEN);
        out->measurement_len = TCN_DCAP_MR32_LEN;
        memcpy(out->signer, q->sgx.mrsigner, TCN_DCAP_MR32_LEN);
        out->signer_len = TCN_DCAP_MR32_LEN;
        out->product_id = q->sgx.isvprodid;
        out->svn = q->sgx.isvsvn;
        memcpy(out->report_data, q->sgx.report_data, TCN_REPORT_DATA_LEN);
    } else {
        out->tee = TCN_TEE_TDX;
        memcpy(out->measurement, q->td.mr_td, TCN_DCAP_MR48_LEN);
        out->measurement_len = TCN_DCAP_MR48_LEN;
        out->signer_len = 0; /* a TD has no MRSIGNER; MRSIGNERSEAM is the TDX module's */
        out->product_id = 0;
        out->svn = 0;
        memcpy(out->report_data, q->td.report_data, TCN_REPORT_DATA_LEN);
        memcpy(out->rtmr, q->td.rtmr, sizeof(out->rtmr));
    }
}

/* ---- DER walker for the PCK SGX extension ----------------------------------
 * Strict DER (X.690 §10): single-byte tags, definite minimal lengths. */

#define DER_SEQUENCE 0x30
#define DER_OID 0x06
#define DER_OCTET_STRING 0x04
#define DER_INTEGER 0x02
#define DER_ENUMERATED 0x0a
#define DER_LEN_BYTES_MAX 3  /* 16 MiB: far above any extension */
#define DER_UINT_BYTES_MAX 5 /* a sign byte and 32 bits */

/* 1.2.840.113741.1.13.1 without tag and length. */
static const uint8_t sgx_ext_oid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

enum {
    SGX_PPID = 1,
    SGX_TCB = 2,
    SGX_PCEID = 3,
    SGX_FMSPC = 4,
    SGX_TYPE = 5,
    TCB_PCESVN = 17,
    TCB_CPUSVN = 18,
};

static int der_next(tcn_cursor *c, uint8_t want_tag, tcn_cursor *val, const char *what, tcn_error *err)
{
    uint8_t tag, l0;
    if (tcn_cur_u8(c, &tag) != TCN_OK || tcn_cur_u8(c, &l0) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "PCK SGX extension: %s: DER ends early", what);
    TCN_ENSURE(tag == want_tag, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: tag 0x%02x, expected 0x%02x", what,
               tag, want_tag);
    size_t n = l0;
    if (l0 & 0x80) {
        size_t nb = l0 & 0x7f;
        TCN_ENSURE(nb >= 1 && nb <= DER_LEN_BYTES_MAX, err, TCN_ERR_MALFORMED,
                   "PCK SGX extension: %s: length form 0x%02x is not DER", what, l0);
        n = 0;
        for (size_t i = 0; i < nb; i++) {
            uint8_t b;
            if (tcn_cur_u8(c, &b) != TCN_OK)
                return tcn_err_set(err, TCN_ERR_TRUNCATED, "PCK SGX extension: %s: DER length ends early", what);
            TCN_ENSURE(i > 0 || b != 0, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: non-minimal length", what);
            n = (n << 8) | b;
        }
        TCN_ENSURE(n >= 0x80, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: non-minimal length", what);
    }
    if (tcn_cur_sub(c, n, val) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "PCK SGX extension: %s: length %zu exceeds the %zu bytes left",
                           what, n, tcn_cur_remaining(c));
    return TCN_OK;
}

/* Any element (for entries this parser does not interpret). */
static int der_skip_any(tcn_cursor *c, const char *what, tcn_error *err)
{
    tcn_cursor peek = *c;
    uint8_t tag;
    if (tcn_cur_u8(&peek, &tag) != TCN_OK)
        return tcn_err_set(err, TCN_ERR_TRUNCATED, "PCK SGX extension: %s: DER ends early", what);
    TCN_ENSURE((tag & 0x1f) != 0x1f, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: multi-byte tag", what);
    tcn_cursor v;
    return der_next(c, tag, &v, what, err);
}

/* A non-negative INTEGER/ENUMERATED in minimal form, at most max. */
static int der_uint(tcn_cursor *c, uint8_t tag, uint32_t max, uint32_t *out, const char *what, tcn_error *err)
{
    tcn_cursor v;
    TCN_GUARD(der_next(c, tag, &v, what, err));
    size_t n = tcn_cur_remaining(&v);
    const uint8_t *b = tcn_cur_ptr(&v);
    TCN_ENSURE(n >= 1 && n <= DER_UINT_BYTES_MAX, err, TCN_ERR_MALFORMED,
               "PCK SGX extension: %s: integer of %zu bytes", what, n);
    TCN_ENSURE((b[0] & 0x80) == 0, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: negative integer", what);
    TCN_ENSURE(n == 1 || b[0] != 0 || (b[1] & 0x80) != 0, err, TCN_ERR_MALFORMED,
               "PCK SGX extension: %s: non-minimal integer", what);
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = (x << 8) | b[i];
    TCN_ENSURE(x <= max, err, TCN_ERR_MALFORMED, "PCK SGX extension: %s: value %llu exceeds %u", what,
               (unsigned long long)x, max);
    *out = (uint32_t)x;
    return TCN_OK;
}

static int der_octets(tcn_cursor *c, uint8_t *out, size_t want, const char *what, tcn_error *err)
{
    tcn_cursor v;
    TCN_GUARD(der_next(c, DER_OCTET_STRING, &v, what, err));
    TCN_ENSURE(tcn_cur_remaining(&v) == want, err, TCN_ERR_MALFORMED,
               "PCK SGX extension: %s: %zu bytes, expected %zu", what, tcn_cur_remaining(&v), want);
    return tcn_cur_copy(&v, out, want);
}

/* Reads an OID under the SGX extension arc: 1.2.840.113741.1.13.1.<a>, or with
 * sub == true 1.2.840.113741.1.13.1.2.<a>. Returns 0 in *arc for other OIDs. */
static int der_sgx_oid(tcn_cursor *c, bool sub, unsigned *arc, const char *what, tcn_error *err)
{
    tcn_cursor v;
    TCN_GUARD(der_next(c, DER_OID, &v, what, err));
    size_t n = tcn_cur_remaining(&v);
    const uint8_t *b = tcn_cur_ptr(&v);
    size_t want = sizeof(sgx_ext_oid) + (sub ? 2 : 1);
    *arc = 0;
    if (n == want && memcmp(b, sgx_ext_oid, sizeof(sgx_ext_oid)) == 0 && (!sub || b[sizeof(sgx_ext_oid)] == SGX_TCB) &&
        (b[n - 1] & 0x80) == 0)
        *arc = b[n - 1];
    return TCN_OK;
}

static int parse_pck_tcb(tcn_cursor *c, tcn_dcap_pck_ext *out, tcn_error *err)
{
    uint32_t seen = 0;
    while (tcn_cur_remaining(c) > 0) {
        tcn_cursor entry;
        unsigned arc;
        TCN_GUARD(der_next(c, DER_SEQUENCE, &entry, "TCB entry", err));
        TCN_GUARD(der_sgx_oid(&entry, true, &arc, "TCB entry OID", err));
        TCN_ENSURE(arc >= 1 && arc <= TCB_CPUSVN, err, TCN_ERR_MALFORMED,
                   "PCK SGX extension: unknown entry in the TCB sequence");
        TCN_ENSURE((seen & (1u << arc)) == 0, err, TCN_ERR_MALFORMED,
                   "PCK SGX extension: TCB entry .2.%u appears twice", arc);
        seen |= 1u << arc;
        uint32_t v;
        if (arc <= TCN_DCAP_PCK_TCB_COMPONENTS) {
            TCN_GUARD(der_uint(&entry, DER_INTEGER, 255, &v, "TCB component", err));
            out->tcb_comp[arc - 1] = (uint8_t)v;
        } else if (arc == TCB_PCESVN) {
            TCN_GUARD(der_uint(&entry, DER_INTEGER, 65535, &v, "PCESVN", err));
            out->pcesvn = (uint16_t)v;
        } else {
            TCN_GUARD(der_octets(&entry, out->cpusvn, sizeof(out->cpusvn), "CPUSVN", err));
        }
        TCN_ENSURE(tcn_cur_remaining(&entry) == 0, err, TCN_ERR_MALFORMED,
                   "PCK SGX extension: TCB entry .2.%u has extra elements", arc);
    }
    uint32_t all = ((1u << (TCB_CPUSVN + 1)) - 1) & ~1u;
    TCN_ENSURE(seen == all, err, TCN_ERR_MALFORMED,
               "PCK SGX extension: TCB sequence lacks entries (have mask 0x%05x, need 0x%05x)", seen, all);
    return TCN_OK;
}

int tcn_dcap_pck_ext_parse(const uint8_t *der, size_t len, tcn_dcap_pck_ext *out, tcn_error *err)
{
    tcn_dcap_pck_ext x;
    memset(&x, 0, sizeof(x));
    tcn_cursor c, seq;
    tcn_cur_init(&c, len > 0 ? der : (const uint8_t *)"", len);
    TCN_GUARD(der_next(&c, DER_SEQUENCE, &seq, "outer SEQUENCE", err));
    TCN_ENSURE(tcn_cur_remaining(&c) == 0, err, TCN_ERR_MALFORMED, "PCK SGX extension: %zu bytes after the SEQUENCE",
               tcn_cur_remaining(&c));
    uint32_t seen = 0;
    while (tcn_cur_remaining(&seq) > 0) {
        tcn_cursor entry;
        unsigned arc;
        TCN_GUARD(der_next(&seq, DER_SEQUENCE, &entry, "entry", err));
        TCN_GUARD(der_sgx_oid(&entry, false, &arc, "entry OID", err));
        if (arc >= SGX_PPID && arc <= SGX_TYPE) {
            TCN_ENSURE((seen & (1u << arc)) == 0, err, TCN_ERR_MALFORMED,
                       "PCK SGX extension: entry .%u appears twice", arc);
            seen |= 1u << arc;
        }
        uint32_t v;
        tcn_cursor tcb;
        switch (arc) {
        case SGX_PPID:
            TCN_GUARD(der_octets(&entry, x.ppid, sizeof(x.ppid), "PPID", err));
            break;
        case SGX_TCB:
            TCN_GUARD(der_next(&entry, DER_SEQUENCE, &tcb, "TCB", err));
            TCN_GUARD(parse_pck_tcb(&tcb, &x, err));
            break;
        case SGX_PCEID:
            TCN_GUARD(der_octets(&entry, x.pceid, sizeof(x.pceid), "PCE-ID", err));
            break;
        case SGX_FMSPC:
            TCN_GUARD(der_octets(&entry, x.fmspc, sizeof(x.fmspc), "FMSPC", err));
            break;
        case SGX_TYPE:
            TCN_GUARD(der_uint(&entry, DER_ENUMERATED, 255, &v, "SGX Type", err));
            x.sgx_type = (int)v;
            break;
        default:
            /* PlatformInstanceID (.6), Configuration (.7) and entries added
             * later carry nothing this verifier uses: skip, but well formed. */
            TCN_GUARD(der_skip_any(&entry, "entry value", err));
            break;
        }
        TCN_ENSURE(tcn_cur_remaining(&entry) == 0, err, TCN_ERR_MALFORMED,
                   "PCK SGX extension: entry .%u has extra elements", arc);
    }
    static const struct {
        unsigned arc;
        const char *name;
    } required[] = {{SGX_PPID, "PPID"}, {SGX_TCB, "TCB"}, {SGX_PCEID, "PCE-ID"}, {SGX_FMSPC, "FMSPC"},
                    {SGX_TYPE, "SGX Type"}};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        TCN_ENSURE(seen & (1u << required[i].arc), err, TCN_ERR_MALFORMED, "PCK SGX extension: %s entry missing",
                   required[i].name);
    *out = x;
    return TCN_OK;
}
