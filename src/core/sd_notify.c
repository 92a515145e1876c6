/* sd_notify.c — systemd's notify protocol over a unix datagram socket (see
 * takt/sd_notify.h). One socket per call: notifications are rare (start,
 * reload, stop, watchdog ticks), so nothing is kept open between calls. */
#include "takt/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fill *sa from $NOTIFY_SOCKET's value; returns the address length or -errno. */
static int notify_address(const char *path, struct sockaddr_un *sa)
{
        size_t n = strlen(path);
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if ((path[0] != '/' && path[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
                return -EINVAL;
        memcpy(sa->sun_path, path, n);
        if (path[0] == '@')
                sa->sun_path[0] = '\0'; /* abstract: no trailing NUL counted */
        else
                n++; /* path sockets: include the NUL */
        return (int)(offsetof(struct sockaddr_un, sun_path) + n);
}

int sd_notify_send(const char *state)
{
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path || !*path)
                return 0;
        if (!state)
                return -EINVAL;
        struct sockaddr_un sa;
        int salen = notify_address(path, &sa);
        if (salen < 0)
                return salen;
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                           (socklen_t)salen);
        int err = w < 0 ? errno : 0;
        close(fd);
        if (err)
                return -err;
        return (size_t)w == strlen(state) ? 1 : -EMSGSIZE;
}

/* Parse a positive decimal without sign or junk; 0 when invalid. */
static uint64_t parse_u64(const char *s)
{
        if (!s || *s < '0' || *s > '9')
                return 0;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return 0;
        return (uint64_t)v;
}

uint64_t sd_watchdog_interval_usec(void)
{
        uint64_t usec = parse_u64(getenv("WATCHDOG_USEC"));
        if (usec == 0)
                return 0;
        const char *pid = getenv("WATCHDOG_PID");
        if (pid && *pid && parse_u64(pid) != (uint64_t)getpid())
                return 0;
        return usec;
}
