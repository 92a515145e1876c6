/* paging.c — the dispatcher's view of the outbox: rows handed over after
 * COMMIT (submit), resume and rescans (blocked lanes, then pending pages in
 * id order with a bounded number of rows in memory), the buffer of submits
 * above the paging horizon, and NOTIFY takt_outbox. */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "takt/log.h"

#define RESCAN_SWEEPS 6 /* a full rescan every 6th sweep (30 s) when caught up */

static void page_next(struct delivery *d);
static void rescan(struct delivery *d);

static void retry_later(struct delivery *d)
{
        struct timeval tv = {1, 0};
        evtimer_add(d->retry_ev, &tv);
}

static bool lane_open(struct delivery *d, const struct store_outbox_row *row)
{
        struct lane *l = lane_find(d, row->destination, row->lane ? row->lane : "", false);
        return l == NULL || l->blocked_by == 0;
}

/* Move buffered rows with id <= limit into memory (unless known or blocked). */
static void take_later(struct delivery *d, int64_t limit)
{
        size_t keep = 0;
        for (size_t i = 0; i < d->n_later; i++) {
                struct store_outbox_row *row = &d->later[i];
                if (row->id > limit)
                        d->later[keep++] = *row;
                else if (msg_find(d, row->id) == NULL && lane_open(d, row))
                        msg_add(d, row);
                else
                        store_outbox_row_clear(row);
        }
        d->n_later = keep;
}

static void on_page(void *arg, struct store_outbox_row *rows, size_t n, const char *error)
{
        struct delivery *d = arg;
        d->paging = false;
        d->store_pending--;
        if (error) {
                log_warn("delivery.page_failed", "error=\"%s\"", error);
                retry_later(d);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                if (!d->shutting_down && msg_find(d, rows[i].id) == NULL && lane_open(d, &rows[i]))
                        msg_add(d, &rows[i]);
                else
                        store_outbox_row_clear(&rows[i]);
        }
        if (n > 0)
                d->cursor = rows[n - 1].id;
        free(rows);
        if (d->shutting_down) {
                delivery_maybe_finished(d);
                return;
        }
        bool last = n < DELIVERY_PAGE;
        /* submitted rows this page covers (or, on the last page, all): a
         * row committed after the page's snapshot is only known from here.
         * Always right after the page's own rows, so a buffered copy of a
         * row the page brought is dropped now, before that row can be
         * delivered and forgotten (it would come back as new). */
        take_later(d, last ? INT64_MAX : d->cursor);
        if (d->rescan_wanted) {
                rescan(d);
                return;
        }
        if (d->dropped_min <= d->cursor || (last && d->dropped_min != INT64_MAX)) {
                /* the buffer overflowed: read again from the first dropped row */
                if (d->dropped_min - 1 < d->cursor)
                        d->cursor = d->dropped_min - 1;
                d->dropped_min = INT64_MAX;
                page_next(d);
                return;
        }
        if (last) {
                d->caught_up = true;
                log_debug("delivery.caught_up", "rows=%zu", d->n_rows);
                return;
        }
        if (d->n_rows < DELIVERY_MAX_ROWS)
                page_next(d);
}

static void page_next(struct delivery *d)
{
        if (d->paging || d->shutting_down)
                return;
        d->paging = true;
        if (store_outbox_load_pending(d->store, d->cursor, DELIVERY_PAGE, on_page, d) != 0) {
                d->paging = false;
                retry_later(d);
                return;
        }
        d->store_pending++;
}

static void on_blocked(void *arg, struct store_blocked_lane *lanes, size_t n, const char *error)
{
        struct delivery *d = arg;
        d->paging = false;
        d->store_pending--;
        if (error || d->shutting_down) {
                if (error)
                        log_warn("delivery.blocked_lanes_failed", "error=\"%s\"", error);
                store_blocked_lanes_free(lanes, n);
                if (d->shutting_down) {
                        delivery_maybe_finished(d);
                        return;
                }
                d->rescan_wanted = true;
                retry_later(d);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                struct lane *l = lane_find(d, lanes[i].destination, lanes[i].lane, true);
                if (l) {
                        l->blocked_by = 0;
                        lane_block(d, l, lanes[i].first_id, lanes[i].held);
                }
        }
        store_blocked_lanes_free(lanes, n);
        /* lanes no longer blocked in PostgreSQL open again */
        for (size_t b = 0; b < LANE_BUCKETS; b++)
                for (struct lane *l = d->lanes[b], *next; l; l = next) {
                        next = l->map_next;
                        /* (a lane blocked in memory after the query went
                         * out has a newer mark: its outcome is not
                         * committed yet, so keep it blocked) */
                        if (l->blocked_by != 0 && l->mark < d->scan_gen) {
                                l->blocked_by = 0;
                                lane_update(d, l);
                        }
                }
        d->cursor = 0;
        d->caught_up = false;
        page_next(d);
}

