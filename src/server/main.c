/*
 * stird: the Ms reference point server (3GPP TS 24.229 Annex V) for
 * STIR/SHAKEN signing and verification.
 *
 * Start-up is all-or-nothing: every credential is loaded and checked
 * before the first socket opens, so a running server is a ready one.
 * Signals: SIGTERM, SIGINT and SIGQUIT stop it gracefully (requests in
 * flight are answered); SIGHUP reloads (see reload()); SIGUSR1 and SIGUSR2
 * are logged and ignored, so a stray kill -USR1 never ends the server.
 * Exit status: 0 after a stop signal, 1 when start-up fails, 2 for a
 * configuration error.
 */
#include "app.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "credentials.h"
#include "lab.h"
#include "holder.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "tls.h"
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

static int check_readable(const char *what, const char *path, char *err, size_t errlen)
{
    if (access(path, R_OK) != 0) {
        snprintf(err, errlen, "%s %s is not readable: %s", what, path, strerror(errno));
        return -1;
    }
    return 0;
}

static int setup_embedded_pki(const stird_config *cfg, char *err, size_t errlen)
{
    stir_error e;
    stir_pki_options opt;

    if (make_dirs(cfg->state_dir, err, errlen) != 0)
        return -1;
    if (stir_pki_exists(cfg->state_dir))
        return 0;
    memset(&opt, 0, sizeof opt);
    memset(&e, 0, sizeof e);
    opt.dir = cfg->state_dir;
    if (stir_pki_create(&opt, &e) != 0) {
        snprintf(err, errlen, "cannot create the test PKI in %s: %s", cfg->state_dir, e.detail);
        return -1;
    }
    log_msg(LOG_LVL_INFO, "created a test PKI (root, CA, SP and TLS certificates) in %s",
            cfg->state_dir);
    return 0;
}

/* The signing leaf's notAfter for the metrics (0 when unreadable). */
static time_t leaf_not_after(const char *cert_path)
{
    stir_error e;
    stir_cert *c;
    time_t t;

    memset(&e, 0, sizeof e);
    if (!cert_path || !(c = stir_cert_load(cert_path, &e)))
        return 0;
    t = stir_cert_not_after(c);
    stir_cert_unref(c);
    return t;
}

/* A certificate outside its validity makes every signature, handshake or
 * verification that uses it fail: say so at start and at each reload,
 * early enough (cert_expiry_warn_days) to renew it, rather than per call. */
static void warn_expiry(const stird_config *cfg)
{
    long days = cfg->cert_expiry_warn_days;
    time_t now = time(NULL);

    for (size_t i = 0; i < cfg->n_signers; i++)
        cred_warn_expiry("signing chain", cfg->signers[i].cert, days, now);
    cred_warn_expiry("signing chain", cfg->cert, days, now);
    cred_warn_expiry("TLS certificate (tls_cert)", cfg->tls_cert, days, now);
    if (cfg->x5u_listen.set)
        cred_warn_expiry("TLS certificate (x5u_tls_cert)", cfg->x5u_tls_cert, days, now);
    cred_warn_expiry("trust anchors", cfg->trust, days, now);
}

/* The metrics' view of the current certificate cache (metrics.h). */
static void cache_stats(void *arg, stir_certcache_stats *out)
{
    holder_ref *r = holder_acquire(arg);
    const verif *v = holder_obj(r);
    stir_certcache_stats_get(v->cache, out);
    holder_release(r);
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
        log_msg(LOG_LVL_WARN,
                "open file limit %llu is below max-connections %ld + 256; "
                "raise it (ulimit -n) or lower --max-connections",
                (unsigned long long)rl.rlim_cur, want);
}

/* A verifier using our own fetch policy must be able to fetch our x5u;
 * if it cannot, every self-check fails with 436, so warn at start-up. */
static void check_own_x5u(const stird_config *cfg)
{
    stir_error e;

    memset(&e, 0, sizeof e);
    if (stir_url_check(&cfg->cache.fetch, cfg->x5u, &e) != 0)
        log_msg(LOG_LVL_WARN,
                "this server's own fetch policy refuses its x5u URL %s (%s); "
                "verifying our own signatures will fail with 436%s",
                cfg->x5u, e.detail,
                cfg->embedded ? " (add --fetch-allow-any-port for a port other than 443/8443)"
                              : "");
}

/* Configured PASSporT types join the registry before the signer encodes
 * each type's header and before the verifier looks types up. A refused
 * type is a configuration error (exit 2), named by its line or flag. */
