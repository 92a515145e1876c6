/* sim.h — takt-sim's pure half: options, the work-order model the simulated
 * ERP and MES exchange, the MES's plan for one order, the dialect codecs,
 * the totals and the report. Nothing declared here does I/O or touches the
 * event loop, so all of it is unit-tested (tests/sim/). The evented half
 * (HTTP server and client, timers) is in runtime.h. */
#ifndef TAKT_SIM_H
#define TAKT_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#define SIM_MAX_PLANTS 8
#define SIM_MAX_OPS    6
#define SIM_MAX_COMPS  3
#define SIM_MAX_EVENTS 40
#define SIM_NAME       64

/* ---- options (args.c) ------------------------------------------------- */

enum sim_completion { SIM_COMPLETION_OPERATION, SIM_COMPLETION_ORDER };
enum sim_scrap { SIM_SCRAP_EMBEDDED, SIM_SCRAP_SEPARATE };

/* One plant's MES: which source it posts as, which destination takt
 * delivers its releases to (the first path segment on --listen), its
 * dialect and credential, and how the plant is configured in taktd. */
struct sim_plant_opts {
        char code[16];
        char mes_source[SIM_NAME];
        char mes_destination[SIM_NAME];
        char mes_dialect[32];     /* canonical | legacy-mes */
        char token_env[SIM_NAME]; /* bearer token variable, or "" */
        char hmac_env[SIM_NAME];  /* X-Takt-Signature secret variable, or "" */
        enum sim_completion completion;
        enum sim_scrap scrap;
};

struct sim_opts {
        char taktd_host[128];
        int taktd_port;
        char listen_addr[64];
        int listen_port;
        char erp_source[SIM_NAME];
        char erp_destination[SIM_NAME];
        char erp_dialect[32]; /* canonical | sap-s4 */
        char erp_token_env[SIM_NAME];
        char erp_hmac_env[SIM_NAME];
        char admin_token_env[SIM_NAME];
        double rate;                        /* work orders released per second, all plants */
        int64_t duration_ms;                /* releasing; 0 = until SIGINT */
        int64_t drain_ms;                   /* after releasing: wait this long for open orders */
        int64_t delay_min_ms, delay_max_ms; /* between two MES steps */
        int64_t hold_ms;                    /* a quality hold lasts this long */
        int64_t timeout_hold_ms;            /* a "timeout" fault answers this late */
        int64_t replay_every_ms;            /* poll for failed messages; 0 = never */
        double fault_rate, hold_rate, scrap_rate;
        uint64_t seed;
        bool check, json, quiet;
        int nplants;
        struct sim_plant_opts plants[SIM_MAX_PLANTS];
};

enum sim_args_result { SIM_ARGS_OK, SIM_ARGS_HELP, SIM_ARGS_ERROR };

/* Fills *out from argv (defaults first: conf/taktd.yaml's demo setup).
 * On SIM_ARGS_ERROR, err holds one line naming the bad option. */
enum sim_args_result sim_args_parse(int argc, char **argv, struct sim_opts *out, char *err,
                                    size_t errlen);
void sim_usage(FILE *f);
/* "250ms", "60s", "2m", "1h", "1.5s", bare "10" (seconds) -> ms. */
bool sim_parse_duration(const char *s, int64_t *ms);
/* "http://host:port[/]" -> host, port. */
bool sim_parse_url(const char *s, char *host, size_t hostlen, int *port);
/* "addr:port" -> addr, port. */
bool sim_parse_hostport(const char *s, char *host, size_t hostlen, int *port);

/* ---- random numbers (rng.c): xorshift64*, state owned by the caller --- */

struct sim_rng {
        uint64_t s;
};
void sim_rng_seed(struct sim_rng *r, uint64_t seed);
uint64_t sim_rng_next(struct sim_rng *r);
double sim_rng_unit(struct sim_rng *r);                           /* [0, 1) */
int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi); /* [lo, hi] */

/* ---- the work order (what ERP releases and MES receives) -------------- */

struct sim_qty {
        double value;
        char uom[8]; /* canonical unit code */
};
struct sim_operation {
        char operation[16];
        char work_center[32];
        char description[32];
};
struct sim_component {
        char material[32];
        struct sim_qty qty;
        char operation[16];
};
struct sim_order_spec {
        char plant[16];
        char work_order[32];
        char material[32];
        struct sim_qty qty;
        int64_t released_ms; /* the ERP's change time; revision derives from it */
        int64_t planned_start_ms, planned_end_ms;
        int nops;
        struct sim_operation ops[SIM_MAX_OPS];
        int ncomps;
        struct sim_component comps[SIM_MAX_COMPS];
};

/* A new order for plant `plant` numbered `work_order`, from the generator. */
void sim_order_generate(struct sim_rng *r, const char *plant, const char *work_order,
                        int64_t now_ms, struct sim_order_spec *out);

/* ---- the MES's plan for one order (plan.c) ----------------------------- */

