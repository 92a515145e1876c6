/* args.c — takt-sim's command line: defaults that match conf/taktd.yaml
 * (taktd on 127.0.0.1:8470, ERP "s4" in the sap-s4 dialect, plant DE01's MES
 * "mes-de01" in the canonical dialect, destinations served on
 * 127.0.0.1:8471), then the options in order. Plant options after a
 * --plant apply to that plant. Pure: no I/O except sim_usage(). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

void sim_copy(char *dst, size_t len, const char *src)
{
        snprintf(dst, len, "%s", src ? src : "");
}

bool sim_parse_duration(const char *s, int64_t *ms)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno != 0 || !isfinite(v) || v < 0)
                return false;
        static const struct {
                const char *unit;
                double ms;
        } units[] = {{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcmp(end, units[i].unit) == 0) {
                        double r = v * units[i].ms;
                        if (r > 1e12)
                                return false;
                        *ms = (int64_t)llround(r);
                        return true;
                }
        }
        return false;
}

static bool parse_port(const char *s, int *port)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || (*end != '\0' && *end != '/') || v < 1 || v > 65535)
                return false;
        *port = (int)v;
        return true;
}

bool sim_parse_hostport(const char *s, char *host, size_t hostlen, int *port)
{
        const char *colon = strrchr(s, ':');
        if (colon == NULL || colon == s || (size_t)(colon - s) >= hostlen)
                return false;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        return parse_port(colon + 1, port);
}

bool sim_parse_url(const char *s, char *host, size_t hostlen, int *port)
{
        static const char scheme[] = "http://";
        if (strncmp(s, scheme, sizeof(scheme) - 1) != 0)
                return false;
        s += sizeof(scheme) - 1;
        const char *slash = strchr(s, '/');
        if (slash != NULL && strcmp(slash, "/") != 0)
                return false;
        const char *colon = strchr(s, ':');
        if (colon == NULL) {
                size_t n = slash ? (size_t)(slash - s) : strlen(s);
                if (n == 0 || n >= hostlen)
                        return false;
                memcpy(host, s, n);
                host[n] = '\0';
                *port = 80;
                return true;
        }
        return sim_parse_hostport(s, host, hostlen, port);
}

static bool parse_fraction(const char *s, double *out)
{
        char *end;
        double v = strtod(s, &end);
        if (end == s || *end != '\0' || !(v >= 0 && v <= 1))
                return false;
        *out = v;
        return true;
}

/* Defaults for a plant's MES named after conf/taktd.yaml: "mes-de01",
 * TAKT_TOKEN_MES_DE01, canonical, completion per operation. */
static void plant_defaults(struct sim_plant_opts *p, const char *code)
{
        char lower[16], upper[16];
        size_t n = strnlen(code, sizeof(lower) - 1);
        for (size_t i = 0; i < n; i++) {
                lower[i] = (char)tolower((unsigned char)code[i]);
                upper[i] = (char)toupper((unsigned char)code[i]);
        }
        lower[n] = upper[n] = '\0';
        memset(p, 0, sizeof(*p));
        sim_copy(p->code, sizeof(p->code), code);
        snprintf(p->mes_source, sizeof(p->mes_source), "mes-%s", lower);
        snprintf(p->token_env, sizeof(p->token_env), "TAKT_TOKEN_MES_%s", upper);
        sim_copy(p->mes_dialect, sizeof(p->mes_dialect), "canonical");
        p->completion = SIM_COMPLETION_OPERATION;
        p->scrap = SIM_SCRAP_EMBEDDED;
}

