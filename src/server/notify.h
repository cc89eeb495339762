/*
 * systemd service notification (sd_notify(3)) for Type=notify units:
 * READY=1 once every listener is open, RELOADING=1 / READY=1 around a
 * configuration reload, STOPPING=1 on shutdown, and WATCHDOG=1 pings from
 * a thread that sends them only while a liveness check passes, so a
 * server whose workers hang is restarted by systemd (WatchdogSec=).
 * Without NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
#ifndef STIRD_NOTIFY_H
#define STIRD_NOTIFY_H

/* READY=1 with a STATUS= line (NULL: none). */
void notify_ready(const char *status);

/* Before re-reading the configuration (SIGHUP): RELOADING=1 with the
 * MONOTONIC_USEC= systemd 253+ wants; call notify_ready() when done. */
void notify_reloading(void);

/* STOPPING=1: shutdown has begun. */
void notify_stopping(void);

/* A liveness check: 1 when the server works, 0 when it does not (stird's
 * is http_alive: every connection worker turned its event loop). */
typedef int (*notify_alive_fn)(void *arg);

/*
 * When the service manager asked for a watchdog (WATCHDOG_USEC, see
 * sd_watchdog_enabled(3)), start a thread that every WATCHDOG_USEC/2
 * runs `alive(arg)` and sends WATCHDOG=1 only if it returned 1. Returns 0
 * (also when no watchdog was asked for), -1 when the thread cannot start.
 */
int notify_watchdog_start(notify_alive_fn alive, void *arg);
void notify_watchdog_stop(void);

#endif
