/* test_property.c — a valid lifecycle delivered in 2000 random orders (fixed
 * seed, own PRNG) with random duplicates ends in the same state and gives
 * the ERP the same multiset of postings as in-order delivery, none left
 * held. Duplicates (same message id) are filtered by the inbox before the
 * orchestrator, as in the daemon; the harness models that filter. A second
 * final confirmation under a new id (an MES resend) reaches the machine
 * and must change nothing. With completion: operation the final
 * confirmation of the last operation is the physical end of production and
 * is delivered after the other confirmations; every other message is free. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

#define RUNS     2000
#define MAX_MSGS 40

struct rng {
        uint64_t s;
};

static uint64_t rng_next(struct rng *r) /* xorshift64* */
{
        r->s ^= r->s >> 12;
        r->s ^= r->s << 25;
        r->s ^= r->s >> 27;
        return r->s * 2685821657736338717ULL;
}

static size_t rng_below(struct rng *r, size_t n)
{
        return (size_t)(rng_next(r) % n);
}

struct lifecycle {
        struct takt_plant plant;
        json_t *msgs[MAX_MSGS];
        size_t n;
        const char *after[8][2]; /* {a, b}: a is delivered after b */
        const char *resent;      /* the message sent twice under two ids: one is stale */
};

static void add(struct lifecycle *l, json_t *m)
{
        l->msgs[l->n++] = m;
}

/* completion: operation, scrap: embedded. */
static void lifecycle_operation(struct lifecycle *l)
{
        memset(l, 0, sizeof(*l));
        l->plant = fx_plant(TAKT_COMPLETION_OPERATION, TAKT_SCRAP_EMBEDDED);
        add(l, fx_release("r1", 1));
        add(l, fx_msg("dispatch", "work_order.released", json_object()));
        add(l, fx_ack("a1"));
        add(l, fx_started("st10", "0010"));
        add(l, fx_started("st20", "0020"));
        add(l, fx_confirmed("c10a", "0010", 60, 1, false));
        add(l, fx_confirmed("c10b", "0010", 40, 1, true));
        add(l, fx_consumed("m1", "MAT-2", 5));
        add(l, fx_consumed("m2", "MAT-3", 2));
        add(l, fx_hold("hp1", true, "h1"));
        add(l, fx_hold("hr1", false, "h1"));
        add(l, fx_hold("hp2", true, "h2"));
        add(l, fx_hold("hr2", false, "h2"));
        add(l, fx_confirmed("c20", "0020", 97, 3, true));
        add(l, fx_confirmed("c20-resend", "0020", 97, 3, true));
        static const char *const after[][2] = {{"c20", "c10a"},
                                               {"c20", "c10b"},
                                               {"c20-resend", "c10a"},
                                               {"c20-resend", "c10b"},
                                               {"dispatch", "r1"}};
        memcpy(l->after, after, sizeof(after));
        l->resent = "c20";
}

/* completion: order, scrap: separate (scrap after the yield it belongs to). */
static void lifecycle_order(struct lifecycle *l)
{
        memset(l, 0, sizeof(*l));
        l->plant = fx_plant(TAKT_COMPLETION_ORDER, TAKT_SCRAP_SEPARATE);
        add(l, fx_release("r1", 1));
        add(l, fx_msg("dispatch", "work_order.released", json_object()));
        add(l, fx_ack("a1"));
        add(l, fx_started("st10", "0010"));
        add(l, fx_started("st20", "0020"));
        add(l, fx_confirmed("c10a", "0010", 60, 0, false));
        add(l, fx_confirmed("s10a", "0010", 0, 1, false));
        add(l, fx_confirmed("c10b", "0010", 40, 0, true));
        add(l, fx_confirmed("s10b", "0010", 0, 1, false));
        add(l, fx_confirmed("c20", "0020", 97, 0, true));
        add(l, fx_confirmed("s20", "0020", 0, 3, false));
        add(l, fx_consumed("m1", "MAT-2", 5));
        add(l, fx_hold("hp1", true, "h1"));
        add(l, fx_hold("hr1", false, "h1"));
        add(l, fx_completed("done", 97, 5));
        add(l, fx_completed("done-resend", 97, 5));
        l->after[0][0] = "dispatch";
        l->after[0][1] = "r1";
        l->resent = "done";
}

