/* tcn verify-evidence: verify SGX/TDX/Nitro/sim evidence and print its claims. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "attest/dcap.h"
#include "attest/evidence.h"
#include "attest/policy.h"
#include "cli/cli.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/timefmt.h"

static const char usage_text[] =
    "usage: tcn verify-evidence [--type sgx|tdx|nitro|sim] FILE [--collateral DIR] [--at RFC3339]\n"
    "                           [--policy FILE] [--allow-debug] [--sim-platform-key HEX] [--json]\n"
    "  FILE              the evidence: a DCAP quote, a Nitro attestation document, or sim evidence\n"
    "  --type            skip detection\n"
    "  --collateral DIR  SGX/TDX collateral: tcb_info.json, qe_identity.json, their *_issuer_chain.pem,\n"
    "                    pck_crl.der + pck_crl_issuer_chain.pem + root_ca_crl.der (CRLs optional, as a set)\n"
    "  --at TIME         verification time (default: now): certificates, CRLs and Intel's\n"
    "                    collateral must all be valid then\n"
    "  --policy FILE     config file whose \"attestation\" object is the policy (default: SGX, TDX,\n"
    "                    Nitro; every TCB status but Revoked; no debug; any measurement; no sim)\n"
    "  --allow-debug     accept debug enclaves\n"
    "  --sim-platform-key HEX  accept sim evidence signed by this platform key\n"
    "  --json            print one JSON object\n"
    "exit: 0 authentic and accepted, 1 rejected (the failed check is named), 2 usage error\n";

static int usage_error(const char *what, const char *detail)
{
    fprintf(stderr, "tcn verify-evidence: %s%s\n%s", what, detail, usage_text);
    return TCN_EXIT_USAGE;
}

static void print_failure(int json, const char *file, tcn_tee_type tee, const tcn_error *err, const tcn_claims *c)
{
    if (json) {
        json_t *o = c->tee != TCN_TEE_NONE ? tcn_claims_to_json(c) : json_object();
        json_object_set_new(o, "file", json_string(file));
        json_object_set_new(o, "verified", json_false());
        if (c->tee == TCN_TEE_NONE)
            json_object_set_new(o, "tee", json_string(tcn_tee_name(tee)));
        json_object_set_new(o, "error", json_string(err->msg));
        json_object_set_new(o, "error_code", json_string(tcn_err_name(err->code)));
        json_object_set_new(o, "error_category", json_string(tcn_err_category_name(tcn_err_category_of(err->code))));
        tcn_cli_json_print(o);
    }
    fprintf(stderr, "REJECTED %s: %s\n", file, err->msg);
}

static void print_claims_text(const tcn_claims *c)
{
    json_t *o = tcn_claims_to_json(c);
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
    {
        if (json_is_string(v)) {
            size_t n = strlen(json_string_value(v));
            if (n > 128)
                printf("  %-14s %.96s... (%zu bytes; --json prints all)\n", k, json_string_value(v), n / 2);
            else
                printf("  %-14s %s\n", k, json_string_value(v));
        } else if (json_is_null(v)) {
            printf("  %-14s -\n", k);
        } else {
            char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            /* PCR maps and long fields: keep one line each, but not unbounded. */
            printf("  %-14s %.300s%s\n", k, s, strlen(s) > 300 ? "... (--json prints all)" : "");
            free(s);
        }
    }
    json_decref(o);
}

