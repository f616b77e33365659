/* Attestation policy: loading from the config file and checking claims. */
#include "attest/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/assert.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/secmem.h"

#define TEE_BIT(t) (1u << (unsigned)(t))
#define TCB_BIT(s) (1u << (unsigned)(s))

void tcn_policy_default(tcn_policy *p)
{
    memset(p, 0, sizeof(*p));
    p->tee_mask = TEE_BIT(TCN_TEE_SGX) | TEE_BIT(TCN_TEE_TDX) | TEE_BIT(TCN_TEE_NITRO);
    p->measurement_any = true;
    p->require_revocation = true;
    for (int s = TCN_TCB_UP_TO_DATE; s < TCN_TCB_COUNT_; s++)
        if (s != TCN_TCB_REVOKED)
            p->tcb_status_mask |= TCB_BIT(s);
}

int tcn_policy_add_sim_key(tcn_policy *p, const uint8_t key[TCN_SIM_PUBKEY_LEN], tcn_error *err)
{
    TCN_ENSURE(p->sim_key_count < TCN_POLICY_SIM_KEYS_MAX, err, TCN_ERR_CONFIG,
               "policy: field 'sim_platform_keys': more than %d keys", TCN_POLICY_SIM_KEYS_MAX);
    memcpy(p->sim_keys[p->sim_key_count++], key, TCN_SIM_PUBKEY_LEN);
    p->tee_mask |= TEE_BIT(TCN_TEE_SIM);
    return TCN_OK;
}

int tcn_policy_add_measurement(tcn_policy *p, const uint8_t *m, size_t len, tcn_error *err)
{
    TCN_ENSURE(len == 32 || len == 48, err, TCN_ERR_CONFIG,
               "policy: field 'measurements': %zu bytes, expected 32 (MRENCLAVE) or 48 (MRTD, PCR0, sim)", len);
    TCN_ENSURE(p->measurement_count < TCN_POLICY_MEASUREMENTS_MAX, err, TCN_ERR_CONFIG,
               "policy: field 'measurements': more than %d entries", TCN_POLICY_MEASUREMENTS_MAX);
    tcn_policy_measurement *e = &p->measurements[p->measurement_count++];
    e->len = len;
    memcpy(e->v, m, len);
    p->measurement_any = false;
    return TCN_OK;
}

static const char *known_fields[] = {"tee",         "measurements",       "min_svn",   "tcb_status",       "max_evidence_age_s",
                                     "allow_debug", "require_revocation", "tdx_rtmrs", "sim_platform_keys"};

static int string_array(const json_t *v, const char *field, tcn_error *err)
{
    TCN_ENSURE(json_is_array(v), err, TCN_ERR_CONFIG, "policy: field '%s': expected an array of strings", field);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        TCN_ENSURE(json_is_string(e), err, TCN_ERR_CONFIG, "policy: field '%s'[%zu]: expected a string", field, i);
    }
    return TCN_OK;
}

