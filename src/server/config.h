/*
 * stird configuration: a `key = value` file (--config) and command-line
 * flags that override it. Every key is a flag name without the leading
 * dashes and with '_' for '-'. See docs/CONFIG.md.
 */
#ifndef STIRD_CONFIG_H
#define STIRD_CONFIG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>
#include <stir/certcache.h>
#include <stir/crl.h>
#include <stir/ppt.h>
#include <stir/rcd.h>
#include <stir/sign.h>
#include <stir/verify.h>

enum stird_log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

#define STIRD_MAX_PPT_TYPES 16
#define STIRD_MAX_AUDIENCES 4

/* `auth`: how a client of the Ms API is authenticated (docs/SECURITY.md). */
enum stird_auth_mode { AUTH_MODE_NONE, AUTH_MODE_STATIC, AUTH_MODE_OAUTH };

/* A PASSporT type from `ppt_type` / `--ppt-type`, registered at start-up. */
typedef struct stird_ppt_def {
    char origin[300]; /* "FILE:LINE" or "--ppt-type", for messages */
    char *spec;       /* the text, cut in place: claim names point here */
    stir_ppt_type type;
} stird_ppt_def;

#define STIRD_MAX_SIGNERS 15 /* signer lines; the default is one more */

/* A signing identity from `signer` / `--signer`: NAME key=... cert=... x5u=... [tn=...]. */
typedef struct stird_signer_def {
    char origin[300]; /* "FILE:LINE" or "--signer", for messages */
    char *spec;       /* the text, cut in place: the fields point here */
    const char *name, *key, *cert, *x5u;
    const char *tn[STIR_SIGNER_RANGES_MAX];
    size_t n_tn;
} stird_signer_def;

/* A listening address: the text given, and what it resolved to. */
typedef struct stird_addr {
    int set;
    int off; /* "none" given: the listener is disabled */
    struct sockaddr_storage sa;
    socklen_t salen;
    char host[256]; /* as given (IPv6 without brackets) */
    unsigned port;
} stird_addr;

typedef struct stird_config {
    char *config_path;

    stird_addr listen;
    char routing_path[201]; /* "" or "/seg/seg", no trailing '/' */
    long threads;
    long max_body;
    long max_connections;
    long idle_timeout;    /* seconds */
    long request_timeout; /* seconds: whole request, TLS handshake included */
    long max_connections_per_client;
    long client_ipv6_prefix; /* IPv6 clients are limited per this prefix */
    long max_header_bytes;
    char *tls_cert; /* the Ms API's HTTPS certificate chain, PEM */
    char *tls_key;
    char *tls_client_ca; /* set: mutual TLS, client certificates from these CAs */
    int plain_http;      /* plain HTTP on `listen`, explicitly */

    char *key;
    char *cert;
    char *x5u;
    char *trust;

    stird_addr x5u_listen;
    char *x5u_tls_cert;
    char *x5u_tls_key;

    int embedded;
    int lab_secure; /* --lab-secure: HTTPS, mTLS, OAuth from lab files (lab.h) */
    char *state_dir;

    long fetch_threads; /* verifications that must wait for a fetch */
    long sign_threads;  /* signing requests that cannot run on a worker */
    long fetch_queue;
    long fetch_client_threads; /* 0: fetch_threads / 4, at least 1 */
    long fetch_client_queue;   /* 0: fetch_queue / 4, at least 1 */

    stird_ppt_def ppt_types[STIRD_MAX_PPT_TYPES];
    size_t n_ppt_types;

    int log_level;
    int has_fixed_time;
    long long fixed_time;

    int auth; /* enum stird_auth_mode */
    char *oauth_jwks;
    char *oauth_issuer;
    char *oauth_audience[STIRD_MAX_AUDIENCES];
    size_t n_oauth_audience;
    long oauth_clock_skew; /* seconds */
    char *policy_file;
    char *audit_log;
    stird_addr metrics_listen;  /* set: serve GET /metrics; .off: "none" */
    int log_json;               /* log_format = json */
    long cert_expiry_warn_days; /* warn at start/reload within this */
    /* Keys (docs/SECURITY.md "Keys") */
    int allow_insecure_key_mode;
    char *pkcs11_module; /* module of "pkcs11:" keys; no default */
    char *key_pin_file;  /* token PIN, first line */
    stird_signer_def signers[STIRD_MAX_SIGNERS];
    size_t n_signers;

    /*
     * libstir's configurations, embedded: the settings table (config.c)
     * points into them, their defaults are libstir's, and they are handed
     * to the library as they are. Strings in them belong to this config
     * (config_free). After config_load:
     *   cache.fetch  the x5u fetch policy (fetch_*), the one policy: rcd.fetch
     *                and crl.fetch are copies of it (borrowing its strings)
     *                with their own size caps, rcd_max_bytes and crl_max_bytes;
     *   verify       freshness, verstat_priority_*, fetch_budget_ms,
     *                require_user_phone; the signers take freshness_s and
     *                require_user_phone from here too (credentials.c);
     *   cache.crl, verify.cache, verify.rcd are the caller's to set.
     */
    stir_certcache_config cache;
    stir_rcd_config rcd;
    stir_crl_config crl;
    stir_verifier_config verify;
} stird_config;

/*
 * Fill `cfg` from argv (and the --config file it names). Returns 0 on
 * success; 1 when the caller should exit successfully (--help, --version
 * printed); -1 on error with a one-line message in `err`.
 * Embedded-mode defaults (key, cert, trust, x5u, x5u-listen, fetch
 * relaxations) are applied here, so the result is final.
 */
int config_load(stird_config *cfg, int argc, char **argv, char *err, size_t errlen);

void config_free(stird_config *cfg);

/*
 * SIGHUP: the settings of `next` (the configuration read again) that
 * differ from `old` and that a reload cannot apply (listen addresses,
 * threads, limits...): their names, comma-separated, in `out`; returns how
 * many. The running server keeps the old values of these.
 */
size_t config_restart_diff(const stird_config *old, const stird_config *next, char *out,
                           size_t outlen);

/* Print the flag reference (what --help shows). */
void config_usage(FILE *out);

/* The settings reference generated from the one table: format "man"
 * (roff, for stird.conf(5)) or "md". */
void config_settings_doc(FILE *out, const char *format);

/* "127.0.0.1:8080" / "[::1]:8080" for an address. */
void config_addr_str(const stird_addr *a, char *out, size_t outlen);

/* The defaults of every setting (what config_load starts from). */
void config_init(stird_config *cfg);

/*
 * Set one setting by its flag name ("fetch-allow-host" or
 * "fetch_allow_host"), as `--NAME VALUE` does: same checks, same messages
 * (`label` names it in them). For tools sharing stird's settings
 * (stirctl); call config_finish_fetch() once all are set.
 */
int config_set(stird_config *cfg, const char *name, const char *label, const char *value, char *err,
               size_t errlen);

/* Copy the fetch_* policy into rcd.fetch and crl.fetch, keeping their
 * size caps (config_load does it). */
void config_finish_fetch(stird_config *cfg);

#endif
