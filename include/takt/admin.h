/* admin.h — the operator's endpoints (contract §4): work orders, messages,
 * replay, trace (admin token), and /metrics, /healthz, /readyz. */
#ifndef TAKT_ADMIN_H
#define TAKT_ADMIN_H

#include "takt/config.h"

struct http_server;
struct metrics;
struct store;
struct admin;

/* cfg is borrowed and must outlive the next admin_configure()/admin_free(). */
struct admin *admin_new(struct store *store, struct metrics *metrics,
                        const struct takt_config *cfg);
void admin_configure(struct admin *a, const struct takt_config *cfg);
void admin_register(struct admin *a, struct http_server *http);
void admin_free(struct admin *a);

#endif