int tcn_policy_from_json(const json_t *a, tcn_policy *out, tcn_error *err)
{
    tcn_policy p;
    tcn_policy_default(&p);
    TCN_ENSURE(json_is_object(a), err, TCN_ERR_CONFIG, "policy: 'attestation' must be an object");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)a, key, v)
    {
        int known = 0;
        for (size_t i = 0; i < TCN_ARRAY_LEN(known_fields); i++)
            known |= strcmp(key, known_fields[i]) == 0;
        TCN_ENSURE(known, err, TCN_ERR_CONFIG, "policy: unknown field '%s'", key);
    }
    size_t i;
    json_t *e;
    if ((v = json_object_get(a, "tee")) != NULL) {
        TCN_GUARD(string_array(v, "tee", err));
        p.tee_mask = 0;
        json_array_foreach(v, i, e)
        {
            tcn_tee_type t;
            TCN_ENSURE(tcn_tee_parse(json_string_value(e), &t) == TCN_OK, err, TCN_ERR_CONFIG,
                       "policy: field 'tee'[%zu]: '%s' is not one of sgx, tdx, nitro, sim", i, json_string_value(e));
            p.tee_mask |= TEE_BIT(t);
        }
        TCN_ENSURE(p.tee_mask != 0, err, TCN_ERR_CONFIG, "policy: field 'tee': accepts nothing");
    }
    if ((v = json_object_get(a, "measurements")) != NULL) {
        TCN_GUARD(string_array(v, "measurements", err));
        /* An emptied allow-list must not quietly mean "any code". */
        TCN_ENSURE(json_array_size(v) > 0, err, TCN_ERR_CONFIG,
                   "policy: field 'measurements': empty; leave it out to accept any measurement");
        json_array_foreach(v, i, e)
        {
            const char *s = json_string_value(e);
            if (strcmp(s, "self") == 0) {
                p.measurement_self = true;
                p.measurement_any = false;
                continue;
            }
            uint8_t m[TCN_MEASUREMENT_MAX];
            size_t n = 0;
            if (tcn_hex_decode(s, m, sizeof(m), &n, err) != TCN_OK)
                return tcn_err_wrap(err, "policy: field 'measurements'[%zu]", i);
            TCN_GUARD(tcn_policy_add_measurement(&p, m, n, err));
        }
    }
    if ((v = json_object_get(a, "min_svn")) != NULL) {
        TCN_ENSURE(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 65535, err,
                   TCN_ERR_CONFIG, "policy: field 'min_svn': expected an integer 0..65535");
        p.min_svn = (uint16_t)json_integer_value(v);
    }
    if ((v = json_object_get(a, "tcb_status")) != NULL) {
        TCN_GUARD(string_array(v, "tcb_status", err));
        p.tcb_status_mask = 0;
        json_array_foreach(v, i, e)
        {
            tcn_tcb_status s;
            TCN_ENSURE(tcn_tcb_status_parse(json_string_value(e), &s) == TCN_OK && s != TCN_TCB_NONE, err,
                       TCN_ERR_CONFIG, "policy: field 'tcb_status'[%zu]: '%s' is not an Intel TCB status", i,
                       json_string_value(e));
            p.tcb_status_mask |= TCB_BIT(s);
        }
    }
    if ((v = json_object_get(a, "max_evidence_age_s")) != NULL) {
        TCN_ENSURE(json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 10LL * 365 * 86400,
                   err, TCN_ERR_CONFIG, "policy: field 'max_evidence_age_s': expected seconds, 0..315360000");
        p.max_age_ms = (int64_t)json_integer_value(v) * 1000;
    }
    if ((v = json_object_get(a, "allow_debug")) != NULL) {
        TCN_ENSURE(json_is_boolean(v), err, TCN_ERR_CONFIG, "policy: field 'allow_debug': expected true or false");
        p.allow_debug = json_is_true(v);
    }
    if ((v = json_object_get(a, "require_revocation")) != NULL) {
        TCN_ENSURE(json_is_boolean(v), err, TCN_ERR_CONFIG, "policy: field 'require_revocation': expected true or false");
        p.require_revocation = json_is_true(v);
    }
    if ((v = json_object_get(a, "tdx_rtmrs")) != NULL) {
        TCN_GUARD(string_array(v, "tdx_rtmrs", err));
        json_array_foreach(v, i, e)
        {
            TCN_ENSURE(p.tdx_rtmr_count < TCN_POLICY_MEASUREMENTS_MAX, err, TCN_ERR_CONFIG,
                       "policy: field 'tdx_rtmrs': more than %d entries", TCN_POLICY_MEASUREMENTS_MAX);
            if (tcn_hex_decode_exact(json_string_value(e), p.tdx_rtmrs[p.tdx_rtmr_count], 3 * 48, err) != TCN_OK)
                return tcn_err_wrap(err, "policy: field 'tdx_rtmrs'[%zu] (RTMR0 ‖ RTMR1 ‖ RTMR2)", i);
            p.tdx_rtmr_count++;
        }
    }
    if ((v = json_object_get(a, "sim_platform_keys")) != NULL) {
        TCN_GUARD(string_array(v, "sim_platform_keys", err));
        json_array_foreach(v, i, e)
        {
            uint8_t k[TCN_SIM_PUBKEY_LEN];
            if (tcn_hex_decode_exact(json_string_value(e), k, sizeof(k), err) != TCN_OK)
                return tcn_err_wrap(err, "policy: field 'sim_platform_keys'[%zu]", i);
            uint32_t mask = p.tee_mask;
            TCN_GUARD(tcn_policy_add_sim_key(&p, k, err));
            p.tee_mask = mask; /* naming a key does not by itself opt into sim: 'tee' must say "sim" */
        }
    }
    if ((p.tee_mask & TEE_BIT(TCN_TEE_SIM)) && p.sim_key_count == 0)
        return tcn_err_set(err, TCN_ERR_CONFIG,
                           "policy: field 'tee' accepts sim but 'sim_platform_keys' names no platform key");
    *out = p;
    return TCN_OK;
}

