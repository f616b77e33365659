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
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return tcn_err_set(err, TCN_ERR_IO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return tcn_err_set(err, TCN_ERR_TOO_LARGE, "%s: %lld bytes exceed the limit of %zu", path,
                           (long long)st.st_size, max);
    }
    size_t cap = (size_t)st.st_size;
    uint8_t *buf = malloc(cap + 1);
    if (buf == NULL) {
        close(fd);
        return tcn_err_set(err, TCN_ERR_NOMEM, NULL);
    }
    size_t got = 0;
    for (;;) {
        if (got == cap) {
            /* The file may have grown since fstat: read one more byte to know. */
            uint8_t extra;
            ssize_t r = read(fd, &extra, 1);
            if (r == 0)
                break;
            free(buf);
            close(fd);
            return tcn_err_set(err, r < 0 ? TCN_ERR_IO : TCN_ERR_TOO_LARGE, "%s: file changed while reading", path);
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            close(fd);
            return tcn_err_set(err, TCN_ERR_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
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
