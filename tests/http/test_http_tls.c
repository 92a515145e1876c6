/* test_http_tls.c — HTTPS: a CA, a server certificate for IP 127.0.0.1 and
 * client certificates are made in-process (EC P-256) into a temporary
 * folder; then plain TLS, mutual TLS with and without a client certificate,
 * a certificate from a foreign CA, a plain-text client, and unusable
 * certificate/key files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "takt/http.h"

#include "raw_client.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct pki {
        char dir[64];
        char ca_pem[96], server_pem[96], server_key[96], other_ca_pem[96];
        EVP_PKEY *ca_key, *other_key;
        X509 *ca, *other_ca;
        EVP_PKEY *client_key, *stranger_key; /* for a CA client cert / a foreign one */
        X509 *client, *stranger;
        struct event_base *base;
};

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        assert_non_null(ext);
        assert_int_equal(X509_add_ext(x, ext, -1), 1);
        X509_EXTENSION_free(ext);
}

/* A certificate for key, signed by issuer (self-signed when NULL). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
                       const char *san, long serial)
{
        X509 *x = X509_new();
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key);
        X509_NAME *name = X509_get_subject_name(x);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
        add_ext(x, issuer ? issuer : x, NID_basic_constraints,
                ca ? "critical,CA:TRUE" : "CA:FALSE");
        if (ca)
                add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
        if (san)
                add_ext(x, issuer ? issuer : x, NID_subject_alt_name, san);
        assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
        return x;
}

static void write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        if (cert)
                assert_int_equal(PEM_write_X509(f, cert), 1);
        if (key)
                assert_int_equal(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL), 1);
        fclose(f);
}

static int setup(void **state)
{
        struct pki *p = calloc(1, sizeof(*p));
        snprintf(p->dir, sizeof(p->dir), "/tmp/takt-tls-XXXXXX");
        assert_non_null(mkdtemp(p->dir));
        snprintf(p->ca_pem, sizeof(p->ca_pem), "%s/ca.pem", p->dir);
        snprintf(p->other_ca_pem, sizeof(p->other_ca_pem), "%s/other-ca.pem", p->dir);
        snprintf(p->server_pem, sizeof(p->server_pem), "%s/server.pem", p->dir);
        snprintf(p->server_key, sizeof(p->server_key), "%s/server.key", p->dir);

        p->ca_key = EVP_EC_gen("P-256");
        p->other_key = EVP_EC_gen("P-256");
        p->client_key = EVP_EC_gen("P-256");
        p->stranger_key = EVP_EC_gen("P-256");
        EVP_PKEY *server_key = EVP_EC_gen("P-256");
        p->ca = make_cert(p->ca_key, "takt test CA", NULL, NULL, true, NULL, 1);
        p->other_ca = make_cert(p->other_key, "other CA", NULL, NULL, true, NULL, 2);
        X509 *server =
            make_cert(server_key, "127.0.0.1", p->ca, p->ca_key, false, "IP:127.0.0.1", 3);
        p->client = make_cert(p->client_key, "mes-de01", p->ca, p->ca_key, false, NULL, 4);
        p->stranger =
            make_cert(p->stranger_key, "stranger", p->other_ca, p->other_key, false, NULL, 5);
        write_pem(p->ca_pem, p->ca, NULL);
        write_pem(p->other_ca_pem, p->other_ca, NULL);
        write_pem(p->server_pem, server, NULL);
        write_pem(p->server_key, NULL, server_key);
        X509_free(server);
        EVP_PKEY_free(server_key);
        p->base = event_base_new();
        *state = p;
        return 0;
}

static int teardown(void **state)
{
        struct pki *p = *state;
        const char *files[] = {p->ca_pem, p->other_ca_pem, p->server_pem, p->server_key};
        for (size_t i = 0; i < 4; i++)
                unlink(files[i]);
        rmdir(p->dir);
        X509_free(p->ca);
        X509_free(p->other_ca);
        X509_free(p->client);
        X509_free(p->stranger);
        EVP_PKEY_free(p->ca_key);
        EVP_PKEY_free(p->other_key);
        EVP_PKEY_free(p->client_key);
        EVP_PKEY_free(p->stranger_key);
        event_base_free(p->base);
        free(p);
        return 0;
}

static void ok_handler(struct http_request *req, void *arg)
{
        http_respond(req, 200, "application/json", "{\"status\":\"ok\"}", 15);
}

/* A client context trusting our CA, optionally presenting cert/key. */
static SSL_CTX *client_ctx(const struct pki *p, X509 *cert, EVP_PKEY *key)
{
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        assert_non_null(ctx);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        assert_int_equal(X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), p->ca), 1);
        if (cert) {
                assert_int_equal(SSL_CTX_use_certificate(ctx, cert), 1);
                assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
        }
        return ctx;
}

