/* sd_notify.h — the systemd notification protocol in plain socket code (no
 * libsystemd): READY=1, RELOADING=1, STOPPING=1, WATCHDOG=1 and STATUS=...
 * datagrams to $NOTIFY_SOCKET, and the watchdog interval from
 * $WATCHDOG_USEC/$WATCHDOG_PID. Both read the environment on every call and
 * keep no state; sending is one non-blocking sendto(), safe on the loop. */
#ifndef TAKT_SD_NOTIFY_H
#define TAKT_SD_NOTIFY_H

#include <stdint.h>

/* Send `state` (e.g. "READY=1\nSTATUS=listening") to $NOTIFY_SOCKET: an
 * absolute path, or an abstract socket written "@name". Returns 1 when sent,
 * 0 when $NOTIFY_SOCKET is unset or empty (not under systemd), and -errno
 * on failure (bad address, socket gone, ...). Never blocks. */
int sd_notify_send(const char *state);

/* The watchdog interval in microseconds when systemd asked for keep-alives
 * (WatchdogSec=): $WATCHDOG_USEC, if $WATCHDOG_PID is unset or names this
 * process. 0 when the watchdog is off or the variables are malformed.
 * Send "WATCHDOG=1" at about half this interval. */
uint64_t sd_watchdog_interval_usec(void);

#endif