static int register_ppt_types(stir_ctx *ctx, const stird_config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < cfg->n_ppt_types; i++) {
        const stird_ppt_def *d = &cfg->ppt_types[i];
        stir_error e;

        memset(&e, 0, sizeof e);
        if (stir_ppt_register(ctx, &d->type, &e) != 0) {
            snprintf(err, errlen, "%s: PASSporT type '%s' refused: %s", d->origin, d->type.name,
                     e.detail);
            return -1;
        }
    }
    if (cfg->n_ppt_types)
        log_msg(LOG_LVL_INFO, "PASSporT types: %s", stir_ppt_names(ctx));
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
    cred_ref *ref = cred_acquire(app->creds);
    if (cred_signer(ref))
        printf("x5u: %s%s\n", stir_signer_x5u(cred_signer(ref)),
               x5u ? " (served by this process)" : "");
    else
        printf("signing: not configured (verification only)\n");
    cred_release(ref);
    if (metrics_port) {
        const char *mh = cfg->metrics_listen.host;
        if (strcmp(mh, "0.0.0.0") == 0 || strcmp(mh, "::") == 0)
            mh = "127.0.0.1";
        printf(strchr(mh, ':') ? "metrics: http://[%s]:%u/metrics\n"
                               : "metrics: http://%s:%u/metrics\n",
               mh, metrics_port);
    }
    if (cfg->lab_secure) {
        /* The lab client's credentials: certificate and a fresh token. */
        const char *d = cfg->state_dir;
        printf("try: curl -s --cacert %s/api-ca.pem --cert %s/client.pem --key %s/client.key "
               "-H \"Authorization: Bearer $(stirctl token --state-dir %s --client lab "
               "--scope stir-signing)\" -H 'Content-Type: application/json' -d "
               "'{\"signingRequest\":{\"attest\":\"A\",\"orig\":{\"tn\":\"12155551212\"},"
               "\"dest\":{\"tn\":[\"12155551213\"]},\"iat\":'\"$(date +%%s)\"'}}' "
               "https://%s%s/stir/v1/signing\n",
               d, d, d, d, host, cfg->routing_path);
        fflush(stdout);
        return;
    }
    printf(
        "try: curl -s -H 'Content-Type: application/json' -d '{\"signingRequest\":"
        "{\"attest\":\"A\",\"orig\":{\"tn\":\"12155551212\"},\"dest\":{\"tn\":[\"12155551213\"]},"
        "\"iat\":'\"$(date +%%s)\"'}}' %s://%s%s/stir/v1/signing\n",
        cfg->tls_cert ? "https" : "http", host, cfg->routing_path);
    fflush(stdout);
}

static void crl_warn(void *arg, const char *line)
{
    (void)arg;
    log_msg(LOG_LVL_WARN, "%s", line);
}

/* The revocation checker the certificate cache consults, and the CRL
 * cache it gets CRLs from (a fetch cache of the context, so CRL downloads
 * count in the per-host cap with x5u and RCD ones). crl_mode off: neither,
 * so no CRL is ever fetched. */
static int setup_crl(const stird_config *cfg, stird_app *app, char *err, size_t errlen)
{
    stir_crl_config c = cfg->crl;
    stir_crl_source src;
    stir_error e;
    if (c.mode == STIR_CRL_OFF)
        return 0;
    c.warn = crl_warn;
    memset(&e, 0, sizeof e);
    app->crl_cache = stir_crl_cache_new(app->ctx, &c, &e);
    if (!app->crl_cache) {
        snprintf(err, errlen, "cannot create the CRL cache: %s", e.detail);
        return -1;
    }
    stir_crl_cache_source(app->crl_cache, &src);
    app->crl = stir_crl_checker_new_with_source(&c, &src, &e);
    if (!app->crl) {
        snprintf(err, errlen, "cannot create the revocation checker: %s", e.detail);
        return -1;
    }
    return 0;
}

/*
 * A signer about to serve must have every signer name of the policy that
 * will serve with it: `next_auth`'s when the policy reloads, else the
 * running one's. 0, or -1 with the reason in err.
 */
static int signer_names_check(stird_app *app, const auth *next_auth, const stir_signer *signer,
                              char *err, size_t errlen)
{
    char why[900];
    auth_ref *ref = NULL;
    int rc;
    if (!app->auth)
        return 0;
    if (!next_auth)
        ref = auth_acquire(app->auth);
    rc = policy_check_signer_names(auth_policy(next_auth ? next_auth : auth_of(ref)), signer, why,
                                   sizeof why);
    auth_release(ref);
    if (rc != 0)
        snprintf(err, errlen, "the policy %s: %s", app->cfg->policy_file, why);
    return rc;
}

