/* Evidence provider for SGX under Gramine: the /dev/attestation pseudo-files
 * (Gramine documentation, "Attestation and Secret Provisioning": write 64 bytes
 * to user_report_data, then read quote; attestation_type names the scheme). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/dcap.h"
#include "attest/provider.h"
#include "util/file.h"

struct gramine_provider {
    tcn_provider base;
    char dir[512];
};

static int path_in(const struct gramine_provider *g, const char *name, char *out, size_t cap, tcn_error *err)
{
    int n = snprintf(out, cap, "%s/%s", g->dir, name);
    TCN_ENSURE(n > 0 && (size_t)n < cap, err, TCN_ERR_USAGE, "gramine: path too long");
    return TCN_OK;
}

static int write_all(const char *path, const uint8_t *p, size_t n, tcn_error *err)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    TCN_ENSURE(fd >= 0, err, TCN_ERR_IO, "gramine: open %s: %s", path, strerror(errno));
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, p + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return tcn_err_set(err, TCN_ERR_IO, "gramine: write %s: %s", path, strerror(e));
        }
        done += (size_t)w;
    }
    TCN_ENSURE(close(fd) == 0, err, TCN_ERR_IO, "gramine: close %s: %s", path, strerror(errno));
    return TCN_OK;
}

static int gramine_evidence(tcn_provider *p, const uint8_t report_data[TCN_REPORT_DATA_LEN], tcn_buf *out,
                            tcn_error *err)
{
    struct gramine_provider *g = (struct gramine_provider *)p;
    char path[600];
    TCN_GUARD(path_in(g, "user_report_data", path, sizeof(path), err));
    TCN_GUARD(write_all(path, report_data, TCN_REPORT_DATA_LEN, err));
    TCN_GUARD(path_in(g, "quote", path, sizeof(path), err));
    uint8_t *q = NULL;
    size_t n = 0;
    if (tcn_file_read(path, TCN_DCAP_QUOTE_MAX, &q, &n, err) != TCN_OK)
        return tcn_err_wrap(err, "gramine: quote");
    int rc;
    if (n < 48)
        rc = tcn_err_set(err, TCN_ERR_TRUNCATED, "gramine: quote has %zu bytes, less than a quote header", n);
    else if ((rc = tcn_buf_append(out, q, n)) != TCN_OK)
        rc = tcn_err_set(err, rc, "gramine: cannot keep the quote");
    free(q);
    return rc;
}

static void gramine_destroy(tcn_provider *p) { free(p); }

int tcn_provider_gramine_new(const char *dir, tcn_provider **out, tcn_error *err)
{
    struct gramine_provider *g = calloc(1, sizeof(*g));
    TCN_ENSURE(g != NULL, err, TCN_ERR_NOMEM, NULL);
    g->base.tee = TCN_TEE_SGX;
    g->base.evidence = gramine_evidence;
    g->base.destroy = gramine_destroy;
    int n = snprintf(g->dir, sizeof(g->dir), "%s", dir ? dir : "/dev/attestation");
    char path[600];
    uint8_t *type = NULL;
    size_t tlen = 0;
    int rc = (n > 0 && (size_t)n < sizeof(g->dir)) ? TCN_OK : tcn_err_set(err, TCN_ERR_USAGE, "gramine: path too long");
    if (rc == TCN_OK)
        rc = path_in(g, "attestation_type", path, sizeof(path), err);
    if (rc == TCN_OK && (rc = tcn_file_read(path, 64, &type, &tlen, err)) != TCN_OK)
        rc = tcn_err_wrap(err, "gramine: not running under Gramine with attestation");
    if (rc == TCN_OK) {
        while (tlen > 0 && (type[tlen - 1] == '\n' || type[tlen - 1] == '\0'))
            type[--tlen] = '\0';
        if (strcmp((char *)type, "dcap") != 0)
            rc = tcn_err_set(err, TCN_ERR_UNSUPPORTED, "gramine: attestation_type is '%s', expected 'dcap'",
                             (char *)type);
    }
    free(type);
    if (rc != TCN_OK) {
        free(g);
        return rc;
    }
    *out = &g->base;
    return TCN_OK;
}