int tcn_policy_load_file(const char *path, tcn_policy *out, tcn_error *err)
{
    uint8_t *raw = NULL;
    size_t len = 0;
    if (tcn_file_read(path, TCN_POLICY_FILE_MAX, &raw, &len, err) != TCN_OK)
        return tcn_err_wrap(err, "config");
    json_error_t jerr;
    json_t *root = json_loadb((const char *)raw, len, JSON_REJECT_DUPLICATES, &jerr);
    free(raw);
    if (root == NULL)
        return tcn_err_set(err, TCN_ERR_CONFIG, "config %s: line %d column %d: %s", path, jerr.line, jerr.column,
                           jerr.text);
    int rc;
    json_t *a = json_object_get(root, "attestation");
    if (!json_is_object(root))
        rc = tcn_err_set(err, TCN_ERR_CONFIG, "config %s: top level must be an object", path);
    else if (a == NULL)
        rc = tcn_err_set(err, TCN_ERR_CONFIG, "config %s: no 'attestation' section", path);
    else if ((rc = tcn_policy_from_json(a, out, err)) != TCN_OK)
        rc = tcn_err_wrap(err, "config %s", path);
    json_decref(root);
    return rc;
}

static void tee_list(uint32_t mask, char *out, size_t cap)
{
    size_t pos = 0;
    out[0] = '\0';
    for (int t = TCN_TEE_SIM; t <= TCN_TEE_NITRO; t++) {
        if (!(mask & TEE_BIT(t)))
            continue;
        int n = snprintf(out + pos, cap - pos, "%s%s", pos ? ", " : "", tcn_tee_name((tcn_tee_type)t));
        if (n < 0 || (size_t)n >= cap - pos)
            break;
        pos += (size_t)n;
    }
}

static int measurement_match(const tcn_policy_measurement *m, const tcn_claims *c)
{
    return m->len == c->measurement_len && tcn_ct_equal(m->v, c->measurement, m->len);
}