static void defaults(struct sim_opts *o)
{
        memset(o, 0, sizeof(*o));
        sim_copy(o->taktd_host, sizeof(o->taktd_host), "127.0.0.1");
        o->taktd_port = 8470;
        sim_copy(o->listen_addr, sizeof(o->listen_addr), "127.0.0.1");
        o->listen_port = 8471;
        sim_copy(o->erp_source, sizeof(o->erp_source), "s4");
        sim_copy(o->erp_dialect, sizeof(o->erp_dialect), "sap-s4");
        sim_copy(o->erp_token_env, sizeof(o->erp_token_env), "TAKT_TOKEN_S4");
        sim_copy(o->admin_token_env, sizeof(o->admin_token_env), "TAKT_ADMIN_TOKEN");
        o->rate = 2;
        o->duration_ms = 60000;
        o->drain_ms = 30000;
        o->delay_min_ms = 100;
        o->delay_max_ms = 600;
        o->hold_ms = 2000;
        o->timeout_hold_ms = 12000;
        o->replay_every_ms = 3000;
        o->fault_rate = 0.05;
        o->hold_rate = 0.1;
        o->scrap_rate = 0.02;
        o->seed = 0; /* 0: from the clock, in main */
}

void sim_usage(FILE *f)
{
        fputs("usage: takt-sim [options]   (plays an ERP and plant MESs against taktd)\n"
              "  --taktd URL              taktd's API (http://127.0.0.1:8470)\n"
              "  --listen ADDR:PORT       serve the MES/ERP destinations here (127.0.0.1:8471)\n"
              "  --erp-source NAME        ERP source and destination name (s4)\n"
              "  --erp-destination NAME   ERP destination if not the source name\n"
              "  --erp-dialect D          canonical | sap-s4 (sap-s4)\n"
              "  --erp-token-env VAR      bearer token variable (TAKT_TOKEN_S4)\n"
              "  --erp-hmac-env VAR       sign with X-Takt-Signature instead\n"
              "  --admin-token-env VAR    admin token for replays (TAKT_ADMIN_TOKEN)\n"
              "  --plant CODE             add a plant (default DE01); options below apply to it\n"
              "    --mes-source NAME      its MES source (mes-<code>)\n"
              "    --mes-destination NAME its MES destination (= source)\n"
              "    --mes-dialect D        canonical | legacy-mes (canonical)\n"
              "    --mes-token-env VAR    (TAKT_TOKEN_MES_<CODE>)\n"
              "    --mes-hmac-env VAR     sign with X-Takt-Signature instead\n"
              "    --completion M         operation | order (operation)\n"
              "    --scrap M              embedded | separate (embedded)\n"
              "  --rate N                 work orders released per second (2)\n"
              "  --duration D             release for D, 0 = until Ctrl-C (60s)\n"
              "  --drain D                then wait up to D for open orders (30s)\n"
              "  --delay MIN[-MAX]        MES delay between steps (100ms-600ms)\n"
              "  --hold-time D            how long a quality hold lasts (2s)\n"
              "  --fault-rate F           share of deliveries answered 5xx/timeout/400 (0.05)\n"
              "  --timeout-hold D         a timeout fault answers after D (12s)\n"
              "  --hold-rate F            share of orders that get a quality hold (0.1)\n"
              "  --scrap-rate F           scrap share per operation, at most (0.02)\n"
              "  --replay-every D         replay failed messages every D, 0 = never (3s)\n"
              "  --seed N                 random seed (from the clock)\n"
              "  --check                  exit 1 unless ERP totals = MES totals and none open\n"
              "  --json                   print the report as JSON\n"
              "  --quiet                  no progress line\n"
              "  --help\n",
              f);
}

static enum sim_args_result fail(char *err, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum sim_args_result fail(char *err, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, len, fmt, ap);
        va_end(ap);
        return SIM_ARGS_ERROR;
}

static bool parse_delay(const char *s, struct sim_opts *o)
{
        char a[32];
        const char *dash = strchr(s, '-');
        if (dash == NULL)
                return sim_parse_duration(s, &o->delay_min_ms) &&
                       sim_parse_duration(s, &o->delay_max_ms);
        if ((size_t)(dash - s) >= sizeof(a))
                return false;
        memcpy(a, s, (size_t)(dash - s));
        a[dash - s] = '\0';
        return sim_parse_duration(a, &o->delay_min_ms) &&
               sim_parse_duration(dash + 1, &o->delay_max_ms) && o->delay_min_ms <= o->delay_max_ms;
}

