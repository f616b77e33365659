/* Test helper: a sim-TEE RA-TLS server context (see testlib_ratls.h). */
#include "testlib_ratls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/provider.h"
#include "attest/sim.h"
#include "tls/ratls.h"
#include "util/buf.h"

typedef struct priv {
    char dir[64];
    char key_path[96];
    tcn_sim_platform plat, other;
    tcn_provider *prov;
    tcn_ratls_identity *id;
} priv;

int tcn_test_ratls_new(const uint8_t *group_id, tcn_test_ratls *out)
{
    memset(out, 0, sizeof(*out));
    priv *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return -1;
    out->priv_ = p;
    tcn_error e;
    snprintf(p->dir, sizeof(p->dir), "/tmp/tcn-test-ratls-XXXXXX");
    if (mkdtemp(p->dir) == NULL)
        return -1;
    snprintf(p->key_path, sizeof(p->key_path), "%s/platform.key", p->dir);
    if (tcn_sim_platform_generate(&p->plat, &e) != TCN_OK || tcn_sim_platform_generate(&p->other, &e) != TCN_OK ||
        tcn_sim_platform_save(&p->plat, p->key_path, &e) != TCN_OK ||
        tcn_provider_sim_new(p->key_path, NULL, &p->prov, &e) != TCN_OK ||
        tcn_sim_measure_self(out->measurement, &e) != TCN_OK ||
        tcn_ratls_identity_new(p->prov, group_id, &p->id, &e) != TCN_OK ||
        tcn_ratls_ctx_new(TCN_RATLS_SERVER, p->id, NULL, &out->server_ctx, &e) != TCN_OK) {
        fprintf(stderr, "testlib_ratls: %s\n", e.msg);
        return -1;
    }
    memcpy(out->platform_pk, p->plat.pk, 32);
    memcpy(out->other_platform_pk, p->other.pk, 32);
    return 0;
}

int tcn_test_ratls_cert_der(const tcn_test_ratls *t, uint8_t **der, size_t *len)
{
    priv *p = t->priv_;
    tcn_buf b = {0};
    tcn_error e;
    if (tcn_ratls_identity_cert_der(p->id, &b, &e) != TCN_OK)
        return -1;
    *der = b.p;
    *len = b.len;
    return 0;
}

void tcn_test_ratls_free(tcn_test_ratls *t)
{
    priv *p = t->priv_;
    SSL_CTX_free(t->server_ctx);
    if (p != NULL) {
        tcn_ratls_identity_free(p->id);
        tcn_provider_free(p->prov);
        tcn_sim_platform_free(&p->plat);
        tcn_sim_platform_free(&p->other);
        unlink(p->key_path);
        rmdir(p->dir);
        free(p);
    }
    memset(t, 0, sizeof(*t));
}
