/* LD_PRELOAD shim for a diagnosis only (bench/writes.sh --nodelay): sets
 * TCP_NODELAY on every TCP socket a process connects or accepts, to show
 * what Nagle's algorithm costs a daemon that does not set it. Not part of
 * any product path. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd)
{
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* fails harmlessly on non-TCP */
}

int connect(int fd, const struct sockaddr *a, socklen_t l)
{
    static int (*real)(int, const struct sockaddr *, socklen_t);
    if (!real)
        real = (int (*)(int, const struct sockaddr *, socklen_t))dlsym(RTLD_NEXT, "connect");
    nodelay(fd);
    return real(fd, a, l);
}

int accept(int fd, struct sockaddr *a, socklen_t *l)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "accept");
    int r = real(fd, a, l);
    if (r >= 0)
        nodelay(r);
    return r;
}

int accept4(int fd, struct sockaddr *a, socklen_t *l, int flags)
{
    static int (*real)(int, struct sockaddr *, socklen_t *, int);
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *, int))dlsym(RTLD_NEXT, "accept4");
    int r = real(fd, a, l, flags);
    if (r >= 0)
        nodelay(r);
    return r;
}