/*
 * SIGHUP. The configuration file (and the command line, unchanged) is
 * read again; the signing identities (files or PKCS#11), the trust
 * anchors when they changed (with a new certificate cache and verifier),
 * the TLS certificates of the API and x5u listeners and the x5u chain
 * document are all loaded from it first, and swapped in only if every
 * one loaded: requests in flight finish with the old signer and verifier,
 * open connections keep their TLS session; new ones use the new set. Anything that fails leaves
 * the old set serving, with one ERROR line saying why. Settings a reload
 * cannot apply (config_restart_diff) are logged and keep their running
 * value. The per-client policy and OAuth keys are reloaded by their
 * holder (auth.c), and the audit log is reopened after rotation.
 */
static void reload(int argc, char **argv, const stird_config *cfg, stird_app *app,
                   http_server *http, x5u_server *x5u)
{
    stird_config next, vcfg;
    stir_signer *signer = NULL;
    auth *next_auth = NULL;
    verif *nv = NULL;
    holder_ref *vref;
    int trust_changed;
    size_t ids;
    SSL_CTX *api_tls = NULL;
    char err[1024], diff[1024], auth_err[1024];
    int rc;

    /* The policy first: the new signer must have every signer it names
     * (the new policy's when it loads, else the running one's). */
    if (app->auth && !(next_auth = auth_load(cfg, auth_err, sizeof auth_err)))
        log_msg(LOG_LVL_ERROR,
                "SIGHUP: new policy/OAuth keys REFUSED, the previous ones "
                "keep serving: %s",
                auth_err);
    memset(&next, 0, sizeof next);
    rc = config_load(&next, argc, argv, err, sizeof err);
    if (rc != 0) {
        log_msg(LOG_LVL_ERROR,
                "SIGHUP: new configuration REFUSED, the running one keeps "
                "serving: %s",
                rc > 0 ? "--help/--version given" : err);
        goto others;
    }
    if (config_restart_diff(cfg, &next, diff, sizeof diff))
        log_msg(LOG_LVL_WARN,
                "SIGHUP: changed setting(s) %s: needs a restart; the running "
                "value(s) are kept",
                diff);
    /* The signer reads these too; the verifier keeps the running ones. */
    next.verify.freshness_s = cfg->verify.freshness_s;
    next.verify.require_user_phone = cfg->verify.require_user_phone;
    if ((next.key || next.n_signers) &&
        !(signer = cred_signer_new(app->ctx, &next, app->rcd, err, sizeof err)))
        goto refused;
    if (signer_names_check(app, next_auth, signer, err, sizeof err) != 0)
        goto refused;
    /* New trust anchors mean a new certificate cache (its verdicts were
     * made against the old ones) and verifier; the running settings stay
     * (vcfg: the running config, only `trust` from the new one). */
    vref = holder_acquire(app->verif);
    trust_changed = verif_trust_changed(holder_obj(vref), &next);
    holder_release(vref);
    vcfg = *cfg;
    vcfg.trust = next.trust;
    if (trust_changed && !(nv = verif_new(app, &vcfg, err, sizeof err)))
        goto refused;
    if (http_tls(http) && !(api_tls = tls_server_ctx(next.tls_cert, next.tls_key,
                                                     next.tls_client_ca, err, sizeof err)))
        goto refused;
    /* Last: it swaps its own parts when they all load. */
    if (x5u && next.cert && x5u_reload(x5u, &next, err, sizeof err) != 0)
        goto refused;
    if (cred_holder_swap(app->creds, signer) != 0) {
        snprintf(err, sizeof err, "out of memory");
        goto refused;
    }
    signer = NULL;
    app->sign_on_pool = cred_uses_token(&next);
    if (nv && holder_swap(app->verif, nv) != 0) {
        /* The signer is already in: say so rather than pretend nothing changed. */
        log_msg(LOG_LVL_ERROR, "SIGHUP: out of memory: new trust anchors REFUSED, the signing "
                               "credentials were reloaded");
        verif_free(nv);
        nv = NULL;
    }
    if (api_tls && tls_slot_swap(http_tls(http), api_tls) != 0) {
        /* The swap freed it; the old certificate keeps serving. */
        log_msg(LOG_LVL_ERROR, "SIGHUP: out of memory: new API TLS certificate REFUSED");
        api_tls = NULL;
    }
    metrics_set_signing_not_after(leaf_not_after(next.cert));
    warn_expiry(&next);
    ids = next.n_signers + (next.key ? 1 : 0);
    log_msg(LOG_LVL_INFO, "SIGHUP: reloaded %s: signing %s (%zu identit%s)%s%s%s",
            next.config_path ? next.config_path : "the command line", ids ? "on" : "off", ids,
            ids == 1 ? "y" : "ies", api_tls ? ", API TLS certificate" : "",
            x5u ? ", x5u chain and TLS certificate" : "",
            nv ? ", trust anchors (certificate cache emptied)" : "");
    goto others;
refused:
    log_msg(LOG_LVL_ERROR, "SIGHUP: new credentials REFUSED, the running ones keep serving: %s",
            err);
    if (signer)
        stir_signer_free(signer);
    verif_free(nv);
    SSL_CTX_free(api_tls);
others:
    config_free(&next);
    if (next_auth) {
        cred_ref *ref = cred_acquire(app->creds);
        rc = policy_check_signer_names(auth_policy(next_auth), cred_signer(ref), auth_err,
                                       sizeof auth_err);
        cred_release(ref);
        if (rc == 0 && auth_holder_swap(app->auth, next_auth) != 0) {
            log_msg(LOG_LVL_ERROR,
                    "SIGHUP: out of memory: new policy/OAuth keys REFUSED, the previous ones "
                    "keep serving");
            auth_free(next_auth);
        } else if (rc == 0) {
            log_msg(LOG_LVL_INFO, "SIGHUP: policy%s reloaded (%s)",
                    cfg->auth == AUTH_MODE_OAUTH ? " and OAuth keys" : "",
                    cfg->policy_file ? cfg->policy_file : "no policy file");
        } else {
            log_msg(LOG_LVL_ERROR,
                    "SIGHUP: new policy/OAuth keys REFUSED, the previous ones "
                    "keep serving: %s: %s",
                    cfg->policy_file, auth_err);
            auth_free(next_auth);
        }
    }
    if (app->audit) {
        if (audit_reopen(app->audit, err, sizeof err) == 0)
            log_msg(LOG_LVL_INFO, "SIGHUP: audit log %s reopened", cfg->audit_log);
        else
            log_msg(LOG_LVL_ERROR,
                    "SIGHUP: audit log not reopened, still writing the old "
                    "file: %s",
                    err);
    }
}

