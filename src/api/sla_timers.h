/* sla_timers.h — one libevent timer per work order with an open SLA
 * deadline, indexed by "plant/work_order" (a tsearch tree). When a deadline
 * comes due the owner is told; it runs the orchestrator's SLA check in a
 * transaction (idempotent: a breach is reported once). */
#ifndef TAKT_SLA_TIMERS_H
#define TAKT_SLA_TIMERS_H

#include <stdint.h>

struct event_base;
struct store;
struct sla_timers;

typedef void (*sla_due_cb)(void *arg, const char *plant, const char *work_order);

struct sla_timers *sla_timers_new(struct event_base *base, sla_due_cb due, void *arg);
/* Arm (or move) the order's timer; deadline_ms == 0 disarms it. A deadline
 * already past fires on the next loop turn. */
void sla_timers_arm(struct sla_timers *t, const char *plant, const char *work_order,
                    int64_t deadline_ms);
/* Arm every open deadline stored in PostgreSQL (after start or reconnect). */
void sla_timers_resume(struct sla_timers *t, struct store *store);
void sla_timers_free(struct sla_timers *t);

#endif
