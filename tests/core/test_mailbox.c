/* test_mailbox.c — letters posted from other threads run on the loop's
 * thread, in posting order, each once; a letter may post again; freeing
 * discards what was never run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>

#include <event2/event.h>

#include "takt/mailbox.h"

#define PER_THREAD 20000
#define THREADS    3

struct rig {
        struct event_base *base;
        struct mailbox *mb;
        pthread_t loop_thread;
        long next[THREADS]; /* the next sequence number expected per sender */
        long ran, expected;
        int wrong_thread, out_of_order, discarded;
};

struct letter {
        struct rig *rig;
        int sender;
        long seq;
};

static void run_letter(void *arg)
{
        struct letter *l = arg;
        struct rig *r = l->rig;
        if (!pthread_equal(pthread_self(), r->loop_thread))
                r->wrong_thread++;
        if (l->seq != r->next[l->sender])
                r->out_of_order++;
        r->next[l->sender] = l->seq + 1;
        if (++r->ran == r->expected)
                event_base_loopbreak(r->base);
        free(l);
}

static void discard_letter(void *arg)
{
        struct letter *l = arg;
        l->rig->discarded++;
        free(l);
}

struct sender {
        struct rig *rig;
        int id;
};

static void *send_all(void *arg)
{
        struct sender *s = arg;
        for (long i = 0; i < PER_THREAD; i++) {
                struct letter *l = malloc(sizeof(*l));
                *l = (struct letter){s->rig, s->id, i};
                assert_int_equal(mailbox_post(s->rig->mb, run_letter, discard_letter, l), 0);
        }
        return NULL;
}

static void rig_init(struct rig *r)
{
        *r = (struct rig){0};
        r->base = event_base_new();
        r->mb = mailbox_new(r->base);
        r->loop_thread = pthread_self();
        assert_non_null(r->base);
        assert_non_null(r->mb);
}

static void rig_free(struct rig *r)
{
        mailbox_free(r->mb);
        event_base_free(r->base);
}

static void test_letters_from_threads_run_in_order_on_the_loop(void **state)
{
        struct rig r;
        rig_init(&r);
        r.expected = (long)PER_THREAD * THREADS;
        pthread_t t[THREADS];
        struct sender s[THREADS];
        for (int i = 0; i < THREADS; i++) {
                s[i] = (struct sender){&r, i};
                assert_int_equal(pthread_create(&t[i], NULL, send_all, &s[i]), 0);
        }
        event_base_dispatch(r.base);
        for (int i = 0; i < THREADS; i++)
                pthread_join(t[i], NULL);
        assert_int_equal(r.ran, r.expected);
        assert_int_equal(r.wrong_thread, 0);
        assert_int_equal(r.out_of_order, 0);
        for (int i = 0; i < THREADS; i++)
                assert_int_equal(r.next[i], PER_THREAD);
        rig_free(&r);
        assert_int_equal(r.discarded, 0);
}

static void post_again(void *arg)
{
        struct rig *r = arg;
        if (++r->ran < 3)
                assert_int_equal(mailbox_post(r->mb, post_again, NULL, r), 0);
        else
                event_base_loopbreak(r->base);
}

static void test_a_letter_may_post_again(void **state)
{
        struct rig r;
        rig_init(&r);
        assert_int_equal(mailbox_post(r.mb, post_again, NULL, &r), 0);
        event_base_dispatch(r.base);
        assert_int_equal(r.ran, 3);
        rig_free(&r);
}

static void test_free_discards_what_never_ran(void **state)
{
        struct rig r;
        rig_init(&r);
        for (long i = 0; i < 5; i++) {
                struct letter *l = malloc(sizeof(*l));
                *l = (struct letter){&r, 0, i};
                assert_int_equal(mailbox_post(r.mb, run_letter, discard_letter, l), 0);
        }
        struct mailbox *mb = r.mb;
        r.mb = NULL;
        mailbox_free(mb);
        assert_int_equal(r.discarded, 5);
        assert_int_equal(r.ran, 0);
        event_base_free(r.base);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_letters_from_threads_run_in_order_on_the_loop),
            cmocka_unit_test(test_a_letter_may_post_again),
            cmocka_unit_test(test_free_discards_what_never_ran),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
