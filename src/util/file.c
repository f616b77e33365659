/* Whole-file reads and writes with size limits. */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tcn_file_read(const char *path, size_t max, uint8_t **out, size_t *out_len, tcn_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return tcn_err_set(err, errno == ENOENT ? TCN_ERR_NOT_FOUND : TCN_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || S_ISDIR(st.st_mode)) {
        close(fd);
        return tcn_err_set(err, TCN_ERR_IO, "%s: not a regular file", path);
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
        close(fd);
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "%s: %lld bytes exceed the limit of %zu", path,
                           (long long)st.st_size, max);
    }
    /* st_size is only a hint: pseudo-files (Gramine's /dev/attestation, /proc)
     * report 0 or a wrong size, so read to end of file, growing as needed. */
    size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
    if (cap > max + 1)
        cap = max + 1;
    uint8_t *buf = malloc(cap + 1);
    size_t got = 0;
    int rc = buf == NULL ? tcn_err_set(err, TCN_ERR_NOMEM, NULL) : TCN_OK;
    while (rc == TCN_OK) {
        if (got == cap) {
            if (cap > max) {
                rc = tcn_err_set(err, TCN_ERR_TOO_LARGE, "%s: more than the limit of %zu bytes", path, max);
                break;
            }
            size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
            uint8_t *nb = realloc(buf, ncap + 1);
            if (nb == NULL) {
                rc = tcn_err_set(err, TCN_ERR_NOMEM, NULL);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            rc = tcn_err_set(err, TCN_ERR_IO, "%s: %s", path, strerror(errno));
        else if (r == 0)
            break;
        else
            got += (size_t)r;
    }
    close(fd);
    if (rc == TCN_OK && got > max)
        rc = tcn_err_set(err, TCN_ERR_TOO_LARGE, "%s: more than the limit of %zu bytes", path, max);
    if (rc != TCN_OK) {
        free(buf);
        return rc;
    }
    buf[got] = '\0';
    *out = buf;
    *out_len = got;
    return TCN_OK;
}

int tcn_file_write(const char *path, const void *p, size_t n, unsigned mode, tcn_error *err)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
        return tcn_err_set(err, TCN_ERR_USAGE, "path too long");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
    if (fd < 0)
        return tcn_err_set(err, TCN_ERR_IO, "%s: %s", tmp, strerror(errno));
    const uint8_t *b = p;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, b + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            int e = errno;
            close(fd);
            unlink(tmp);
            return tcn_err_set(err, TCN_ERR_IO, "%s: %s", tmp, strerror(e));
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        unlink(tmp);
        return tcn_err_set(err, TCN_ERR_IO, "%s: %s", tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return tcn_err_set(err, TCN_ERR_IO, "%s: %s", path, strerror(e));
    }
    return TCN_OK;
}
