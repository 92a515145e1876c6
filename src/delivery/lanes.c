/* lanes.c — the dispatcher's tables: messages by outbox id, lanes by
 * (destination, lane key), destinations by name; a lane's queue stays in id
 * order and a lane is freed as soon as it is idle (empty, nothing in flight,
 * not blocked). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatch.h"

int64_t delivery_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t delivery_mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t id_bucket(int64_t id)
{
        return (size_t)((uint64_t)id * 0x9E3779B97F4A7C15ULL >> 49) % ID_BUCKETS;
}

static size_t str_bucket(const char *a, const char *b)
{
        uint64_t h = 1469598103934665603ULL;
        for (const char *p = a; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        h = (h ^ '\n') * 1099511628211ULL;
        for (const char *p = b; *p; p++)
                h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        return (size_t)(h % LANE_BUCKETS);
}

struct dmsg *msg_find(struct delivery *d, int64_t id)
{
        for (struct dmsg *m = d->ids[id_bucket(id)]; m; m = m->id_next)
                if (m->row.id == id)
                        return m;
        return NULL;
}

struct ddest *dest_find(struct delivery *d, const char *name)
{
        for (struct ddest *x = d->dests; x; x = x->next)
                if (strcmp(x->name, name) == 0)
                        return x;
        return NULL;
}

static bool lane_key_is(const struct lane *l, const char *dest, const char *lane)
{
        size_t n = strlen(dest);
        return strncmp(l->key, dest, n) == 0 && l->key[n] == '\n' &&
               strcmp(l->key + n + 1, lane) == 0;
}

static void lane_make_ready(struct lane *l)
{
        struct ddest *dst = l->dest;
        if (l->ready)
                return;
        l->ready = true;
        l->ready_next = NULL;
        if (dst->ready_tail)
                dst->ready_tail->ready_next = l;
        else
                dst->ready_head = l;
        dst->ready_tail = l;
}

static void on_lane_timer(evutil_socket_t fd, short what, void *arg)
{
        struct lane *l = arg;
        lane_update(l->dest->owner, l);
}

struct lane *lane_find(struct delivery *d, const char *dest, const char *lane, bool create)
{
        size_t b = str_bucket(dest, lane);
        for (struct lane *l = d->lanes[b]; l; l = l->map_next)
                if (lane_key_is(l, dest, lane))
                        return l;
        struct ddest *dst = create ? dest_find(d, dest) : NULL;
        if (dst == NULL || dst->cfg == NULL)
                return NULL;
        struct lane *l = calloc(1, sizeof(*l));
        size_t n = strlen(dest) + strlen(lane) + 2;
        char *key = malloc(n);
        if (l == NULL || key == NULL) {
                free(l);
                free(key);
                return NULL;
        }
        snprintf(key, n, "%s\n%s", dest, lane);
        l->key = key;
        l->dest = dst;
        l->timer = evtimer_new(d->base, on_lane_timer, l);
        l->map_next = d->lanes[b];
        d->lanes[b] = l;
        return l;
}

static void lane_unready(struct lane *l)
{
        if (!l->ready)
                return;
        struct ddest *dst = l->dest;
        struct lane **pp = &dst->ready_head, *prev = NULL;
        while (*pp && *pp != l) {
                prev = *pp;
                pp = &(*pp)->ready_next;
        }
        if (*pp) {
                *pp = l->ready_next;
                if (dst->ready_tail == l)
                        dst->ready_tail = prev;
        }
        l->ready = false;
        l->ready_next = NULL;
}

static void lane_free(struct delivery *d, struct lane *l)
{
        lane_unready(l);
        size_t b = str_bucket(l->dest->name, l->key + strlen(l->dest->name) + 1);
        for (struct lane **pp = &d->lanes[b]; *pp; pp = &(*pp)->map_next)
                if (*pp == l) {
                        *pp = l->map_next;
                        break;
                }
        if (l->timer)
                event_free(l->timer);
        free(l->key);
        free(l);
}

void lane_update(struct delivery *d, struct lane *l)
{
        if (l->head == NULL && !l->in_flight && l->blocked_by == 0) {
                lane_free(d, l);
                return;
        }
        if (l->in_flight || l->blocked_by != 0 || l->head == NULL || d->shutting_down) {
                lane_unready(l);
                evtimer_del(l->timer);
                return;
        }
        int64_t wait = l->head->row.next_attempt_ms - delivery_now_ms();
        if (wait > 0) {
                lane_unready(l);
                struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)((wait % 1000) * 1000)};
                evtimer_add(l->timer, &tv);
                return;
        }
        evtimer_del(l->timer);
        lane_make_ready(l);
        dispatch_kick(d);
}

static void id_unlink(struct delivery *d, struct dmsg *m)
{
        for (struct dmsg **pp = &d->ids[id_bucket(m->row.id)]; *pp; pp = &(*pp)->id_next)
                if (*pp == m) {
                        *pp = m->id_next;
                        return;
                }
}

void msg_forget(struct delivery *d, struct dmsg *m)
{
        id_unlink(d, m);
        store_outbox_row_clear(&m->row);
        free(m);
        d->n_rows--;
}

struct dmsg *msg_add(struct delivery *d, struct store_outbox_row *row)
{
        struct lane *l = lane_find(d, row->destination, row->lane ? row->lane : "", true);
        struct dmsg *m = l ? calloc(1, sizeof(*m)) : NULL;
        if (m == NULL) {
                if (l)
                        lane_update(d, l);
                store_outbox_row_clear(row);
                return NULL;
        }
        m->row = *row;
        memset(row, 0, sizeof(*row));
        m->lane = l;
        size_t b = id_bucket(m->row.id);
        m->id_next = d->ids[b];
        d->ids[b] = m;
        d->n_rows++;
        if (m->row.id > d->max_known)
                d->max_known = m->row.id;
        /* insert in id order (usually at the tail) */
        if (l->tail == NULL || l->tail->row.id < m->row.id) {
                if (l->tail)
                        l->tail->next = m;
                else
                        l->head = m;
                l->tail = m;
        } else {
                struct dmsg **pp = &l->head;
                /* never in front of the message in flight */
                if (l->in_flight)
                        pp = &l->head->next;
                while (*pp && (*pp)->row.id < m->row.id)
                        pp = &(*pp)->next;
                m->next = *pp;
                *pp = m;
                if (m->next == NULL)
                        l->tail = m;
        }
        lane_update(d, l);
        return m;
}

