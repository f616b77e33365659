/* Evidence provider for AWS Nitro Enclaves: an Attestation request to the NSM
 * device with the report data as user_data (encoding in nitro_nsm.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attest/nitro.h"
#include "attest/provider.h"

struct nitro_provider {
    tcn_provider base;
    char dev[256];
};

static int nitro_evidence(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out,
                          tcn_error *err)
{
    struct nitro_provider *n = (struct nitro_provider *)p;
    if (tcn_nitro_nsm_attest(n->dev, report_data, out, err) != TCN_OK)
        return tcn_err_wrap(err, "nitro provider");
    return TCN_OK;
}

static void nitro_destroy(tcn_provider *p) { free(p); }

int tcn_provider_nitro_new(const char *dev_path, tcn_provider **out, tcn_error *err)
{
    struct nitro_provider *n = calloc(1, sizeof(*n));
    TCN_ENSURE(n != NULL, err, TCN_ERR_NOMEM, NULL);
    int len = snprintf(n->dev, sizeof(n->dev), "%s", dev_path ? dev_path : "/dev/nsm");
    if (len <= 0 || (size_t)len >= sizeof(n->dev)) {
        free(n);
        return tcn_err_set(err, TCN_ERR_USAGE, "nitro provider: device path too long");
    }
    n->base.tee = TCN_TEE_NITRO;
    n->base.evidence = nitro_evidence;
    n->base.destroy = nitro_destroy;
    *out = &n->base;
    return TCN_OK;
}
