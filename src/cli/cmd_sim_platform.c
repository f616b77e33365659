/* tcn sim-platform: keys and evidence of the simulated TEE (development only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/sim.h"
#include "cli/cli.h"
#include "util/encoding.h"
#include "util/file.h"
#include "util/timefmt.h"

static const char usage_text[] =
    "usage: tcn sim-platform keygen --out FILE [--json]\n"
    "       tcn sim-platform pubkey FILE [--json]\n"
    "       tcn sim-platform quote --key FILE --exe PATH [--report-data HEX] [--debug] --out FILE [--json]\n"
    "  keygen  create a sim platform key (it plays the TEE vendor's role; insecure by construction)\n"
    "  pubkey  print the public key of a key file (what a policy's sim_platform_keys names)\n"
    "  quote   sim evidence for an executable: measurement = SHA-384 of PATH\n";

static int usage_error(const char *msg)
{
    fprintf(stderr, "tcn sim-platform: %s\n%s", msg, usage_text);
    return TCN_EXIT_USAGE;
}

static int fail(const tcn_error *err)
{
    fprintf(stderr, "tcn sim-platform: %s\n", err->msg);
    return TCN_EXIT_FAIL;
}

int tcn_cmd_sim_platform(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing subcommand");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        fputs(usage_text, stdout);
        return TCN_EXIT_OK;
    }
    const char *out = NULL, *key = NULL, *exe = NULL, *rd_hex = NULL, *pos = NULL;
    int json = 0, debug = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--json") == 0)
            json = 1;
        else if (strcmp(a, "--debug") == 0)
            debug = 1;
        else if (strcmp(a, "--out") == 0)
            slot = &out;
        else if (strcmp(a, "--key") == 0)
            slot = &key;
        else if (strcmp(a, "--exe") == 0)
            slot = &exe;
        else if (strcmp(a, "--report-data") == 0)
            slot = &rd_hex;
        else if (a[0] == '-')
            return usage_error("unknown option");
        else if (pos == NULL)
            pos = a;
        else
            return usage_error("unexpected argument");
        if (slot != NULL) {
            if (i + 1 >= argc)
                return usage_error("option needs a value");
            *slot = argv[++i];
        }
    }
    tcn_error err;
    tcn_err_clear(&err);
    tcn_sim_platform p = {0};
    char pk[65];
    if (strcmp(sub, "keygen") == 0) {
        if (out == NULL)
            return usage_error("keygen needs --out FILE");
        if (tcn_sim_platform_generate(&p, &err) != TCN_OK || tcn_sim_platform_save(&p, out, &err) != TCN_OK) {
            tcn_sim_platform_free(&p);
            return fail(&err);
        }
        tcn_hex_encode(p.pk, 32, pk);
        tcn_sim_platform_free(&p);
        if (json)
            tcn_cli_json_print(json_pack("{s:s,s:s}", "key_file", out, "public_key", pk));
        else
            printf("sim platform key written to %s\npublic key %s\n", out, pk);
        return TCN_EXIT_OK;
    }
    if (strcmp(sub, "pubkey") == 0) {
        if (pos == NULL)
            return usage_error("pubkey needs FILE");
        if (tcn_sim_platform_load(pos, &p, &err) != TCN_OK)
            return fail(&err);
        tcn_hex_encode(p.pk, 32, pk);
        tcn_sim_platform_free(&p);
        if (json)
            tcn_cli_json_print(json_pack("{s:s}", "public_key", pk));
        else
            printf("%s\n", pk);
        return TCN_EXIT_OK;
    }
    if (strcmp(sub, "quote") == 0) {
        if (key == NULL || exe == NULL || out == NULL)
            return usage_error("quote needs --key FILE --exe PATH --out FILE");
        tcn_sim_report r;
        memset(&r, 0, sizeof(r));
        if (rd_hex != NULL) {
            size_t n = 0;
            if (tcn_hex_decode(rd_hex, r.report_data, sizeof(r.report_data), &n, &err) != TCN_OK) {
                fprintf(stderr, "tcn sim-platform: --report-data: %s\n", err.msg);
                return TCN_EXIT_USAGE;
            }
        }
        r.debug = debug;
        r.issued_at_ms = tcn_time_now_ms();
        if (tcn_sim_measure_file(exe, r.measurement, &err) != TCN_OK)
            return fail(&err);
        if (tcn_sim_platform_load(key, &p, &err) != TCN_OK)
            return fail(&err);
        uint8_t ev[TCN_SIM_EVIDENCE_LEN];
        tcn_sim_evidence_create(&p, &r, ev);
        tcn_hex_encode(p.pk, 32, pk);
        tcn_sim_platform_free(&p);
        if (tcn_file_write(out, ev, sizeof(ev), 0644, &err) != TCN_OK)
            return fail(&err);
        char m[2 * TCN_SIM_MEASUREMENT_LEN + 1];
        tcn_hex_encode(r.measurement, sizeof(r.measurement), m);
        if (json)
            tcn_cli_json_print(
                json_pack("{s:s,s:s,s:s}", "evidence_file", out, "measurement", m, "platform_key", pk));
        else
            printf("sim evidence for %s written to %s\nmeasurement %s\n", exe, out, m);
        return TCN_EXIT_OK;
    }
    return usage_error("unknown subcommand");
}
