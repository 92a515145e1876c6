/* tls.c — HTTPS for the server: an OpenSSL context from the configured
 * certificate chain, key and optional client CA, and the evhttp bufferevent
 * callback that wraps every accepted connection in a server-side TLS
 * bufferevent. TLS 1.2 is the minimum. */
#include "http_internal.h"

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdio.h>

/* err := "<what> <file>: <OpenSSL's reason>" */
static void tls_error(char *err, size_t errlen, const char *what, const char *file)
{
        unsigned long e = ERR_get_error();
        char reason[256] = "unknown error";
        if (e)
                ERR_error_string_n(e, reason, sizeof(reason));
        ERR_clear_error();
        snprintf(err, errlen, "%s %s: %s", what, file ? file : "", reason);
}

SSL_CTX *http_tls_context(const struct http_server_opts *opts, char *err, size_t errlen)
{
        if (!opts->tls_key) {
                snprintf(err, errlen, "listen.tls: a key is required with the certificate");
                return NULL;
        }
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx) {
                tls_error(err, errlen, "cannot create TLS context", NULL);
                return NULL;
        }
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
        if (SSL_CTX_use_certificate_chain_file(ctx, opts->tls_cert) != 1) {
                tls_error(err, errlen, "cannot load certificate", opts->tls_cert);
                goto fail;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, opts->tls_key, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
                tls_error(err, errlen, "cannot load key", opts->tls_key);
                goto fail;
        }
        if (opts->tls_client_ca) {
                STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(opts->tls_client_ca);
                if (!names || SSL_CTX_load_verify_locations(ctx, opts->tls_client_ca, NULL) != 1) {
                        sk_X509_NAME_pop_free(names, X509_NAME_free);
                        tls_error(err, errlen, "cannot load client CA", opts->tls_client_ca);
                        goto fail;
                }
                SSL_CTX_set_client_CA_list(ctx, names); /* takes names */
                SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
        return ctx;
fail:
        SSL_CTX_free(ctx);
        return NULL;
}

static struct bufferevent *tls_bufferevent(struct event_base *base, void *arg)
{
        SSL *ssl = SSL_new(arg);
        if (!ssl)
                return NULL;
        struct bufferevent *bev = bufferevent_openssl_socket_new(
            base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
        if (bev)
                bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        return bev;
}

void http_tls_attach(struct evhttp *http, SSL_CTX *ctx)
{
        evhttp_set_bevcb(http, tls_bufferevent, ctx);
}
