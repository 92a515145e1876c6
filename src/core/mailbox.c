/* mailbox.c — a FIFO of (function, argument) posted from any thread and run
 * on one event loop (see takt/mailbox.h). The queue is a singly linked list
 * under a mutex; an eventfd wakes the loop when the queue turns non-empty.
 * The loop takes the whole list at once and runs it outside the lock, so a
 * posted function may post again (to this or any mailbox) without deadlock. */
#include "takt/mailbox.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

struct letter {
        struct letter *next;
        mailbox_fn run;
        mailbox_fn discard;
        void *arg;
};

struct mailbox {
        pthread_mutex_t lock;
        struct letter *head; /* owned list, under lock */
        struct letter **tail;
        int fd;           /* eventfd: readable while letters wait */
        struct event *ev; /* owned */
};

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
        struct mailbox *mb = arg;
        uint64_t n;
        while (read(mb->fd, &n, sizeof(n)) < 0 && errno == EINTR)
                ;
        pthread_mutex_lock(&mb->lock);
        struct letter *l = mb->head;
        mb->head = NULL;
        mb->tail = &mb->head;
        pthread_mutex_unlock(&mb->lock);
        while (l) {
                struct letter *next = l->next;
                l->run(l->arg);
                free(l);
                l = next;
        }
}

struct mailbox *mailbox_new(struct event_base *base)
{
        struct mailbox *mb = calloc(1, sizeof(*mb));
        if (!mb)
                return NULL;
        mb->tail = &mb->head;
        mb->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (mb->fd < 0) {
                free(mb);
                return NULL;
        }
        mb->ev = event_new(base, mb->fd, EV_READ | EV_PERSIST, on_readable, mb);
        if (!mb->ev || event_add(mb->ev, NULL) != 0 || pthread_mutex_init(&mb->lock, NULL) != 0) {
                if (mb->ev)
                        event_free(mb->ev);
                close(mb->fd);
                free(mb);
                return NULL;
        }
        return mb;
}

int mailbox_post(struct mailbox *mb, mailbox_fn run, mailbox_fn discard, void *arg)
{
        struct letter *l = malloc(sizeof(*l));
        if (!l)
                return -1;
        *l = (struct letter){NULL, run, discard, arg};
        pthread_mutex_lock(&mb->lock);
        bool was_empty = mb->head == NULL;
        *mb->tail = l;
        mb->tail = &l->next;
        pthread_mutex_unlock(&mb->lock);
        if (was_empty) {
                uint64_t one = 1;
                while (write(mb->fd, &one, sizeof(one)) < 0 && errno == EINTR)
                        ;
        }
        return 0;
}

void mailbox_free(struct mailbox *mb)
{
        if (!mb)
                return;
        event_free(mb->ev);
        close(mb->fd);
        struct letter *l = mb->head;
        while (l) {
                struct letter *next = l->next;
                if (l->discard)
                        l->discard(l->arg);
                free(l);
                l = next;
        }
        pthread_mutex_destroy(&mb->lock);
        free(mb);
}