/* Re-read blocked lanes, then page every pending row from the start (rows
 * already in memory are skipped). */
static void rescan(struct delivery *d)
{
        if (d->shutting_down)
                return;
        if (d->paging) {
                d->rescan_wanted = true;
                return;
        }
        d->rescan_wanted = false;
        d->paging = true;
        d->scan_gen = ++d->generation;
        if (store_outbox_blocked_lanes(d->store, on_blocked, d) != 0) {
                d->paging = false;
                d->rescan_wanted = true;
                retry_later(d);
                return;
        }
        d->store_pending++;
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
        struct delivery *d = arg;
        log_debug("delivery.notify", "payload=\"%s\"", payload ? payload : "");
        if (d->resumed && !d->shutting_down)
                rescan(d);
}

void delivery_resume(struct delivery *d)
{
        if (d->shutting_down)
                return;
        if (!d->resumed) {
                d->resumed = true;
                store_outbox_listen(d->store, on_notify, d);
        }
        rescan(d);
}

void delivery_after_commit(struct delivery *d)
{
        if (!d->caught_up && !d->paging && d->resumed && d->n_rows < DELIVERY_LOW_WATER)
                page_next(d);
        if (d->shutting_down)
                delivery_maybe_finished(d);
}

/* ---- submit ---- */

/* A submitted row above the paging horizon waits in a small buffer until the
 * pages reach it; without it, a row committed after the last page's snapshot
 * would wait for the next rescan. Beyond the buffer's size rows are dropped
 * and the range is paged again. Takes the row (moved). */
static void keep_for_later(struct delivery *d, struct store_outbox_row *row)
{
        if (d->n_later == DELIVERY_LATER_MAX) {
                if (row->id < d->dropped_min)
                        d->dropped_min = row->id;
                store_outbox_row_clear(row);
                return;
        }
        d->later[d->n_later++] = *row;
        memset(row, 0, sizeof(*row));
}

static void submit_one(struct delivery *d, const struct store_outbox_row *src)
{
        if (msg_find(d, src->id) != NULL)
                return;
        const char *lane_key = src->lane ? src->lane : "";
        bool held = src->state && strcmp(src->state, "held") == 0;
        struct lane *l = lane_find(d, src->destination, lane_key, held);
        if (held) {
                if (l)
                        lane_block(d, l, src->id, true);
                return;
        }
        if (l && l->blocked_by != 0) {
                /* behind a failure it waits for a replay (NOTIFY); a pending
                 * row in a held lane is a release: let PostgreSQL say what
                 * is open now */
                if (l->held)
                        rescan(d);
                return;
        }
        if (d->resumed && d->caught_up && d->n_rows >= DELIVERY_MAX_ROWS) {
                /* memory is full: from here on, page */
                d->caught_up = false;
                d->cursor = d->max_known;
        }
        struct store_outbox_row row;
        if (store_outbox_row_copy(&row, src) != 0)
                return; /* stays pending: a rescan finds it */
        free(row.lane);
        free(row.state);
        row.lane = strdup(lane_key);
        row.state = strdup("pending");
        if (row.destination == NULL || row.lane == NULL || row.state == NULL) {
                store_outbox_row_clear(&row);
                return;
        }
        if (d->resumed && (d->caught_up || src->id <= d->cursor))
                msg_add(d, &row);
        else
                keep_for_later(d, &row); /* above the paging horizon */
}

void delivery_submit(struct delivery *d, const struct store_outbox_row *rows, size_t n)
{
        if (d->shutting_down)
                return;
        for (size_t i = 0; i < n; i++)
                if (rows[i].destination && dest_find(d, rows[i].destination))
                        submit_one(d, &rows[i]);
}

void paging_rescan(struct delivery *d)
{
        rescan(d);
}

void paging_retry(struct delivery *d)
{
        if (d->resumed && !d->paging && !d->shutting_down && (d->rescan_wanted || !d->caught_up))
                d->rescan_wanted ? rescan(d) : page_next(d);
}

void paging_sweep(struct delivery *d)
{
        if (d->resumed && !d->shutting_down && d->caught_up && ++d->generation % RESCAN_SWEEPS == 0)
                rescan(d);
}
