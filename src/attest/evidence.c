/* Evidence type detection, dispatch to the verifiers, and the policy check. */
#include "attest/evidence.h"

#include <string.h>

#include "attest/dcap_collateral.h"
#include "attest/nitro.h"
#include "attest/sim.h"
#include "attest/x509.h"
#include "util/assert.h"

tcn_tee_type tcn_evidence_detect(const uint8_t *p, size_t len)
{
    if (len >= 8 && memcmp(p, TCN_SIM_MAGIC, 8) == 0)
        return TCN_TEE_SIM;
    /* COSE_Sign1: CBOR array of 4 (0x84), possibly inside tag 18 (0xd2). */
    if (len >= 1 && (p[0] == 0x84 || p[0] == 0xd2))
        return TCN_TEE_NITRO;
    if (len >= 48) {
        unsigned version = p[0] | (p[1] << 8);
        unsigned key_type = p[2] | (p[3] << 8);
        uint32_t tee = (uint32_t)p[4] | ((uint32_t)p[5] << 8) | ((uint32_t)p[6] << 16) | ((uint32_t)p[7] << 24);
        if (version >= 3 && version <= 5 && key_type == 2) {
            if (version == 3 || tee == 0x00)
                return TCN_TEE_SGX;
            if (tee == 0x81)
                return TCN_TEE_TDX;
        }
    }
    return TCN_TEE_NONE;
}

int tcn_evidence_verify(const uint8_t *ev, size_t len, const tcn_verify_opts *o, tcn_claims *out, tcn_error *err)
{
    TCN_ASSERT(o != NULL && o->policy != NULL && out != NULL);
    memset(out, 0, sizeof(*out));
    TCN_ENSURE(len > 0, err, TCN_ERR_TRUNCATED, "evidence: empty");
    TCN_ENSURE(len <= TCN_EVIDENCE_MAX, err, TCN_ERR_TOO_LARGE, "evidence: %zu bytes exceed the limit of %d", len,
               TCN_EVIDENCE_MAX);
    tcn_tee_type t = o->type != TCN_TEE_NONE ? o->type : tcn_evidence_detect(ev, len);
    int rc;
    switch (t) {
    case TCN_TEE_SIM:
        rc = tcn_sim_verify(ev, len, (const uint8_t(*)[TCN_SIM_PUBKEY_LEN])o->policy->sim_keys,
                            o->policy->sim_key_count, out, err);
        break;
    case TCN_TEE_SGX:
    case TCN_TEE_TDX:
        if (o->collateral == NULL)
            return tcn_err_set(err, TCN_ERR_COLLATERAL, "%s: collateral required (tcb_info.json, qe_identity.json, ...)",
                               tcn_tee_name(t));
        rc = tcn_dcap_verify(ev, len, o->collateral, o->at_ms, out, err);
        if (rc == TCN_OK && out->tee != t)
            rc = tcn_err_set(err, TCN_ERR_USAGE, "evidence: --type %s was asked for, but this is a %s quote",
                             tcn_tee_name(t), tcn_tee_name(out->tee));
        break;
    case TCN_TEE_NITRO:
        /* Checking the chain at the document's own time proves nothing about
         * freshness: that mode needs the policy to bound the age. */
        if (o->nitro_at_doc_time && o->policy->max_age_ms <= 0)
            return tcn_err_set(err, TCN_ERR_POLICY,
                               "policy: field 'max_evidence_age_s': must be set to verify a Nitro document at its own time");
        rc = tcn_nitro_verify(ev, len, o->nitro_at_doc_time ? -1 : o->at_ms, out, err);
        break;
    default:
        return tcn_err_set(err, TCN_ERR_UNSUPPORTED, "evidence: unknown format (not sim, SGX/TDX DCAP or Nitro)");
    }
    if (rc != TCN_OK) {
        memset(out, 0, sizeof(*out));
        return rc;
    }
    return tcn_policy_check(o->policy, out, o->at_ms, err);
}

void tcn_attest_cache_clear(void)
{
    tcn_x509_cache_clear();
    tcn_dcap_cache_clear();
    tcn_nitro_cache_clear();
}
