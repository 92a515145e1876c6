/* test_http.c — the HTTP deliverer end to end: lane order under
 * concurrency, retries with one Idempotency-Key, a 4xx failing its lane only
 * (and replay), https with verification and HMAC, the dialect at send time,
 * timeouts, the breaker's probes and Retry-After. Real PostgreSQL,
 * in-process receivers on 127.0.0.1. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "takt/auth.h"
#include "takt/dialect.h"

#include "fixture.h"

/* Trace steps of one name (rows hold a step array: 003_trace_steps.sql). */
#define TRACE_STEPS "SELECT count(*) FROM trace, json_array_elements(steps) s WHERE s->>'step' = "
/* ---- ordering within a lane under concurrency ---- */

static struct answer plan_jitter(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200, .delay_ms = (int)((n * 7) % 23)};
}

static void test_order_within_lane(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_jitter, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].auth.token.value = strdup("s3cret");
        static const char *const wos[] = {"WO-1", "WO-2", "WO-3", "WO-4"};
        /* half the backlog is in PostgreSQL before the dispatcher starts */
        for (int seq = 0; seq < 8; seq++)
                for (size_t w = 0; w < 4; w++)
                        insert(f, "mes", wos[w], seq, NULL);
        start(f, 1);
        for (int seq = 8; seq < 16; seq++)
                for (size_t w = 0; w < 4; w++)
                        submit_one(f, "mes", wos[w], seq, NULL);
        struct count_arg all = {"delivered", 64};
        assert_true(run_until(f, n_in_state, &all, 20000));
        assert_int_equal(receiver_count(r), 64);
        assert_true(receiver_max_concurrent(r) >= 2);
        /* keep-alive: the 64 requests share the pool's 4 connections (ASan's
         * quarantine keeps freed addresses from coming back) */
        size_t conns = 0;
        for (size_t i = 0; i < receiver_count(r); i++) {
                bool seen = false;
                for (size_t j = 0; j < i && !seen; j++)
                        seen = receiver_get(r, j)->conn == receiver_get(r, i)->conn;
                conns += !seen;
        }
        assert_true(conns <= 4);
        for (size_t w = 0; w < 4; w++) {
                int64_t last = 0;
                int seen = 0;
                for (size_t i = 0; i < receiver_count(r); i++) {
                        const struct rreq *q = receiver_get(r, i);
                        if (strcmp(q->work_order, wos[w]) != 0)
                                continue;
                        assert_true(q->idem > last); /* commit order, no duplicates */
                        last = q->idem;
                        seen++;
                }
                assert_int_equal(seen, 16);
        }
        const struct rreq *q0 = receiver_get(r, 0);
        assert_string_equal(q0->content_type, "application/json");
        char host[32];
        snprintf(host, sizeof(host), "127.0.0.1:%d", receiver_port(r));
        assert_string_equal(q0->host, host);
        assert_string_equal(q0->authorization, "Bearer s3cret");
        assert_string_equal(q0->type, "work_order.released");
        assert_int_equal(strlen(q0->traceparent), 55);
        json_t *body = json_loads(q0->body, 0, NULL);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "plant")), "DE01");
        json_decref(body);
        stop(f);
        assert_int_equal(f->delivered_calls, 64);
        assert_int_equal(sql_long(f, TRACE_STEPS "'delivered'", 0, NULL), 64);
        receiver_free(r);
}

/* ---- 503 three times, then 200 ---- */

static struct answer plan_503x3(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n < 3 ? 503 : 200};
}