int tcn_cmd_verify_evidence(int argc, char **argv)
{
    const char *file = NULL, *coll_dir = NULL, *at_s = NULL, *policy_path = NULL, *type_s = NULL, *sim_key = NULL;
    int json = 0, allow_debug = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return TCN_EXIT_OK;
        } else if (strcmp(a, "--json") == 0) {
            json = 1;
        } else if (strcmp(a, "--allow-debug") == 0) {
            allow_debug = 1;
        } else if (strcmp(a, "--type") == 0) {
            slot = &type_s;
        } else if (strcmp(a, "--collateral") == 0) {
            slot = &coll_dir;
        } else if (strcmp(a, "--at") == 0) {
            slot = &at_s;
        } else if (strcmp(a, "--policy") == 0) {
            slot = &policy_path;
        } else if (strcmp(a, "--sim-platform-key") == 0) {
            slot = &sim_key;
        } else if (a[0] == '-' && a[1] != '\0') {
            return usage_error("unknown option ", a);
        } else if (file != NULL) {
            return usage_error("more than one FILE: ", a);
        } else {
            file = a;
        }
        if (slot != NULL) {
            if (i + 1 >= argc)
                return usage_error("this option needs a value: ", a);
            *slot = argv[++i];
        }
    }
    if (file == NULL)
        return usage_error("missing FILE", "");

    tcn_error err;
    tcn_err_clear(&err);
    tcn_verify_opts o;
    memset(&o, 0, sizeof(o));
    if (type_s != NULL && tcn_tee_parse(type_s, &o.type) != TCN_OK)
        return usage_error("--type must be one of sgx, tdx, nitro, sim, not ", type_s);
    o.at_ms = tcn_time_now_ms();
    if (at_s != NULL && tcn_time_parse_rfc3339(at_s, &o.at_ms, &err) != TCN_OK)
        return usage_error("--at: ", err.msg);

    tcn_policy policy;
    if (policy_path != NULL) {
        if (tcn_policy_load_file(policy_path, &policy, &err) != TCN_OK) {
            fprintf(stderr, "tcn verify-evidence: %s\n", err.msg);
            return TCN_EXIT_USAGE;
        }
    } else {
        tcn_policy_default(&policy);
    }
    if (allow_debug)
        policy.allow_debug = true;
    if (sim_key != NULL) {
        uint8_t k[TCN_SIM_PUBKEY_LEN];
        if (tcn_hex_decode_exact(sim_key, k, sizeof(k), &err) != TCN_OK)
            return usage_error("--sim-platform-key: ", err.msg);
        if (tcn_policy_add_sim_key(&policy, k, &err) != TCN_OK)
            return usage_error("", err.msg);
    }
    o.policy = &policy;

    uint8_t *ev = NULL;
    size_t len = 0;
    tcn_claims claims;
    memset(&claims, 0, sizeof(claims));
    if (tcn_file_read(file, TCN_EVIDENCE_MAX, &ev, &len, &err) != TCN_OK) {
        print_failure(json, file, o.type, &err, &claims);
        return TCN_EXIT_FAIL;
    }
    tcn_tee_type tee = o.type != TCN_TEE_NONE ? o.type : tcn_evidence_detect(ev, len);
    tcn_dcap_collateral coll;
    memset(&coll, 0, sizeof(coll));
    int have_coll = 0;
    if (coll_dir != NULL) {
        if (tcn_dcap_collateral_load_dir(coll_dir, &coll, &err) != TCN_OK) {
            free(ev);
            print_failure(json, file, tee, &err, &claims);
            return TCN_EXIT_FAIL;
        }
        have_coll = 1;
        o.collateral = &coll;
    }
    int rc = tcn_evidence_verify(ev, len, &o, &claims, &err);
    free(ev);
    if (have_coll)
        tcn_dcap_collateral_free(&coll);
    if (rc != TCN_OK) {
        print_failure(json, file, tee, &err, &claims);
        return TCN_EXIT_FAIL;
    }
    char at[40];
    tcn_time_format_rfc3339(o.at_ms, at, sizeof(at));
    if (json) {
        json_t *j = tcn_claims_to_json(&claims);
        json_object_set_new(j, "file", json_string(file));
        json_object_set_new(j, "verified", json_true());
        json_object_set_new(j, "verified_at", json_string(at));
        tcn_cli_json_print(j);
    } else {
        printf("OK %s: authentic %s evidence, accepted by the policy (verified at %s)\n", file,
               tcn_tee_name(claims.tee), at);
        print_claims_text(&claims);
    }
    return TCN_EXIT_OK;
}
