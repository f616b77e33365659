/* Names, parsing and JSON form of claims. */
#include "attest/claims.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/assert.h"
#include "util/encoding.h"
#include "util/timefmt.h"

static const char *tee_names[] = {"none", "sim", "sgx", "tdx", "nitro"};

const char *tcn_tee_name(tcn_tee_type t)
{
    if ((unsigned)t >= TCN_ARRAY_LEN(tee_names))
        return "none";
    return tee_names[t];
}

int tcn_tee_parse(const char *s, tcn_tee_type *out)
{
    for (size_t i = 1; i < TCN_ARRAY_LEN(tee_names); i++)
        if (strcmp(s, tee_names[i]) == 0) {
            *out = (tcn_tee_type)i;
            return TCN_OK;
        }
    return TCN_ERR_MALFORMED;
}

static const char *tcb_names[TCN_TCB_COUNT_] = {
    [TCN_TCB_NONE] = "None",
    [TCN_TCB_UP_TO_DATE] = "UpToDate",
    [TCN_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [TCN_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [TCN_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [TCN_TCB_OUT_OF_DATE] = "OutOfDate",
    [TCN_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [TCN_TCB_REVOKED] = "Revoked",
};

const char *tcn_tcb_status_name(tcn_tcb_status s)
{
    if ((unsigned)s >= TCN_TCB_COUNT_)
        return "None";
    return tcb_names[s];
}

int tcn_tcb_status_parse(const char *s, tcn_tcb_status *out)
{
    for (int i = 0; i < TCN_TCB_COUNT_; i++)
        if (strcmp(s, tcb_names[i]) == 0) {
            *out = (tcn_tcb_status)i;
            return TCN_OK;
        }
    return TCN_ERR_MALFORMED;
}

void tcn_claims_add_advisory(tcn_claims *c, const char *id)
{
    for (size_t i = 0; i < c->advisory_count; i++)
        if (strcmp(c->advisory_ids[i], id) == 0)
            return;
    if (c->advisory_count >= TCN_ADVISORY_MAX)
        return;
    snprintf(c->advisory_ids[c->advisory_count++], TCN_ADVISORY_ID_MAX, "%s", id);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    char *s = tcn_hex_dup(p, n);
    TCN_ASSERT(s != NULL);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static json_t *field_json(const tcn_bytes_field *f)
{
    return f->present ? hex_json(f->data, f->len) : json_null();
}

json_t *tcn_claims_to_json(const tcn_claims *c)
{
    json_t *o = json_object();
    TCN_ASSERT(o != NULL);
    json_object_set_new(o, "tee", json_string(tcn_tee_name(c->tee)));
    json_object_set_new(o, "measurement", hex_json(c->measurement, c->measurement_len));
    json_object_set_new(o, "signer", c->signer_len ? hex_json(c->signer, c->signer_len) : json_null());
    json_object_set_new(o, "product_id", json_integer(c->product_id));
    json_object_set_new(o, "svn", json_integer(c->svn));
    json_object_set_new(o, "report_data",
                        c->report_data_present ? hex_json(c->report_data, TCN_REPORT_DATA_LEN) : json_null());
    json_object_set_new(o, "debug", json_boolean(c->debug));
    json_object_set_new(o, "tcb_status",
                        c->tcb_status == TCN_TCB_NONE ? json_null() : json_string(tcn_tcb_status_name(c->tcb_status)));
    json_t *adv = json_array();
    for (size_t i = 0; i < c->advisory_count; i++)
        json_array_append_new(adv, json_string(c->advisory_ids[i]));
    json_object_set_new(o, "advisory_ids", adv);
    /* SGX/TDX quotes carry no time: null rather than an invented one. */
    if (c->timestamp_ms > 0) {
        char ts[40];
        tcn_time_format_rfc3339_ms(c->timestamp_ms, ts, sizeof(ts));
        json_object_set_new(o, "timestamp", json_string(ts));
        json_object_set_new(o, "timestamp_ms", json_integer(c->timestamp_ms));
    } else {
        json_object_set_new(o, "timestamp", json_null());
        json_object_set_new(o, "timestamp_ms", json_null());
    }
    if (c->tee == TCN_TEE_NITRO) {
        json_t *pcrs = json_object();
        for (unsigned i = 0; i < TCN_NITRO_PCR_COUNT; i++) {
            if (!(c->pcr_present & (1u << i)))
                continue;
            char k[8];
            snprintf(k, sizeof(k), "%u", i);
            json_object_set_new(pcrs, k, hex_json(c->pcrs[i], c->pcr_len));
        }
        json_object_set_new(o, "pcrs", pcrs);
        json_object_set_new(o, "module_id", json_string(c->module_id));
        json_object_set_new(o, "user_data", field_json(&c->user_data));
        json_object_set_new(o, "nonce", field_json(&c->nonce));
        json_object_set_new(o, "public_key", field_json(&c->public_key));
    }
    if (c->tee == TCN_TEE_SGX || c->tee == TCN_TEE_TDX)
        json_object_set_new(o, "revocation_checked", json_boolean(c->revocation_checked));
    if (c->tee == TCN_TEE_TDX) {
        json_t *r = json_array();
        for (int i = 0; i < 4; i++)
            json_array_append_new(r, hex_json(c->rtmr[i], 48));
        json_object_set_new(o, "rtmrs", r);
    }
    if (c->tee == TCN_TEE_SIM)
        json_object_set_new(o, "sim_platform_key", hex_json(c->sim_platform_key, 32));
    return o;
}
