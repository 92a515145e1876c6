/* loadgen_msg.h — the load generator's message bodies: canonical
 * work_order.released envelopes of about 600 bytes, each with a unique id and
 * work order number (run prefix + sequence number). */
#ifndef TAKT_LOADGEN_MSG_H
#define TAKT_LOADGEN_MSG_H

#include <stddef.h>
#include <stdint.h>

/* Writes message number seq of run prefix into buf (NUL-terminated) and
 * returns its length, or 0 when buf is too small (1024 bytes always do). */
size_t loadgen_msg_render(char *buf, size_t size, const char *prefix, const char *plant,
                          uint64_t seq);

#endif
