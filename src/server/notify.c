/*
 * sd_notify for stird (see notify.h). libsystemd does the protocol (the
 * datagram to NOTIFY_SOCKET, abstract socket names, credentials); this
 * file decides what to say and when.
 */
#include "notify.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

void notify_ready(const char *status)
{
    if (status)
        sd_notifyf(0, "READY=1\nSTATUS=%s", status);
    else
        sd_notify(0, "READY=1");
}

void notify_reloading(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
               (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

void notify_stopping(void)
{
    sd_notify(0, "STOPPING=1");
}

/* ---- watchdog ------------------------------------------------------------------ */

static struct {
    pthread_t tid;
    int running;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t interval_us;
    notify_alive_fn alive;
    void *arg;
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void *watchdog_main(void *unused)
{
    int warned = 0;
    (void)unused;
    pthread_mutex_lock(&wd.mu);
    while (!wd.stop) {
        pthread_mutex_unlock(&wd.mu);
        if (wd.alive(wd.arg)) {
            sd_notify(0, "WATCHDOG=1");
            warned = 0;
        } else if (!warned) {
            /* No ping: systemd restarts us when WatchdogSec passes. */
            log_msg(LOG_LVL_ERROR,
                    "watchdog: a connection worker has not turned its event "
                    "loop for %llu ms; not pinging the service manager",
                    (unsigned long long)(wd.interval_us / 1000));
            warned = 1;
        }
        pthread_mutex_lock(&wd.mu);
        struct timespec until;
        /* The monotonic clock (wd.cv waits on it): a wall clock stepped
         * back by NTP must not hold the next ping, or systemd would kill
         * a healthy server. */
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += (time_t)(wd.interval_us / 1000000);
        until.tv_nsec += (long)(wd.interval_us % 1000000) * 1000;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!wd.stop && pthread_cond_timedwait(&wd.cv, &wd.mu, &until) != ETIMEDOUT)
            ;
    }
    pthread_mutex_unlock(&wd.mu);
    return NULL;
}

int notify_watchdog_start(notify_alive_fn alive, void *arg)
{
    uint64_t usec = 0;

    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    wd.interval_us = usec / 2;
    wd.alive = alive;
    wd.arg = arg;
    wd.stop = 0;
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0)
        return -1;
    int rc =
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 ? pthread_cond_init(&wd.cv, &ca) : -1;
    pthread_condattr_destroy(&ca);
    if (rc != 0)
        return -1;
    if (pthread_create(&wd.tid, NULL, watchdog_main, NULL) != 0) {
        pthread_cond_destroy(&wd.cv);
        return -1;
    }
    wd.running = 1;
    log_msg(LOG_LVL_INFO, "watchdog: pinging every %llu ms while every connection worker runs",
            (unsigned long long)(wd.interval_us / 1000));
    return 0;
}

void notify_watchdog_stop(void)
{
    if (!wd.running)
        return;
    pthread_mutex_lock(&wd.mu);
    wd.stop = 1;
    pthread_cond_signal(&wd.cv);
    pthread_mutex_unlock(&wd.mu);
    pthread_join(wd.tid, NULL);
    pthread_cond_destroy(&wd.cv);
    wd.running = 0;
}