static void test_retry_then_delivered(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_503x3, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        int64_t id;
        submit_one(f, "mes", "WO-9", 1, &id);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 4);
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(receiver_get(r, i)->idem, id); /* same key every time */
        char *att = row_field(f, id, "attempts");
        assert_string_equal(att, "4");
        free(att);
        stop(f);
        assert_int_equal(f->delivered_calls, 1);
        assert_int_equal(sql_long(f, TRACE_STEPS "'attempt'", 0, NULL), 4);
        assert_int_equal(sql_long(f, TRACE_STEPS "'delivered'", 0, NULL), 1);
        size_t len;
        char *text = metrics_render(f->metrics, &len);
        assert_non_null(strstr(text, "takt_delivery_attempts_total{destination=\"mes\","
                                     "result=\"retry\"} 3\n"));
        assert_non_null(strstr(text, "takt_delivery_attempts_total{destination=\"mes\","
                                     "result=\"delivered\"} 1\n"));
        assert_non_null(strstr(text, "takt_end_to_end_seconds_count{destination=\"mes\"} 1\n"));
        free(text);
        receiver_free(r);
}

/* ---- 400 fails at once, holds its lane only, replay resumes it ---- */

static struct answer plan_bad(void *arg, const struct rreq *q, size_t n)
{
        struct fx *f = arg;
        bool bad = strcmp(q->work_order, "WO-BAD") == 0 && !f->accept_bad;
        return (struct answer){.status = bad ? 400 : 200};
}

