/*
 * stir-ops-micro: the per-request cost of the operational parts, in
 * process (not a test): one log_access record in the text and the JSON
 * format (stderr to /dev/null, so the cost is formatting plus one
 * write(2)), and metrics_request from 1 and 2 threads (the atomic adds,
 * with and without two cores adding to the same slots).
 *
 *   build/stir-ops-micro [N]            # prints ns per call
 *   build/stir-ops-micro N text|json    # only N records of one format, for
 *                                       # callgrind instruction counts
 */
#include "config.h"
#include "log.h"
#include "metrics.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static long n_iter = 200000;

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double bench_log(int json)
{
    http_client c;
    log_access_rec rec;
    double t0;

    memset(&c, 0, sizeof c);
    snprintf(c.addr, sizeof c.addr, "192.0.2.10");
    c.port = 51234;
    memset(&rec, 0, sizeof rec);
    rec.tag = "api";
    rec.client = &c;
    rec.method = "POST";
    rec.path = "/stir/v1/verification";
    rec.resource = "verification";
    rec.status = 200;
    rec.latency_us = 412;
    rec.request_id = "3f2c9a1e-7d4b-4c55-9a0e-1b2c3d4e5f60";
    rec.verstat = "TN-Validation-Passed";
    rec.codes = "pass";
    log_set_json(json);
    t0 = now_ns();
    for (long i = 0; i < n_iter; i++)
        log_access(&rec);
    return (now_ns() - t0) / (double)n_iter;
}

static void *metrics_worker(void *arg)
{
    const char *res = arg;
    for (long i = 0; i < n_iter; i++)
        metrics_request(res, 200, 300 + (i & 1023));
    return NULL;
}

static double bench_metrics(int threads, int same)
{
    pthread_t t[2];
    double t0 = now_ns();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, metrics_worker,
                       (void *)(same || i == 0 ? "verification" : "signing"));
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    return (now_ns() - t0) / (double)n_iter; /* wall time per call per thread */
}

int main(int argc, char **argv)
{
    int devnull = open("/dev/null", O_WRONLY);
    double text, json;

    if (argc > 1)
        n_iter = atol(argv[1]);
    if (devnull < 0 || n_iter < 1)
        return 2;
    fflush(stderr);
    dup2(devnull, 2);
    close(devnull);
    setvbuf(stderr, NULL, _IOLBF, 0); /* as stird: one write per line */
    log_set_level(LOG_LVL_INFO);
    if (argc > 2) {
        bench_log(strcmp(argv[2], "json") == 0);
        return 0;
    }
    bench_log(0); /* warm up */
    text = bench_log(0);
    json = bench_log(1);
    metrics_init();
    printf("log_access text   %7.0f ns/record\n", text);
    printf("log_access json   %7.0f ns/record\n", json);
    printf("metrics_request   %7.1f ns/call (1 thread)\n", bench_metrics(1, 1));
    printf("metrics_request   %7.1f ns/call (2 threads, same resource)\n", bench_metrics(2, 1));
    printf("metrics_request   %7.1f ns/call (2 threads, different resources)\n",
           bench_metrics(2, 0));
    return 0;
}
