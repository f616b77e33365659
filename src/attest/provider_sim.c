/* Evidence provider for the simulated TEE. */
#include <stdlib.h>
#include <string.h>

#include "attest/provider.h"
#include "attest/sim.h"
#include "util/timefmt.h"

struct sim_provider {
    tcn_provider base; /* first: the provider table */
    tcn_sim_platform platform;
    uint8_t measurement[TCN_SIM_MEASUREMENT_LEN];
};

static int sim_evidence(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out, tcn_error *err)
{
    struct sim_provider *s = (struct sim_provider *)p;
    tcn_sim_report r;
    memset(&r, 0, sizeof(r));
    memcpy(r.measurement, s->measurement, sizeof(r.measurement));
    memcpy(r.report_data, report_data, TCN_REPORT_DATA_LEN);
    r.issued_at_ms = tcn_time_now_ms();
    uint8_t ev[TCN_SIM_EVIDENCE_LEN];
    tcn_sim_evidence_create(&s->platform, &r, ev);
    int rc = tcn_buf_append(out, ev, sizeof(ev));
    TCN_ENSURE(rc == TCN_OK, err, rc, NULL);
    return TCN_OK;
}

static void sim_destroy(tcn_provider *p)
{
    struct sim_provider *s = (struct sim_provider *)p;
    tcn_sim_platform_free(&s->platform);
    free(s);
}

int tcn_provider_sim_new(const char *platform_key_path, const char *exe_path, tcn_provider **out, tcn_error *err)
{
    struct sim_provider *s = calloc(1, sizeof(*s));
    TCN_ENSURE(s != NULL, err, TCN_ERR_NOMEM, NULL);
    s->base.tee = TCN_TEE_SIM;
    s->base.evidence = sim_evidence;
    s->base.destroy = sim_destroy;
    int rc = tcn_sim_platform_load(platform_key_path, &s->platform, err);
    if (rc == TCN_OK)
        rc = exe_path ? tcn_sim_measure_file(exe_path, s->measurement, err) : tcn_sim_measure_self(s->measurement, err);
    if (rc != TCN_OK) {
        tcn_sim_platform_free(&s->platform);
        free(s);
        return tcn_err_wrap(err, "sim provider");
    }
    *out = &s->base;
    return TCN_OK;
}

int tcn_provider_evidence(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out,
                          tcn_error *err)
{
    return p->evidence(p, report_data, out, err);
}

void tcn_provider_free(tcn_provider *p)
{
    if (p != NULL)
        p->destroy(p);
}