static void lifecycle_free(struct lifecycle *l)
{
        for (size_t i = 0; i < l->n; i++)
                json_decref(l->msgs[i]);
}

/* What the ERP ends up with: posting contents (type and data, not ids,
 * since a resend may win), in delivery order once holds are released. */
struct outcome {
        json_t *doc;
        json_t *delivered; /* array of strings */
        json_t *held;
        int stale;
};

static bool is_posting(const char *type)
{
        return !strcmp(type, "operation.confirmed") || !strcmp(type, "material.consumed") ||
               !strcmp(type, "work_order.completed");
}

static void collect(struct outcome *o, const struct orch_output *out)
{
        for (size_t i = 0; i < out->n_emit; i++) {
                const json_t *env = out->emit[i].envelope;
                if (!is_posting(canon_str(env, "type")))
                        continue;
                char *data =
                    json_dumps(json_object_get(env, "data"), JSON_SORT_KEYS | JSON_COMPACT);
                json_t *key = json_pack("s+++", canon_str(env, "type"), "|", data, "");
                free(data);
                json_array_append_new(out->emit[i].hold ? o->held : o->delivered, key);
        }
        if (out->release_held) {
                json_array_extend(o->delivered, o->held);
                json_array_clear(o->held);
        }
}

static void deliver_all(const struct lifecycle *l, const size_t *order, size_t n, struct outcome *o)
{
        json_t *inbox = json_object();
        o->doc = NULL;
        o->stale = 0;
        o->delivered = json_array();
        o->held = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *msg = l->msgs[order[i]];
                const char *id = canon_str(msg, "id");
                if (json_object_get(inbox, id) != NULL)
                        continue; /* duplicate: answered by the inbox */
                json_object_set_new(inbox, id, json_true());
                if (strcmp(id, "dispatch") == 0) {
                        /* the delivery report of the release to the MES */
                        fx_deliver(&o->doc, &l->plant, fx_release("r1", 1), TAKT_KIND_MES, FX_T0,
                                   NULL);
                        continue;
                }
                struct orch_output out;
                enum orch_result r = fx_apply(&o->doc, &l->plant, json_incref(msg), FX_T0, &out);
                if (r != ORCH_ACCEPTED && r != ORCH_PARKED && r != ORCH_STALE)
                        fail_msg("%s: result %d (%s)", id, r, out.reason);
                if (r == ORCH_STALE && strncmp(id, l->resent, strlen(l->resent)) != 0)
                        fail_msg("%s: stale (%s)", id, out.reason);
                o->stale += r == ORCH_STALE;
                collect(o, &out);
                orch_output_clear(&out);
        }
        json_decref(inbox);
        /* the completion reaches the ERP */
        const char *done = canon_str(json_object_get(o->doc, "completion"), "id");
        fx_deliver(&o->doc, &l->plant,
                   fx_msg(done ? done : "", "work_order.completed", json_object()), TAKT_KIND_ERP,
                   FX_T0, NULL);
        /* a resend parked before the release is refused when replayed */
        size_t i;
        json_t *note;
        json_array_foreach(json_object_get(o->doc, "rejected_parked"), i, note)
        {
                if (strncmp(canon_str(note, "id"), l->resent, strlen(l->resent)) != 0)
                        fail_msg("%s: rejected on replay", canon_str(note, "id"));
                o->stale++;
        }
}