int tcn_policy_check(const tcn_policy *p, const tcn_claims *c, int64_t now_ms, tcn_error *err)
{
    char exp[128];
    if (!(p->tee_mask & TEE_BIT(c->tee))) {
        tee_list(p->tee_mask, exp, sizeof(exp));
        return tcn_err_set(err, TCN_ERR_POLICY, "policy: field 'tee': expected one of [%s], actual %s", exp,
                           tcn_tee_name(c->tee));
    }
    if (c->tee == TCN_TEE_SIM) {
        int named = 0;
        for (size_t i = 0; i < p->sim_key_count; i++)
            named |= tcn_ct_equal(p->sim_keys[i], c->sim_platform_key, TCN_SIM_PUBKEY_LEN);
        char hex[65];
        tcn_hex_encode(c->sim_platform_key, 32, hex);
        TCN_ENSURE(named, err, TCN_ERR_POLICY, "policy: field 'sim_platform_keys': platform key %s is not named", hex);
    }
    TCN_ENSURE(!c->debug || p->allow_debug, err, TCN_ERR_DEBUG,
               "policy: field 'allow_debug': expected a production enclave, actual debug (%s)",
               c->tee == TCN_TEE_NITRO ? "PCR0 is all zero" : c->tee == TCN_TEE_SIM ? "debug flag set" : "DEBUG attribute set");
    if (!p->measurement_any) {
        int ok = p->measurement_self && p->self.len > 0 && measurement_match(&p->self, c);
        for (size_t i = 0; !ok && i < p->measurement_count; i++)
            ok = measurement_match(&p->measurements[i], c);
        if (!ok) {
            char act[2 * TCN_MEASUREMENT_MAX + 1], first[2 * TCN_MEASUREMENT_MAX + 1] = "";
            tcn_hex_encode(c->measurement, c->measurement_len, act);
            const tcn_policy_measurement *show = p->measurement_self && p->self.len ? &p->self
                                                 : p->measurement_count ? &p->measurements[0]
                                                                        : NULL;
            if (show != NULL)
                tcn_hex_encode(show->v, show->len, first);
            size_t n = p->measurement_count + (p->measurement_self ? 1 : 0);
            return tcn_err_set(err, TCN_ERR_POLICY, "policy: field 'measurements': expected %s%s%s, actual %s",
                               n > 1 ? "one of " : "", first[0] ? first : "self (unknown to this verifier)",
                               n > 1 ? " (and others)" : "", act);
        }
    }
    if (!p->measurement_any && c->tee == TCN_TEE_TDX) {
        int ok = 0;
        for (size_t i = 0; !ok && i < p->tdx_rtmr_count; i++)
            ok = tcn_ct_equal(p->tdx_rtmrs[i], c->rtmr, sizeof(p->tdx_rtmrs[i]));
        if (!ok) {
            char act[2 * 48 + 1];
            tcn_hex_encode(c->rtmr[2], 48, act);
            return tcn_err_set(err, TCN_ERR_POLICY,
                               "policy: field 'tdx_rtmrs': expected one of %zu allowed RTMR0..2 sets, actual RTMR2 %s "
                               "(MRTD alone measures only the firmware)",
                               p->tdx_rtmr_count, act);
        }
    }
    TCN_ENSURE(!(c->tee == TCN_TEE_SGX || c->tee == TCN_TEE_TDX) || c->revocation_checked || !p->require_revocation,
               err, TCN_ERR_POLICY,
               "policy: field 'require_revocation': expected the PCK chain checked against Intel's CRLs, actual "
               "collateral without pck_crl.der and root_ca_crl.der");
    TCN_ENSURE(c->svn >= p->min_svn, err, TCN_ERR_POLICY, "policy: field 'min_svn': expected >= %u, actual %u",
               p->min_svn, c->svn);
    if (c->tee == TCN_TEE_SGX || c->tee == TCN_TEE_TDX) {
        if (!(p->tcb_status_mask & TCB_BIT(c->tcb_status))) {
            char acc[256];
            size_t pos = 0;
            acc[0] = '\0';
            for (int s = TCN_TCB_UP_TO_DATE; s < TCN_TCB_COUNT_; s++)
                if (p->tcb_status_mask & TCB_BIT(s)) {
                    int n = snprintf(acc + pos, sizeof(acc) - pos, "%s%s", pos ? ", " : "",
                                     tcn_tcb_status_name((tcn_tcb_status)s));
                    if (n < 0 || (size_t)n >= sizeof(acc) - pos)
                        break;
                    pos += (size_t)n;
                }
            return tcn_err_set(err, TCN_ERR_POLICY, "policy: field 'tcb_status': expected one of [%s], actual %s", acc,
                               tcn_tcb_status_name(c->tcb_status));
        }
    }
    if (p->max_age_ms > 0 && c->timestamp_ms > 0) {
        int64_t age = now_ms - c->timestamp_ms;
        TCN_ENSURE(age <= p->max_age_ms, err, TCN_ERR_POLICY,
                   "policy: field 'max_evidence_age_s': expected <= %lld s, actual %lld s",
                   (long long)(p->max_age_ms / 1000), (long long)(age / 1000));
        TCN_ENSURE(age >= -TCN_POLICY_FUTURE_SKEW_MS, err, TCN_ERR_POLICY,
                   "policy: field 'max_evidence_age_s': evidence is dated %lld s in the future",
                   (long long)(-age / 1000));
    }
    return TCN_OK;
}
