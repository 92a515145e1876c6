/* mailbox.h — hands work from any thread to one event loop's thread.
 *
 * takt runs two loops: the main loop (HTTP, ingest, orchestration) and the
 * delivery loop (include/takt/delivery_worker.h). They share no mutable
 * state; they send each other messages through a mailbox: a FIFO of
 * (function, argument) under a mutex and an eventfd the receiving loop
 * watches. A posted function runs on the receiving loop, in posting order.
 * The argument is the message: the receiver owns it from the moment it runs
 * (or, for what is never run, the discard function does). */
#ifndef TAKT_MAILBOX_H
#define TAKT_MAILBOX_H

struct event_base;
struct mailbox;

typedef void (*mailbox_fn)(void *arg);

/* Create on the thread that runs base, before other threads post to it.
 * NULL when out of memory or out of file descriptors. */
struct mailbox *mailbox_new(struct event_base *base);
/* From any thread. run(arg) runs on the mailbox's loop; discard(arg) (may be
 * NULL) runs instead when the mailbox is freed first. Returns -1 (nothing
 * queued, arg still the caller's) only when out of memory. */
int mailbox_post(struct mailbox *mb, mailbox_fn run, mailbox_fn discard, void *arg);
/* On the mailbox's loop thread, once no other thread posts any more:
 * discards what was never run. */
void mailbox_free(struct mailbox *mb);

#endif
