/* test_outbox.c — the dispatcher's view of the outbox: a backlog paged in
 * id order, a row committed after a page's snapshot, held lanes and their
 * release, and shutdown with a grace period. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
/* ---- a row committed after a page's snapshot, submitted while paging ---- */

/* answers after the row's transaction committed (the outcome must find it) */
static struct answer plan_2500ms(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200, .delay_ms = 2500};
}

static void test_submit_during_rescan(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_2500ms, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 5000;
        start(f, 1);
        run_for(f, 100);
        /* the row exists but is not committed while the pages are read */
        PQclear(sql(f, "BEGIN", 0, NULL));
        struct store_outbox_row row;
        int64_t id = insert(f, "mes", "WO-RACE", 1, &row);
        delivery_resume(f->d); /* a rescan, as after a NOTIFY */
        delivery_submit(f->d, &row, 1);
        store_outbox_row_clear(&row);
        run_for(f, 1500); /* pages done: they could not see the row */
        PQclear(sql(f, "COMMIT", 0, NULL));
        struct id_state done[] = {{id, "delivered"}, {0}};
        /* far below the 30 s safety sweep */
        assert_true(run_until(f, ids_in_state, done, 8000));
        assert_int_equal(receiver_count(r), 1);
        stop(f);
        receiver_free(r);
}

/* ---- a backlog larger than a page: paged in id order, each once ---- */

static void test_backlog_paging(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].max_in_flight = 16;
        PQclear(sql(f,
                    "INSERT INTO outbox (destination, plant, work_order, lane, type, message_id,"
                    " correlation_id, envelope) SELECT 'mes', 'DE01', 'WO-' || (g % 40),"
                    " 'DE01/WO-' || (g % 40), 'work_order.released', 'm-' || g, 'c-' || g,"
                    " jsonb_build_object('id', 'm-' || g, 'plant', 'DE01', 'work_order',"
                    " 'WO-' || (g % 40)) FROM generate_series(1, 2500) g",
                    0, NULL));
        start(f, 1);
        /* fresh rows while the backlog is being paged: ignored above the
         * horizon, found by the pages */
        for (int i = 0; i < 20; i++)
                submit_one(f, "mes", "WO-NEW", i, NULL);
        struct count_arg all = {"delivered", 2520};
        assert_true(run_until(f, n_in_state, &all, 120000));
        assert_int_equal(receiver_count(r), 2520);
        stop(f);
        receiver_free(r);
}

/* ---- a held message holds back its lane until released ---- */

static void test_held_then_released(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_ok, f);
        f->dest[0] = http_dest("erp", receiver_port(r));
        start(f, 1);
        struct store_outbox_row held, after;
        int64_t held_id = insert(f, "erp", "WO-HOLD", 1, &held);
        PQclear(sql(f, "UPDATE outbox SET state = 'held' WHERE work_order = 'WO-HOLD'", 0, NULL));
        free(held.state);
        held.state = strdup("held");
        int64_t after_id = insert(f, "erp", "WO-HOLD", 2, &after);
        int64_t other;
        delivery_submit(f->d, &held, 1);
        delivery_submit(f->d, &after, 1);
        submit_one(f, "erp", "WO-FREE", 1, &other);
        struct id_state free_done[] = {{other, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, free_done, 10000));
        run_for(f, 200);
        assert_true(state_is(f, after_id, "pending")); /* waits behind the held one */
        assert_int_equal(receiver_count(r), 1);

        /* the hold is released (what store_batch_release_held does) */
        char ids[24];
        snprintf(ids, sizeof(ids), "%lld", (long long)held_id);
        const char *p[] = {ids};
        PQclear(sql(f, "UPDATE outbox SET state = 'pending' WHERE id = $1", 1, p));
        free(held.state);
        held.state = strdup("pending");
        delivery_submit(f->d, &held, 1);
        struct id_state done[] = {{held_id, "delivered"}, {after_id, "delivered"}, {0}};
        assert_true(run_until(f, ids_in_state, done, 10000));
        assert_int_equal(receiver_count(r), 3);
        assert_int_equal(receiver_get(r, 1)->idem, held_id);
        assert_int_equal(receiver_get(r, 2)->idem, after_id);
        store_outbox_row_clear(&held);
        store_outbox_row_clear(&after);
        stop(f);
        receiver_free(r);
}

/* ---- shutdown: in-flight work finishes within the grace, the rest stays ---- */

static struct answer plan_slow(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200,
                               .delay_ms = strcmp(q->work_order, "WO-SLOW") == 0 ? 3000 : 200};
}

static void test_shutdown_grace(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_slow, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        f->dest[0].timeout_ms = 10000;
        start(f, 1);
        int64_t quick, slow, later;
        submit_one(f, "mes", "WO-QUICK", 1, &quick);
        submit_one(f, "mes", "WO-SLOW", 1, &slow);
        submit_one(f, "mes", "WO-QUICK", 2, &later);
        run_for(f, 50); /* both lanes in flight */
        assert_int_equal(receiver_count(r), 2);
        f->cfg.delivery.shutdown_grace_ms = 1000;
        int64_t t0 = test_mono_ms();
        f->drained = false;
        delivery_shutdown(f->d, on_drained, f);
        assert_true(run_until(f, drained, NULL, 5000));
        int64_t took = test_mono_ms() - t0;
        assert_true(took >= 900 && took < 2500);
        assert_true(state_is(f, quick, "delivered")); /* finished within the grace */
        assert_true(state_is(f, slow, "pending"));    /* cut off: stays pending */
        assert_true(state_is(f, later, "pending"));   /* never started */
        assert_int_equal(receiver_count(r), 2);
        receiver_free(r);
}

/* ---- PostgreSQL goes away while deliveries finish: outcomes wait ---- */

static struct answer plan_400ms(void *arg, const struct rreq *q, size_t n)
{
        return (struct answer){.status = 200, .delay_ms = 400};
}

static void harness(const char *script)
{
        const char *dir = getenv("TAKT_PG_HARNESS");
        assert_non_null(dir);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "sh '%s/%s' >/dev/null 2>&1", dir, script);
        assert_int_equal(system(cmd), 0);
}

static void test_postgres_outage(void **state)
{
        struct fx *f = *state;
        struct receiver *r = receiver_new(f->base, plan_400ms, f);
        f->dest[0] = http_dest("mes", receiver_port(r));
        start(f, 1);
        for (int i = 0; i < 5; i++) {
                char wo[16];
                snprintf(wo, sizeof(wo), "WO-PG%d", i);
                submit_one(f, "mes", wo, 1, NULL);
        }
        run_for(f, 100); /* all five in flight */
        harness("pg-stop.sh");
        run_for(f, 1500); /* answers arrive; outcome writes fail and wait */
        assert_int_equal(receiver_count(r), 5);
        harness("pg-start.sh");
        PQreset(f->pg);
        struct count_arg all = {"delivered", 5};
        assert_true(run_until(f, n_in_state, &all, 20000));
        assert_int_equal(receiver_count(r), 5); /* recorded, not sent again */
        stop(f);
        receiver_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(test_submit_during_rescan, setup, teardown),
            cmocka_unit_test_setup_teardown(test_backlog_paging, setup, teardown),
            cmocka_unit_test_setup_teardown(test_held_then_released, setup, teardown),
            cmocka_unit_test_setup_teardown(test_shutdown_grace, setup, teardown),
            cmocka_unit_test_setup_teardown(test_postgres_outage, setup, teardown),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
