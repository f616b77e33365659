/* The devnet's processes: free loopback ports, starting programs detached
 * with their output in a log file, finding them again (only the processes
 * this devnet started: the pid and the program's command line must both
 * match), and stopping them. */
#define _GNU_SOURCE /* pipe2 */
#include "cli/devnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/assert.h"

void devnet_sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Ports this process handed out already: the kernel may give a port it
 * just freed again, and one devnet command asks for several. */
#define DEVNET_PORTS_GIVEN_MAX 64u
#define DEVNET_PORT_TRIES_MAX 32
static uint16_t g_given[DEVNET_PORTS_GIVEN_MAX];
static size_t g_n_given;

static int bind_any(uint16_t *port, int *fd_out, tcn_error *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return tcn_err_set(err, TCN_ERR_IO, "devnet: socket: %s", strerror(errno));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        int e = errno;
        close(fd);
        return tcn_err_set(err, TCN_ERR_IO, "devnet: cannot find a free port: %s", strerror(e));
    }
    *port = ntohs(a.sin_port);
    *fd_out = fd;
    return TCN_OK;
}

int devnet_free_port(uint16_t *port, tcn_error *err)
{
    int held[DEVNET_PORT_TRIES_MAX];
    int n_held = 0, rc = TCN_OK;
    for (;;) {
        uint16_t p = 0;
        int fd = -1;
        rc = bind_any(&p, &fd, err);
        if (rc != TCN_OK)
            break;
        bool seen = false;
        for (size_t i = 0; i < g_n_given; i++)
            seen |= g_given[i] == p;
        if (!seen) {
            close(fd);
            *port = p;
            if (g_n_given < DEVNET_PORTS_GIVEN_MAX)
                g_given[g_n_given++] = p;
            break;
        }
        if (n_held == DEVNET_PORT_TRIES_MAX) {
            close(fd);
            rc = tcn_err_set(err, TCN_ERR_IO, "devnet: no fresh free port after %d tries", DEVNET_PORT_TRIES_MAX);
            break;
        }
        held[n_held++] = fd; /* kept bound so that the kernel offers another */
    }
    for (int i = 0; i < n_held; i++)
        close(held[i]);
    return rc;
}

bool devnet_port_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* Starts argv[0] with argv in a new session (it outlives us), stdin from
 * /dev/null, stdout and stderr appended to log_path. A program that cannot
 * be executed is reported here (through a close-on-exec pipe), not later. */
int devnet_spawn(char *const argv[], const char *log_path, pid_t *pid, tcn_error *err)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return tcn_err_set(err, TCN_ERR_IO, "devnet: pipe: %s", strerror(errno));
    int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (logfd < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        return tcn_err_set(err, TCN_ERR_IO, "devnet: %s: %s", log_path, strerror(e));
    }
    pid_t child = fork();
    if (child < 0) {
        int e = errno;
        close(pfd[0]);
        close(pfd[1]);
        close(logfd);
        return tcn_err_set(err, TCN_ERR_IO, "devnet: fork: %s", strerror(e));
    }
    if (child == 0) {
        setsid();
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0)
            dup2(nul, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        int e = errno;
        ssize_t w = write(pfd[1], &e, sizeof(e));
        (void)w;
        _exit(127);
    }
    close(pfd[1]);
    close(logfd);
    int e = 0;
    ssize_t r;
    do {
        r = read(pfd[0], &e, sizeof(e));
    } while (r < 0 && errno == EINTR);
    close(pfd[0]);
    if (r == (ssize_t)sizeof(e)) {
        waitpid(child, NULL, 0);
        return tcn_err_set(err, TCN_ERR_IO, "devnet: cannot run %s: %s", argv[0], strerror(e));
    }
    *pid = child;
    return TCN_OK;
}

/* Whether pid is alive and its command line holds `needle` (the devnet's
 * directory): a pid the system gave to someone else is never ours. */
bool devnet_pid_is_ours(pid_t pid, const char *needle)
{
    if (pid <= 1 || kill(pid, 0) != 0)
        return false;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return false;
    char buf[8192];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\0')
            buf[i] = ' ';
    buf[n] = '\0';
    /* A zombie (our own child that exited) has an empty command line. */
    return n > 0 && strstr(buf, needle) != NULL;
}

/* SIGTERM, then SIGKILL after grace_ms; reaps it when it is our child. */
bool devnet_stop_pid(pid_t pid, const char *needle, unsigned grace_ms, bool hard)
{
    if (!devnet_pid_is_ours(pid, needle))
        return false;
    kill(pid, hard ? SIGKILL : SIGTERM);
    for (unsigned waited = 0; waited < grace_ms; waited += 20) {
        (void)waitpid(pid, NULL, WNOHANG);
        if (!devnet_pid_is_ours(pid, needle))
            return true;
        devnet_sleep_ms(20);
    }
    kill(pid, SIGKILL);
    for (unsigned waited = 0; waited < 2000; waited += 20) {
        (void)waitpid(pid, NULL, WNOHANG);
        if (!devnet_pid_is_ours(pid, needle))
            return true;
        devnet_sleep_ms(20);
    }
    return true;
}
