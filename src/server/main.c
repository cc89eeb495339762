/*
 * stird: the Ms reference point server (3GPP TS 24.229 Annex V) for
 * STIR/SHAKEN signing and verification.
 *
 * Start-up is all-or-nothing: every credential is loaded and checked
 * before the first socket opens, so a running server is a ready one.
 * Exit status: 0 after SIGINT/SIGTERM, 1 when start-up fails, 2 for a
 * configuration error.
 */
#include "app.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "x5u.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

time_t app_now(const stird_app *app)
{
    return app->cfg->has_fixed_time ? (time_t)app->cfg->fixed_time : time(NULL);
}

/* mkdir -p, owner-only for the directories it creates (they hold keys). */
static int make_dirs(const char *path, char *err, size_t errlen)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof buf) {
        snprintf(err, errlen, "state directory path is empty or too long");
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create state directory %s: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = i == n ? '\0' : '/';
    }
    return 0;
}

static int check_readable(const char *what, const char *path)
{
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "stird: %s %s is not readable: %s\n", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_embedded_pki(const stird_config *cfg)
{
    char err[512];
    stir_error e;
    stir_pki_options opt;

    if (make_dirs(cfg->state_dir, err, sizeof err) != 0) {
        fprintf(stderr, "stird: %s\n", err);
        return -1;
    }
    if (stir_pki_exists(cfg->state_dir))
        return 0;
    memset(&opt, 0, sizeof opt);
    memset(&e, 0, sizeof e);
    opt.dir = cfg->state_dir;
    if (stir_pki_create(&opt, &e) != 0) {
        fprintf(stderr, "stird: cannot create the test PKI in %s: %s\n", cfg->state_dir, e.detail);
        return -1;
    }
    log_msg(LOG_LVL_INFO, "created a test PKI (root, CA, SP and TLS certificates) in %s",
            cfg->state_dir);
    return 0;
}

/* A signing chain that is outside its validity makes every signature
 * useless to verifiers; say so loudly at start-up rather than per call.
 * Returns the leaf's notAfter (0 when unreadable) for the metrics. */
static time_t warn_validity(const char *cert_path)
{
    stir_error e;
    stir_cert *c;
    time_t now = time(NULL), not_after;

    memset(&e, 0, sizeof e);
    c = stir_cert_load(cert_path, &e);
    if (!c)
        return 0;
    not_after = stir_cert_not_after(c);
    if (stir_cert_not_after(c) < now)
        log_msg(LOG_LVL_WARN, "the signing chain %s has expired; verifiers will refuse it (437)",
                cert_path);
    else if (stir_cert_not_before(c) > now)
        log_msg(LOG_LVL_WARN, "the signing chain %s is not valid yet", cert_path);
    else if (stir_cert_not_after(c) - now < 7 * 86400)
        log_msg(LOG_LVL_WARN, "the signing chain %s expires in less than 7 days", cert_path);
    stir_cert_unref(c);
    return not_after;
}

/* Every connection is a descriptor: make room for max_connections when the
 * hard limit allows, and say so when it does not (accept() would fail). */
static void raise_fd_limit(long want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= need)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need)
        log_msg(LOG_LVL_WARN, "open file limit %llu is below max-connections %ld + 256; "
                "raise it (ulimit -n) or lower --max-connections",
                (unsigned long long)rl.rlim_cur, want);
}

/* A verifier using our own fetch policy must be able to fetch our x5u;
 * if it cannot, every self-check fails with 436, so warn at start-up. */
static void check_own_x5u(const stird_config *cfg)
{
    stir_certcache_config cc;
    stir_error e;

    config_certcache(cfg, &cc);
    memset(&e, 0, sizeof e);
    if (stir_url_check(&cc.fetch, cfg->x5u, &e) != 0)
        log_msg(LOG_LVL_WARN, "this server's own fetch policy refuses its x5u URL %s (%s); "
                "verifying our own signatures will fail with 436%s", cfg->x5u, e.detail,
                cfg->embedded ? " (add --fetch-allow-any-port for a port other than 443/8443)"
                              : "");
}

/* Configured PASSporT types join the registry before the signer encodes
 * each type's header and before the verifier looks types up. A refused
 * type is a configuration error (exit 2), named by its line or flag. */