/* Options that take a value. Returns false when `val` is bad. */
static bool apply(struct sim_opts *o, struct sim_plant_opts *p, const char *name, const char *val)
{
#define STR(opt, field)                                                                            \
        if (strcmp(name, opt) == 0) {                                                              \
                if (*val == '\0' || strlen(val) >= sizeof(field))                                  \
                        return false;                                                              \
                sim_copy(field, sizeof(field), val);                                               \
                return true;                                                                       \
        }
#define DUR(opt, field)                                                                            \
        if (strcmp(name, opt) == 0)                                                                \
                return sim_parse_duration(val, &(field));
#define FRAC(opt, field)                                                                           \
        if (strcmp(name, opt) == 0)                                                                \
                return parse_fraction(val, &(field));
        if (strcmp(name, "--taktd") == 0)
                return sim_parse_url(val, o->taktd_host, sizeof(o->taktd_host), &o->taktd_port);
        if (strcmp(name, "--listen") == 0)
                return sim_parse_hostport(val, o->listen_addr, sizeof(o->listen_addr),
                                          &o->listen_port);
        STR("--erp-source", o->erp_source)
        STR("--erp-destination", o->erp_destination)
        STR("--erp-dialect", o->erp_dialect)
        STR("--erp-token-env", o->erp_token_env)
        STR("--erp-hmac-env", o->erp_hmac_env)
        STR("--admin-token-env", o->admin_token_env)
        DUR("--duration", o->duration_ms)
        DUR("--drain", o->drain_ms)
        DUR("--hold-time", o->hold_ms)
        DUR("--timeout-hold", o->timeout_hold_ms)
        DUR("--replay-every", o->replay_every_ms)
        FRAC("--fault-rate", o->fault_rate)
        FRAC("--hold-rate", o->hold_rate)
        FRAC("--scrap-rate", o->scrap_rate)
        if (strcmp(name, "--delay") == 0)
                return parse_delay(val, o);
        if (strcmp(name, "--rate") == 0) {
                char *end;
                o->rate = strtod(val, &end);
                return end != val && *end == '\0' && o->rate > 0 && o->rate <= 1000;
        }
        if (strcmp(name, "--seed") == 0) {
                char *end;
                o->seed = strtoull(val, &end, 10);
                return end != val && *end == '\0';
        }
        STR("--mes-source", p->mes_source)
        STR("--mes-destination", p->mes_destination)
        STR("--mes-dialect", p->mes_dialect)
        STR("--mes-token-env", p->token_env)
        if (strcmp(name, "--mes-hmac-env") == 0) {
                p->token_env[0] = '\0'; /* one credential per source */
                STR("--mes-hmac-env", p->hmac_env)
        }
        if (strcmp(name, "--completion") == 0) {
                bool op = strcmp(val, "operation") == 0;
                p->completion = op ? SIM_COMPLETION_OPERATION : SIM_COMPLETION_ORDER;
                return op || strcmp(val, "order") == 0;
        }
        if (strcmp(name, "--scrap") == 0) {
                bool emb = strcmp(val, "embedded") == 0;
                p->scrap = emb ? SIM_SCRAP_EMBEDDED : SIM_SCRAP_SEPARATE;
                return emb || strcmp(val, "separate") == 0;
        }
#undef STR
#undef DUR
#undef FRAC
        return false;
}

static const char *const value_options[] = {"--taktd",
                                            "--listen",
                                            "--erp-source",
                                            "--erp-destination",
                                            "--erp-dialect",
                                            "--erp-token-env",
                                            "--erp-hmac-env",
                                            "--admin-token-env",
                                            "--plant",
                                            "--mes-source",
                                            "--mes-destination",
                                            "--mes-dialect",
                                            "--mes-token-env",
                                            "--mes-hmac-env",
                                            "--completion",
                                            "--scrap",
                                            "--rate",
                                            "--duration",
                                            "--drain",
                                            "--delay",
                                            "--hold-time",
                                            "--fault-rate",
                                            "--timeout-hold",
                                            "--hold-rate",
                                            "--scrap-rate",
                                            "--replay-every",
                                            "--seed",
                                            NULL};