void lane_remove_head(struct lane *l)
{
        struct dmsg *m = l->head;
        if (m == NULL)
                return;
        l->head = m->next;
        if (l->head == NULL)
                l->tail = NULL;
        m->next = NULL;
        m->lane = NULL;
}

/* Keep the message in flight (if any); forget every queued row behind it. */
static void drop_queued(struct delivery *d, struct lane *l)
{
        struct dmsg **pp = &l->head;
        if (l->in_flight && l->head)
                pp = &l->head->next;
        while (*pp) {
                struct dmsg *m = *pp;
                *pp = m->next;
                msg_forget(d, m);
        }
        l->tail = l->in_flight ? l->head : NULL;
}

void lane_block(struct delivery *d, struct lane *l, int64_t id, bool held)
{
        if (l->blocked_by == 0 || id < l->blocked_by) {
                l->blocked_by = id;
                l->held = held;
        }
        l->mark = d->generation;
        drop_queued(d, l);
        lane_update(d, l);
}

void lanes_free_all(struct delivery *d)
{
        for (size_t b = 0; b < LANE_BUCKETS; b++)
                while (d->lanes[b]) {
                        struct lane *l = d->lanes[b];
                        while (l->head) {
                                struct dmsg *m = l->head;
                                lane_remove_head(l);
                                msg_forget(d, m);
                        }
                        l->in_flight = false;
                        l->blocked_by = 0;
                        lane_free(d, l);
                }
}

void lanes_drop_unconfigured(struct delivery *d)
{
        for (size_t b = 0; b < LANE_BUCKETS; b++)
                for (struct lane *l = d->lanes[b], *next; l; l = next) {
                        next = l->map_next;
                        if (l->dest->cfg != NULL)
                                continue;
                        drop_queued(d, l);
                        l->blocked_by = 0;
                        lane_update(d, l);
                }
}
