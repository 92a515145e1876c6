/* sla_timers.c — SLA deadline timers on the loop (see sla_timers.h). */
#include "sla_timers.h"

#include <event2/event.h>
#include <jansson.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "takt/log.h"
#include "takt/store.h"

struct sla_timer {
        char *key; /* owned "plant\x1fwork_order"; the tree's sort key */
        char *plant;
        char *work_order;
        int64_t deadline_ms;
        struct event *ev;
        struct sla_timers *owner;
};

struct sla_timers {
        struct event_base *base;
        void *root; /* tsearch tree of struct sla_timer * */
        sla_due_cb due;
        void *arg;
};

static int compare_timers(const void *a, const void *b)
{
        return strcmp(((const struct sla_timer *)a)->key, ((const struct sla_timer *)b)->key);
}

static void timer_free(void *p)
{
        struct sla_timer *tm = p;
        event_free(tm->ev);
        free(tm->key);
        free(tm->plant);
        free(tm->work_order);
        free(tm);
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
        struct sla_timer *tm = arg;
        struct sla_timers *t = tm->owner;
        tdelete(tm, &t->root, compare_timers);
        t->due(t->arg, tm->plant, tm->work_order);
        timer_free(tm);
}

struct sla_timers *sla_timers_new(struct event_base *base, sla_due_cb due, void *arg)
{
        struct sla_timers *t = calloc(1, sizeof(*t));
        t->base = base;
        t->due = due;
        t->arg = arg;
        return t;
}

void sla_timers_arm(struct sla_timers *t, const char *plant, const char *work_order,
                    int64_t deadline_ms)
{
        size_t n = strlen(plant) + strlen(work_order) + 2;
        char *key = malloc(n);
        snprintf(key, n, "%s\x1f%s", plant, work_order);
        struct sla_timer probe = {.key = key};
        void *found = tfind(&probe, &t->root, compare_timers);
        struct sla_timer *tm = found ? *(struct sla_timer **)found : NULL;
        if (tm && tm->deadline_ms == deadline_ms) {
                free(key);
                return;
        }
        if (tm) {
                tdelete(tm, &t->root, compare_timers);
                timer_free(tm);
        }
        if (deadline_ms <= 0) {
                free(key);
                return;
        }
        tm = calloc(1, sizeof(*tm));
        tm->key = key;
        tm->plant = strdup(plant);
        tm->work_order = strdup(work_order);
        tm->deadline_ms = deadline_ms;
        tm->owner = t;
        tm->ev = evtimer_new(t->base, on_due, tm);
        int64_t wait = deadline_ms - now_ms();
        if (wait < 0)
                wait = 0;
        struct timeval tv = {.tv_sec = wait / 1000, .tv_usec = (wait % 1000) * 1000};
        evtimer_add(tm->ev, &tv);
        tsearch(tm, &t->root, compare_timers);
}

static void on_pending(void *arg, json_t *result, const char *error)
{
        struct sla_timers *t = arg;
        if (error) {
                log_warn("sla.resume_failed", "error=\"%s\"", error);
                return;
        }
        size_t i;
        json_t *row;
        json_array_foreach(result, i, row)
        {
                const char *plant = json_string_value(json_object_get(row, "plant"));
                const char *wo = json_string_value(json_object_get(row, "work_order"));
                json_int_t ms = json_integer_value(json_object_get(row, "deadline_ms"));
                if (plant && wo)
                        sla_timers_arm(t, plant, wo, ms > 0 ? ms : 1);
        }
        log_info("sla.resumed", "deadlines=%zu", json_array_size(result));
        json_decref(result);
}

void sla_timers_resume(struct sla_timers *t, struct store *store)
{
        store_sla_pending(store, on_pending, t);
}

void sla_timers_free(struct sla_timers *t)
{
        if (!t)
                return;
        tdestroy(t->root, timer_free);
        free(t);
}