static int register_ppt_types(const stird_config *cfg)
{
    for (size_t i = 0; i < cfg->n_ppt_types; i++) {
        const stird_ppt_def *d = &cfg->ppt_types[i];
        stir_error e;

        memset(&e, 0, sizeof e);
        if (stir_ppt_register(&d->type, &e) != 0) {
            fprintf(stderr, "stird: %s: PASSporT type '%s' refused: %s\n", d->origin,
                    d->type.name, e.detail);
            return -1;
        }
    }
    if (cfg->n_ppt_types)
        log_msg(LOG_LVL_INFO, "PASSporT types: %s", stir_ppt_names());
    return 0;
}

static void banner(const stird_config *cfg, const stird_app *app, unsigned port,
                   unsigned metrics_port, const x5u_server *x5u)
{
    char host[300];
    const char *h = cfg->listen.host;

    if (strcmp(h, "0.0.0.0") == 0 || strcmp(h, "::") == 0)
        h = "127.0.0.1";
    snprintf(host, sizeof host, strchr(h, ':') ? "[%s]:%u" : "%s:%u", h, port);
    printf("stird %s: API root %s://%s%s (POST %s/stir/v1/signing, %s/stir/v1/verification)\n",
           STIR_VERSION, cfg->tls_cert ? "https" : "http", host, cfg->routing_path,
           cfg->routing_path, cfg->routing_path);
    if (app->signer)
        printf("x5u: %s%s\n", stir_signer_x5u(app->signer),
               x5u ? " (served by this process)" : "");
    else
        printf("signing: not configured (verification only)\n");
    if (metrics_port) {
        const char *mh = cfg->metrics_listen.host;
        if (strcmp(mh, "0.0.0.0") == 0 || strcmp(mh, "::") == 0)
            mh = "127.0.0.1";
        printf(strchr(mh, ':') ? "metrics: http://[%s]:%u/metrics\n"
                               : "metrics: http://%s:%u/metrics\n", mh, metrics_port);
    }
    printf("try: curl -s -H 'Content-Type: application/json' -d '{\"signingRequest\":"
           "{\"attest\":\"A\",\"orig\":{\"tn\":\"12155551212\"},\"dest\":{\"tn\":[\"12155551213\"]},"
           "\"iat\":'\"$(date +%%s)\"'}}' %s://%s%s/stir/v1/signing\n",
           cfg->tls_cert ? "https" : "http", host, cfg->routing_path);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    stird_config cfg;
    stird_app app;
    stir_error e;
    stir_certcache_config ccfg;
    stir_rcd_config rcfg;
    http_server *http = NULL;
    x5u_server *x5u = NULL;
    char err[1024];
    sigset_t sigs;
    int sig, rc, status = 1;

    /* Block the stop signals before any thread exists (libstir's cache
     * refresher, connection workers), so only sigwait below receives them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);      /* reload (ExecReload): never the default exit */
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stderr, NULL, _IOLBF, 0);

    rc = config_load(&cfg, argc, argv, err, sizeof err);
    if (rc != 0) {
        if (rc < 0)
            fprintf(stderr, "stird: %s\n", err);
        config_free(&cfg);
        return rc < 0 ? 2 : 0;
    }
    log_set_level(cfg.log_level);
    log_set_json(cfg.log_json);
    metrics_init();
    memset(&app, 0, sizeof app);
    app.cfg = &cfg;
    if (stir_init() != 0) {
        fprintf(stderr, "stird: cannot initialize libstir (OpenSSL/libcurl)\n");
        config_free(&cfg);
        return 1;
    }
    if (register_ppt_types(&cfg) != 0) {
        status = 2;
        goto out;
    }
    if (cfg.embedded && setup_embedded_pki(&cfg) != 0)
        goto out;

    memset(&e, 0, sizeof e);
    if (check_readable("trust anchors", cfg.trust) != 0)
        goto out;
    app.trust = stir_trust_load(cfg.trust, &e);
    if (!app.trust) {
        fprintf(stderr, "stird: cannot load trust anchors from %s: %s\n", cfg.trust, e.detail);
        goto out;
    }
    app.trust_count = stir_trust_count(app.trust);
    if (cfg.fetch_ca_file && check_readable("fetch CA file", cfg.fetch_ca_file) != 0)
        goto out;

    config_certcache(&cfg, &ccfg);
    app.cache = stir_certcache_new(&ccfg, app.trust, &e);
    if (!app.cache) {
        fprintf(stderr, "stird: cannot create the certificate cache: %s\n", e.detail);
        goto out;
    }
    config_rcd(&cfg, &rcfg);
    app.rcd = stir_rcd_new(&rcfg, &e);
    if (!app.rcd) {
        fprintf(stderr, "stird: cannot create the RCD content fetcher: %s\n", e.detail);
        goto out;
    }
    if (cfg.key) {
        stir_signer_config sc = {
            .key_path = cfg.key,
            .cert_path = cfg.cert,
            .x5u = cfg.x5u,
            .freshness_s = cfg.freshness,
            .rcd = app.rcd,
        };
        if (check_readable("signing key", cfg.key) != 0 ||
            check_readable("certificate chain", cfg.cert) != 0)
            goto out;
        app.signer = stir_signer_new(&sc, &e);
        if (!app.signer) {
            fprintf(stderr, "stird: cannot use the signing credentials: %s\n", e.detail);
            goto out;
        }
        metrics_set_signing_not_after(warn_validity(cfg.cert));
        check_own_x5u(&cfg);
    }
    {
        stir_verifier_config vc = {
            .cache = app.cache,
            .freshness_s = cfg.freshness,
            .rcd = app.rcd,
            .priority_passed = cfg.verstat_priority_passed,
            .priority_failed = cfg.verstat_priority_failed,
        };
        app.verifier = stir_verifier_new(&vc, &e);
        if (!app.verifier) {
            fprintf(stderr, "stird: cannot create the verifier: %s\n", e.detail);
            goto out;
        }
    }
    if (cfg.x5u_listen.set) {
        x5u = x5u_start(&cfg, err, sizeof err);
        if (!x5u) {
            fprintf(stderr, "stird: %s\n", err);
            goto out;
        }
    }
    metrics_set_certcache(app.cache);
    metrics_set_rcd(app.rcd);
    metrics_fetch_queue_capacity(cfg.fetch_queue);
    raise_fd_limit(cfg.max_connections);
    http = http_start(&app, err, sizeof err);
    if (!http) {
        fprintf(stderr, "stird: %s\n", err);
        goto out;
    }
    if (cfg.has_fixed_time)
        log_msg(LOG_LVL_WARN, "the clock is fixed at %lld (--fixed-time): for labs and tests only",
                cfg.fixed_time);
    banner(&cfg, &app, http_port(http), http_metrics_port(http), x5u);
    log_msg(LOG_LVL_INFO, "ready: %zu trust anchor(s), %ld thread(s), signing %s", app.trust_count,
            cfg.threads, app.signer ? "on" : "off");
    notify_ready(app.signer ? "serving, signing on" : "serving, signing off");
    if (notify_watchdog_start(http_alive, http) != 0)
        log_msg(LOG_LVL_WARN, "watchdog: cannot start its thread; no WATCHDOG=1 pings");

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        /* The reload itself (issue 12) goes between these two. */
        notify_reloading();
        log_msg(LOG_LVL_WARN, "SIGHUP: configuration reload is not implemented yet; "
                "settings unchanged");
        notify_ready(NULL);
    }
    log_msg(LOG_LVL_INFO, "%s received, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    notify_stopping();
    status = 0;

out:
    notify_watchdog_stop();    /* it asks the API's workers: before they go */
    http_stop(http);
    metrics_set_certcache(NULL);
    metrics_set_rcd(NULL);
    x5u_stop(x5u);
    if (app.verifier)
        stir_verifier_free(app.verifier);
    if (app.signer)
        stir_signer_free(app.signer);
    if (app.rcd)
        stir_rcd_free(app.rcd);
    if (app.cache)
        stir_certcache_free(app.cache);
    if (app.trust)
        stir_trust_free(app.trust);
    stir_cleanup();
    config_free(&cfg);
    return status;
}