static const char *const plant_options[] = {
    "--mes-source",   "--mes-destination", "--mes-dialect", "--mes-token-env",
    "--mes-hmac-env", "--completion",      "--scrap",       NULL};

static bool listed(const char *const *list, const char *name)
{
        for (; *list != NULL; list++) {
                if (strcmp(*list, name) == 0)
                        return true;
        }
        return false;
}

/* Checks that need every option: dialects known, names unique. */
static enum sim_args_result finish(struct sim_opts *o, char *err, size_t len)
{
        if (o->nplants == 0)
                plant_defaults(&o->plants[o->nplants++], "DE01");
        if (o->erp_destination[0] == '\0')
                sim_copy(o->erp_destination, sizeof(o->erp_destination), o->erp_source);
        if (sim_erp_codec_find(o->erp_dialect) == NULL)
                return fail(err, len, "--erp-dialect: unknown dialect '%s' (canonical, sap-s4)",
                            o->erp_dialect);
        if (o->erp_hmac_env[0] != '\0')
                o->erp_token_env[0] = '\0';
        for (int i = 0; i < o->nplants; i++) {
                struct sim_plant_opts *p = &o->plants[i];
                if (p->mes_destination[0] == '\0')
                        sim_copy(p->mes_destination, sizeof(p->mes_destination), p->mes_source);
                if (sim_mes_codec_find(p->mes_dialect) == NULL)
                        return fail(err, len,
                                    "--mes-dialect: unknown dialect '%s' for plant %s "
                                    "(canonical, legacy-mes)",
                                    p->mes_dialect, p->code);
                if (strcmp(p->mes_dialect, "legacy-mes") == 0 && p->scrap != SIM_SCRAP_SEPARATE)
                        return fail(err, len,
                                    "plant %s: legacy-mes reports scrap separately "
                                    "(--scrap separate)",
                                    p->code);
                if (strcmp(p->mes_destination, o->erp_destination) == 0)
                        return fail(err, len, "plant %s: MES destination '%s' is the ERP's",
                                    p->code, p->mes_destination);
                for (int j = 0; j < i; j++) {
                        if (strcmp(o->plants[j].code, p->code) == 0 ||
                            strcmp(o->plants[j].mes_destination, p->mes_destination) == 0)
                                return fail(err, len, "plant %s given twice", p->code);
                }
        }
        if (o->duration_ms == 0 && o->check)
                return fail(err, len, "--check needs a --duration above 0");
        return SIM_ARGS_OK;
}

enum sim_args_result sim_args_parse(int argc, char **argv, struct sim_opts *out, char *err,
                                    size_t errlen)
{
        defaults(out);
        err[0] = '\0';
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
                        return SIM_ARGS_HELP;
                if (strcmp(a, "--check") == 0 || strcmp(a, "--json") == 0 ||
                    strcmp(a, "--quiet") == 0) {
                        bool *flag = a[2] == 'c'   ? &out->check
                                     : a[2] == 'j' ? &out->json
                                                   : &out->quiet;
                        *flag = true;
                        continue;
                }
                if (!listed(value_options, a))
                        return fail(err, errlen, "unknown option '%s'", a);
                if (i + 1 >= argc)
                        return fail(err, errlen, "%s needs a value", a);
                const char *val = argv[++i];
                if (strcmp(a, "--plant") == 0) {
                        if (out->nplants == SIM_MAX_PLANTS || *val == '\0' || strlen(val) > 15)
                                return fail(err, errlen, "--plant '%s': bad code or too many", val);
                        plant_defaults(&out->plants[out->nplants++], val);
                        continue;
                }
                if (listed(plant_options, a) && out->nplants == 0)
                        return fail(err, errlen, "%s needs a --plant before it", a);
                struct sim_plant_opts *p = out->nplants ? &out->plants[out->nplants - 1] : NULL;
                if (!apply(out, p, a, val))
                        return fail(err, errlen, "%s: bad value '%s'", a, val);
        }
        return finish(out, err, errlen);
}