static void outcome_free(struct outcome *o)
{
        json_decref(o->doc);
        json_decref(o->delivered);
        json_decref(o->held);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The delivered postings as a sorted list: the multiset. */
static char *multiset(const json_t *postings)
{
        size_t n = json_array_size(postings);
        const char **items = calloc(n + 1, sizeof(*items));
        for (size_t i = 0; i < n; i++)
                items[i] = json_string_value(json_array_get(postings, i));
        qsort(items, n, sizeof(*items), cmp_str);
        json_t *sorted = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(sorted, json_string(items[i]));
        free(items);
        char *text = json_dumps(sorted, JSON_COMPACT);
        json_decref(sorted);
        return text;
}

static size_t position(const struct lifecycle *l, const size_t *order, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++) {
                if (!strcmp(canon_str(l->msgs[order[i]], "id"), id))
                        return i;
        }
        return n;
}

static bool respects_constraints(const struct lifecycle *l, const size_t *order, size_t n)
{
        for (size_t i = 0; i < 8 && l->after[i][0]; i++) {
                if (position(l, order, n, l->after[i][0]) < position(l, order, n, l->after[i][1]))
                        return false;
        }
        return true;
}

/* A random order of the lifecycle plus duplicates after their original. */
static size_t random_order(const struct lifecycle *l, struct rng *r, size_t *order)
{
        size_t n = l->n;
        do {
                for (size_t i = 0; i < n; i++)
                        order[i] = i;
                for (size_t i = n - 1; i > 0; i--) {
                        size_t j = rng_below(r, i + 1);
                        size_t t = order[i];
                        order[i] = order[j];
                        order[j] = t;
                }
        } while (!respects_constraints(l, order, n));
        size_t dups = rng_below(r, 6);
        for (size_t d = 0; d < dups; d++) {
                size_t from = rng_below(r, n);
                size_t at = from + 1 + rng_below(r, n - from);
                memmove(&order[at + 1], &order[at], (n - at) * sizeof(*order));
                order[at] = order[from];
                n++;
        }
        return n;
}

static void check_lifecycle(struct lifecycle *l, uint64_t seed)
{
        size_t order[MAX_MSGS * 2];
        for (size_t i = 0; i < l->n; i++)
                order[i] = i;
        struct outcome ref;
        deliver_all(l, order, l->n, &ref);
        assert_string_equal(orch_wo_state(ref.doc), "closed");
        assert_int_equal(json_array_size(ref.held), 0);
        assert_int_equal(ref.stale, 1);
        char *ref_set = multiset(ref.delivered);
        json_t *ref_ops = json_object_get(ref.doc, "operations");
        struct rng r = {seed};
        for (int run = 0; run < RUNS; run++) {
                size_t n = random_order(l, &r, order);
                struct outcome o;
                deliver_all(l, order, n, &o);
                char *set = multiset(o.delivered);
                if (strcmp(orch_wo_state(o.doc), "closed") != 0 || json_array_size(o.held) != 0 ||
                    strcmp(set, ref_set) != 0 ||
                    !json_equal(json_object_get(o.doc, "operations"), ref_ops) ||
                    json_array_size(json_object_get(o.doc, "holds")) != 0 ||
                    orch_wo_parked_count(o.doc) != 0 || o.stale != 1)
                        fail_msg("run %d: state %s held %zu stale %d ops %d sets %d", run,
                                 orch_wo_state(o.doc), json_array_size(o.held), o.stale,
                                 json_equal(json_object_get(o.doc, "operations"), ref_ops),
                                 strcmp(set, ref_set) == 0);
                free(set);
                outcome_free(&o);
        }
        free(ref_set);
        outcome_free(&ref);
}

static void test_operation_plant_any_order(void **state)
{
        struct lifecycle l;
        lifecycle_operation(&l);
        check_lifecycle(&l, 0x7a4bd1e5u);
        lifecycle_free(&l);
}

static void test_order_plant_any_order(void **state)
{
        struct lifecycle l;
        lifecycle_order(&l);
        check_lifecycle(&l, 0x1234567u);
        lifecycle_free(&l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_operation_plant_any_order),
            cmocka_unit_test(test_order_plant_any_order),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