static struct http_server *tls_server(const struct pki *p, const char *client_ca)
{
        struct http_server_opts opts = {.address = "127.0.0.1",
                                        .tls_cert = p->server_pem,
                                        .tls_key = p->server_key,
                                        .tls_client_ca = client_ca};
        char err[256];
        struct http_server *srv = http_server_new(p->base, &opts, err, sizeof(err));
        if (!srv)
                fail_msg("http_server_new: %s", err);
        assert_int_equal(http_server_route(srv, "GET", "/", ok_handler, NULL), 0);
        return srv;
}

static void test_tls_cases(void **state)
{
        struct pki *p = *state;
        enum client { PLAIN, NO_CERT, CA_CERT, FOREIGN_CERT };
        const struct {
                const char *name;
                bool mutual;
                enum client client;
                int status; /* 0: no HTTP answer (handshake refused) */
        } cases[] = {
            {"tls, client without cert", false, NO_CERT, 200},
            {"tls, client with cert (not asked for)", false, CA_CERT, 200},
            {"tls, plain-text client", false, PLAIN, 0},
            {"mutual, client without cert", true, NO_CERT, 0},
            {"mutual, cert from our CA", true, CA_CERT, 200},
            {"mutual, cert from another CA", true, FOREIGN_CERT, 0},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct http_server *srv = tls_server(p, cases[i].mutual ? p->ca_pem : NULL);
                SSL_CTX *ctx = NULL;
                if (cases[i].client == NO_CERT)
                        ctx = client_ctx(p, NULL, NULL);
                else if (cases[i].client == CA_CERT)
                        ctx = client_ctx(p, p->client, p->client_key);
                else if (cases[i].client == FOREIGN_CERT)
                        ctx = client_ctx(p, p->stranger, p->stranger_key);
                struct response r =
                    raw_request(p->base, http_server_port(srv), ctx, "GET", "/", NULL, NULL);
                if (r.status != cases[i].status)
                        fail_msg("case '%s': status %d, want %d", cases[i].name, r.status,
                                 cases[i].status);
                if (r.status == 200)
                        assert_string_equal(r.body, "{\"status\":\"ok\"}");
                response_free(&r);
                SSL_CTX_free(ctx);
                http_server_free(srv);
                loop_for_ms(p->base, 5);
        }
}

static void test_unusable_files(void **state)
{
        struct pki *p = *state;
        const struct {
                const char *cert, *key, *client_ca, *want;
        } cases[] = {
            {p->server_pem, NULL, NULL, "a key is required"},
            {"/nonexistent.pem", p->server_key, NULL, "cannot load certificate"},
            {p->server_pem, "/nonexistent.key", NULL, "cannot load key"},
            {p->server_pem, p->ca_pem, NULL, "cannot load key"},
            {p->server_pem, p->server_key, "/nonexistent-ca.pem", "cannot load client CA"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct http_server_opts opts = {.address = "127.0.0.1",
                                                .tls_cert = cases[i].cert,
                                                .tls_key = cases[i].key,
                                                .tls_client_ca = cases[i].client_ca};
                char err[512] = "";
                assert_null(http_server_new(p->base, &opts, err, sizeof(err)));
                if (!strstr(err, cases[i].want))
                        fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].want);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_tls_cases),
            cmocka_unit_test(test_unusable_files),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