static void test_client_error_fails_lane_only(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_bad, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        int64_t bad1, bad2, ok1, ok2;
        submit_one(f, "mes", "WO-BAD", 1, &bad1);
        submit_one(f, "mes", "WO-BAD", 2, &bad2);
        submit_one(f, "mes", "WO-OK", 1, &ok1);
        submit_one(f, "mes", "WO-OK", 2, &ok2);
        struct id_state want[] = {{bad1, "failed"}, {ok1, "delivered"}, {ok2, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, want, 10000));
        run_for(f, 200);
        assert_true(state_is(f, bad2, "pending")); /* held back behind the failure */
        for (size_t i = 0; i < receiver_count(r); i++)
                assert_true(receiver_get(r, i)->idem != bad2);
        char *err = row_field(f, bad1, "last_error");
        assert_non_null(err);
        assert_non_null(strstr(err, "400"));
        free(err);
        char *att = row_field(f, bad1, "attempts");
        assert_string_equal(att, "1"); /* not retried */
        free(att);

        /* replay (what taktd --replay does): NOTIFY wakes the dispatcher */
        f->accept_bad = true;
        size_t before = receiver_count(r);
        char ids[24];
        snprintf(ids, sizeof(ids), "%lld", (long long)bad1);
        struct store_replay_selector sel = {.message_id = ids};
        long count = 0;
        char e[256];
        assert_int_equal(store_replay_blocking(f->conninfo, &sel, false, &count, e, sizeof(e)), 0);
        assert_int_equal(count, 1);
        struct id_state done[] = {{bad1, "delivered"}, {bad2, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        assert_int_equal(receiver_count(r), before + 2);
        assert_int_equal(receiver_get(r, before)->idem, bad1);
        assert_int_equal(receiver_get(r, before + 1)->idem, bad2);
        stop(f);
        receiver_free(r);
}

/* ---- https with certificate and name verification, HMAC auth ---- */

/* A self-signed certificate for IP 127.0.0.1 in a fresh folder (blocking,
 * outside the loop). Returns the folder (caller frees) or NULL. */
static char *make_cert(void)
{
        char tmpl[] = "/tmp/takt-tls.XXXXXX";
        if (mkdtemp(tmpl) == NULL)
                return NULL;
        char cmd[512];
        snprintf(cmd, sizeof(cmd),
                 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
                 " -keyout %s/key.pem -out %s/cert.pem -days 2 -subj /CN=127.0.0.1"
                 " -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
                 tmpl, tmpl);
        return system(cmd) == 0 ? strdup(tmpl) : NULL;
}

static void remove_cert(char *dir)
{
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
        free(dir);
}

static void test_https_verified_with_hmac(void **state)
{
        struct fx *f = *state;
        char *dir = make_cert();
        assert_non_null(dir);
        char cert[256], key[256], url[128];
        snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
        snprintf(key, sizeof(key), "%s/key.pem", dir);
        struct receiver *good = receiver_new_tls(f->base, plan_ok, f, cert, key);
        struct receiver *untrusted = receiver_new_tls(f->base, plan_ok, f, cert, key);
        assert_non_null(good);
        assert_non_null(untrusted);
        f->dest[0] = http_dest("s4", 0);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/odata", receiver_port(good));
        free(f->dest[0].url);
        f->dest[0].url = strdup(url);
        f->dest[0].ca_file = cert;
        f->dest[0].auth.hmac_secret.value = strdup("hmac-key");
        f->dest[0].auth.hmac_secret.len = 8;
        /* the same server, but its certificate is not trusted (default CAs) */
        f->dest[1] = http_dest("mes", 0);
        snprintf(url, sizeof(url), "https://127.0.0.1:%d/api", receiver_port(untrusted));
        free(f->dest[1].url);
        f->dest[1].url = strdup(url);
        f->dest[1].retry.max_attempts = 0; /* keeps retrying: stays pending */
        start(f, 2);
        int64_t ok, refused;
        submit_one(f, "s4", "WO-TLS", 1, &ok);
        submit_one(f, "mes", "WO-TLS", 1, &refused);
        struct id_state done[] = {{ok, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        run_for(f, 300);
        assert_int_equal(receiver_count(good), 1);
        assert_int_equal(receiver_count(untrusted), 0); /* handshake refused */
        assert_true(state_is(f, refused, "pending"));
        char *att = row_field(f, refused, "attempts");
        assert_true(atoi(att) >= 1);
        free(att);

        /* X-Takt-Signature: t=<unix>,v1=HMAC(secret, t + "." + body) */
        const struct rreq *q = receiver_get(good, 0);
        assert_non_null(q->signature);
        long long t = atoll(q->signature + 2);
        char want[AUTH_SIGNATURE_MAX];
        struct takt_secret secret = {.value = "hmac-key", .len = 8};
        assert_int_equal(auth_sign(&secret, t, q->body, strlen(q->body), want, sizeof(want)), 0);
        assert_string_equal(q->signature, want);
        assert_null(q->authorization);
        stop(f);
        receiver_free(good);
        receiver_free(untrusted);
        remove_cert(dir);
}

/* ---- the destination's dialect at send time; a mapping error fails ---- */

static void test_dialect_mapping(void **state)
{
        struct fx *f = *state;
        char dir[] = "/tmp/takt-dialect.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char path[128];
        snprintf(path, sizeof(path), "%s/tiny-mes.yaml", dir);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("value_maps:\n"
              "  seqs: {\"1\": one}\n"
              "outbound:\n"
              "  work_order.released:\n"
              "    Order: /work_order\n"
              "    Seq: {from: /data/seq, map: seqs}\n",
              fp);
        fclose(fp);
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].dialect = "tiny-mes";
        f->cfg.dialects_dir = dir;
        f->cfg.destinations = f->dest;
        f->cfg.n_destinations = 1;
        char err[256] = "";
        struct dialect_set *set = dialect_set_load(&f->cfg, err, sizeof(err));
        if (set == NULL)
                fail_msg("dialect_set_load: %s", err);
        f->cfg.kafka.topic_prefix = "takt.";
        f->cfg.delivery.shutdown_grace_ms = 2000;
        f->d = delivery_new(f->base, f->store, f->metrics, &f->cfg, set, err, sizeof(err));
        assert_non_null(f->d);
        delivery_resume(f->d);
        int64_t bad, good;
        submit_one(f, "mes", "WO-MAP", 2, &bad); /* seq 2 has no entry in the map */
        submit_one(f, "mes", "WO-MAP2", 1, &good);
        struct id_state want[] = {{bad, "failed"}, {good, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, want, 10000));
        assert_int_equal(receiver_count(r), 1);
        json_t *body = json_loads(receiver_get(r, 0)->body, 0, NULL);
        assert_non_null(body);
        assert_string_equal(json_string_value(json_object_get(body, "Order")), "WO-MAP2");
        assert_string_equal(json_string_value(json_object_get(body, "Seq")), "one");
        json_decref(body);
        char *e = row_field(f, bad, "last_error");
        assert_non_null(e);
        assert_non_null(strstr(e, "mapping"));
        free(e);
        stop(f);
        store_free(f->store); /* before the dispatcher, then the dialects */
        f->store = NULL;
        delivery_free(f->d);
        f->d = NULL;
        dialect_set_free(set);
        f->dest[0].dialect = NULL;
        unlink(path);
        rmdir(dir);
        receiver_free(r);
}

/* ---- a destination that hangs: timeout, then retried ---- */

static struct answer plan_hang_once(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n == 0 ? 0 : 200};
}

static void test_timeout(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_hang_once, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 300;
        start(f, 1);
        int64_t id;
        submit_one(f, "mes", "WO-H", 1, &id);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 2);
        assert_true(receiver_get(r, 1)->at_ms - receiver_get(r, 0)->at_ms >= 280);
        assert_int_equal(
            sql_long(f, TRACE_STEPS "'attempt' AND s->'detail'->>'error' = 'timeout'", 0, NULL), 1);
        stop(f);
        receiver_free(r);
}

/* ---- a destination down for a while: the breaker limits the probes ---- */

static struct answer plan_down_until(void *arg, const struct rreq *q, size_t n)
{
        struct fx *f = arg;
        return (struct answer){.status = q->at_ms < f->up_at_ms ? 503 : 200};
}

static void test_breaker(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_down_until, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].max_in_flight = 1;
        f->dest[0].retry = (struct takt_retry){.initial_ms = 10, .max_ms = 30, .max_attempts = 0};
        f->dest[0].breaker = (struct takt_breaker){.failures = 3, .open_ms = 400};
        f->up_at_ms = test_mono_ms() + 2000;
        start(f, 1);
        for (int i = 0; i < 5; i++) {
                char wo[16];
                snprintf(wo, sizeof(wo), "WO-%d", i);
                submit_one(f, "mes", wo, 1, NULL);
        }
        struct count_arg all = {"delivered", 5};
        assert_true(run_until(f, n_in_state, &all, 15000));
        size_t during = 0;
        for (size_t i = 0; i < receiver_count(r); i++)
                during += receiver_get(r, i)->at_ms < f->up_at_ms;
        /* 3 failures open it, then one probe per 400 ms over 2 s: ~3 + 5.
         * Without a breaker the 10-30 ms backoff would make ~100 attempts. */
        assert_true(during >= 3 + 3);
        assert_true(during <= 3 + 7);
        stop(f);
        receiver_free(r);
}

/* ---- Retry-After is honoured ---- */

static struct answer plan_429(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = n == 0 ? 429 : 200, .retry_after = n == 0 ? "1" : NULL};
}

static void test_retry_after_honoured(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_429, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        submit_one(f, "mes", "WO-R", 1, NULL);
        struct count_arg one = {"delivered", 1};
        assert_true(run_until(f, n_in_state, &one, 10000));
        assert_int_equal(receiver_count(r), 2);
        assert_true(receiver_get(r, 1)->at_ms - receiver_get(r, 0)->at_ms >= 950);
        stop(f);
        receiver_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_order_within_lane, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_then_delivered, setup, teardown),
            cmocka_unit_test_setup_teardown(test_client_error_fails_lane_only, setup, teardown),
            cmocka_unit_test_setup_teardown(test_https_verified_with_hmac, setup, teardown),
            cmocka_unit_test_setup_teardown(test_dialect_mapping, setup, teardown),
            cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
            cmocka_unit_test_setup_teardown(test_breaker, setup, teardown),
            cmocka_unit_test_setup_teardown(test_retry_after_honoured, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