int main(int argc, char **argv)
{
    stird_config cfg;
    stird_app app;
    stir_error e;
    http_server *http = NULL;
    x5u_server *x5u = NULL;
    char err[1024] = "";
    sigset_t sigs;
    int sig, rc, signing = 0, status = 1;
    size_t trust_count = 0;

    /* Block the stop signals before any thread exists (libstir's cache
     * refresher, connection workers), so only sigwait below receives them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGQUIT); /* a graceful stop too, never a core dump */
    sigaddset(&sigs, SIGHUP);  /* reload (ExecReload): never the default exit */
    sigaddset(&sigs, SIGUSR1); /* ignored: their default action would kill */
    sigaddset(&sigs, SIGUSR2);
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
    memset(&e, 0, sizeof e);
    app.ctx = stir_ctx_new(&e);
    if (!app.ctx) {
        snprintf(err, sizeof err, "cannot create the libstir context: %s", e.detail);
        goto fail;
    }
    if (register_ppt_types(app.ctx, &cfg, err, sizeof err) != 0) {
        status = 2; /* a configuration error */
        goto fail;
    }
    if (cfg.embedded && setup_embedded_pki(&cfg, err, sizeof err) != 0)
        goto fail;
    if (cfg.lab_secure) {
        char why[900];
        if (lab_create(cfg.state_dir, why, sizeof why) != 0) {
            snprintf(err, sizeof err, "cannot create the lab files in %s: %s", cfg.state_dir, why);
            goto fail;
        }
        log_msg(LOG_LVL_WARN,
                "--lab-secure: HTTPS, mutual TLS and OAuth with the LAB keys of %s "
                "(client 'lab'; token: stirctl token --state-dir %s --client lab --scope "
                "stir-signing): for trying things out only",
                cfg.state_dir, cfg.state_dir);
    }
    /* The gate exists only when something is checked: an open server pays
     * nothing for it on the request path (http.c: gate). */
    if (cfg.auth != AUTH_MODE_NONE || cfg.policy_file) {
        auth *a = auth_load(&cfg, err, sizeof err);
        if (!a || !(app.auth = auth_holder_new(a))) {
            if (a)
                snprintf(err, sizeof err, "out of memory");
            auth_free(a);
            goto fail;
        }
    }
    if (cfg.audit_log && !(app.audit = audit_open(cfg.audit_log, err, sizeof err)))
        goto fail;

    memset(&e, 0, sizeof e);
    if (check_readable("trust anchors", cfg.trust, err, sizeof err) != 0)
        goto fail;
    if (cfg.cache.fetch.tls_ca_file &&
        check_readable("fetch CA file", cfg.cache.fetch.tls_ca_file, err, sizeof err) != 0)
        goto fail;
    if (setup_crl(&cfg, &app, err, sizeof err) != 0)
        goto fail;
    app.rcd = stir_rcd_new(app.ctx, &cfg.rcd, &e);
    if (!app.rcd) {
        snprintf(err, sizeof err, "cannot create the RCD content fetcher: %s", e.detail);
        goto fail;
    }
    {
        stir_signer *signer = NULL;
        if ((cfg.key || cfg.n_signers) &&
            !(signer = cred_signer_new(app.ctx, &cfg, app.rcd, err, sizeof err)))
            goto fail;
        if (!(app.creds = cred_holder_new(signer))) {
            snprintf(err, sizeof err, "out of memory");
            if (signer)
                stir_signer_free(signer);
            goto fail;
        }
        signing = signer != NULL;
        if (signer_names_check(&app, NULL, signer, err, sizeof err) != 0)
            goto fail;
        app.sign_on_pool = cred_uses_token(&cfg);
        if (cfg.key) {
            metrics_set_signing_not_after(leaf_not_after(cfg.cert));
            check_own_x5u(&cfg);
        }
        warn_expiry(&cfg);
    }
    {
        verif *v = verif_new(&app, &cfg, err, sizeof err);
        if (!v || !(app.verif = holder_new(v, verif_free))) {
            if (v)
                snprintf(err, sizeof err, "out of memory");
            verif_free(v);
            goto fail;
        }
        trust_count = v->trust_count;
    }
    if (cfg.x5u_listen.set) {
        if (cred_check_key_file(&cfg, "x5u TLS key", cfg.x5u_tls_key, err, sizeof err) != 0)
            goto fail;
        x5u = x5u_start(&cfg, err, sizeof err);
        if (!x5u)
            goto fail;
    }
    metrics_set_certcache_source(cache_stats, app.verif);
    metrics_set_rcd(app.rcd);
    metrics_fetch_queue_capacity(cfg.fetch_queue);
    raise_fd_limit(cfg.max_connections);
    http = http_start(&app, err, sizeof err);
    if (!http)
        goto fail;
    if (cfg.has_fixed_time)
        log_msg(LOG_LVL_WARN, "the clock is fixed at %lld (--fixed-time): for labs and tests only",
                cfg.fixed_time);
    banner(&cfg, &app, http_port(http), http_metrics_port(http), x5u);
    log_msg(LOG_LVL_INFO, "ready: %zu trust anchor(s), %ld thread(s), signing %s", trust_count,
            cfg.threads, signing ? "on" : "off");
    notify_ready(signing ? "serving, signing on" : "serving, signing off");
    if (notify_watchdog_start(http_alive, http) != 0)
        log_msg(LOG_LVL_WARN, "watchdog: cannot start its thread; no WATCHDOG=1 pings");

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGUSR1 || sig == SIGUSR2) {
            log_msg(LOG_LVL_INFO, "%s received: ignored (SIGHUP reloads, SIGTERM stops)",
                    sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2");
            continue;
        }
        if (sig != SIGHUP)
            break;
        notify_reloading();
        reload(argc, argv, &cfg, &app, http, x5u);
        notify_ready(NULL);
    }
    log_msg(LOG_LVL_INFO, "%s received, shutting down",
            sig == SIGINT    ? "SIGINT"
            : sig == SIGQUIT ? "SIGQUIT"
                             : "SIGTERM");
    notify_stopping();
    status = 0;
    goto out;

fail: /* every start-up failure, told once in the words its function wrote */
    fprintf(stderr, "stird: %s\n", err);
out:
    notify_watchdog_stop(); /* it asks the API's workers: before they go */
    http_stop(http);
    /* After the server: no request holds an `auth` any more. */
    auth_holder_free(app.auth);
    audit_close(app.audit);
    metrics_set_certcache_source(NULL, NULL);
    metrics_set_rcd(NULL);
    x5u_stop(x5u);
    holder_free(app.verif); /* before the CRL checker and RCD it uses */
    cred_holder_free(app.creds);
    if (app.rcd)
        stir_rcd_free(app.rcd);
    stir_crl_checker_free(app.crl);     /* after the cache that uses it */
    stir_crl_cache_free(app.crl_cache); /* after the checker that uses it */
    stir_ctx_free(app.ctx);
    stir_cleanup();
    config_free(&cfg);
    return status;
}