enum sim_ev_kind {
        SIM_EV_ACK,
        SIM_EV_START,
        SIM_EV_CONFIRM, /* yield + scrap (scrap separate: two messages) */
        SIM_EV_CONSUME,
        SIM_EV_HOLD,
        SIM_EV_UNHOLD,
        SIM_EV_COMPLETE /* sent for completion: order, only counted otherwise */
};
struct sim_event {
        enum sim_ev_kind kind;
        int op;   /* index into spec.ops, or -1 */
        int comp; /* index into spec.comps for SIM_EV_CONSUME, or -1 */
        double yield, scrap;
        bool final;
        int64_t delay_ms; /* wait before this step */
};
struct sim_plan_params {
        enum sim_completion completion;
        enum sim_scrap scrap;
        double hold_rate, scrap_rate;
        int64_t delay_min_ms, delay_max_ms, hold_ms;
};
/* Fills ev[] (SIM_MAX_EVENTS) with the MES's answer to `o`; returns the count. */
int sim_plan_build(struct sim_rng *r, const struct sim_order_spec *o,
                   const struct sim_plan_params *p, struct sim_event *ev);
const char *sim_ev_type(const struct sim_event *ev); /* canonical type */

/* ---- postings and totals (totals.c) ------------------------------------ */

enum sim_posting_kind { SIM_POST_CONFIRM, SIM_POST_CONSUME, SIM_POST_COMPLETE, SIM_POST_OTHER };
struct sim_posting {
        enum sim_posting_kind kind;
        char plant[16];
        char work_order[32];
        double yield, scrap, qty;
};
/* What the ERP must end up with, and what it got (sums over postings). */
struct sim_totals {
        long confirmations;
        double yield, scrap;
        long consumptions;
        double consumed;
        long completions;
        double completed_yield;
};
void sim_totals_add(struct sim_totals *t, const struct sim_posting *p);
bool sim_totals_equal(const struct sim_totals *a, const struct sim_totals *b);
/* The posting(s) the ERP must receive for one accepted MES event. */
bool sim_event_posting(const struct sim_order_spec *o, const struct sim_event *ev,
                       struct sim_posting *out);
enum sim_posting_kind sim_posting_kind_of(const char *canonical_type);

/* ---- dialect codecs (codec*.c) ----------------------------------------- */

/* The ERP side: encode a release for ingest; decode what takt posts. */
struct sim_erp_codec {
        const char *name;
        json_t *(*encode_release)(const struct sim_order_spec *o); /* new reference */
        bool (*decode_posting)(const char *type, const json_t *body, struct sim_posting *out);
};
/* The MES side: decode a delivered release; encode the MES's messages. */
struct sim_mes_codec {
        const char *name;
        bool (*decode_release)(const json_t *body, struct sim_order_spec *out);
        /* new reference; msg_id unique per message; now_ms the event time */
        json_t *(*encode_event)(const struct sim_order_spec *o, const struct sim_event *ev,
                                const char *msg_id, int64_t now_ms);
};
const struct sim_erp_codec *sim_erp_codec_find(const char *name);
const struct sim_mes_codec *sim_mes_codec_find(const char *name);
extern const struct sim_erp_codec sim_erp_canonical, sim_erp_sap_s4;
extern const struct sim_mes_codec sim_mes_canonical, sim_mes_legacy;

/* Time formats (codec.c). buf >= 32 bytes. */
enum sim_timefmt {
        SIM_T_RFC3339,
        SIM_T_ODATA_DATE,
        SIM_T_EDM_TIME,
        SIM_T_YMD,
        SIM_T_HMS,
        SIM_T_YMDHMS
};
const char *sim_time_format(int64_t ms, enum sim_timefmt f, char *buf, size_t len);
/* Shared codec helpers. */
double sim_json_number(const json_t *v); /* number or numeric string; NAN otherwise */
const char *sim_json_str(const json_t *obj, const char *key); /* "" when absent */
void sim_copy(char *dst, size_t len, const char *src);
const char *sim_uom_map(const char *const (*map)[2], const char *code); /* unmapped: as is */

/* ---- statistics and the report (report.c) ------------------------------ */

struct sim_stats {
        double elapsed_s;
        long released, release_rejected;
        long closed, open;
        long mes_sent, mes_accepted, mes_rejected;
        long deliveries, duplicates;
        long foreign; /* ERP postings for orders this run does not know (an earlier run's) */
        long releases_unanswered; /* releases takt has not answered (yet) */
        long fault_5xx, fault_timeout, fault_400;
        long replayed;
        double sla_breaches; /* delta of takt_sla_breaches_total; <0 unknown */
        int nplants;
        char plants[SIM_MAX_PLANTS][16];
        struct sim_totals mes[SIM_MAX_PLANTS], erp[SIM_MAX_PLANTS];
        char open_sample[256]; /* a few open order numbers */
};
/* Orders were released, takt refused nothing, every order closed and the
 * ERP's totals equal the MES's. */
bool sim_stats_ok(const struct sim_stats *s);
json_t *sim_report_json(const struct sim_stats *s); /* new reference */
void sim_report_print(FILE *f, const struct sim_stats *s);
/* One progress line without newline. */
void sim_progress_format(char *buf, size_t len, const struct sim_stats *s, const char *phase);
/* Sum of the samples of `metric` in a Prometheus text body; -1 when absent. */
double sim_metric_sum(const char *text, size_t len, const char *metric);

#endif
