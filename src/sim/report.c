/* report.c — what takt-sim tells its user: the progress line while it runs
 * and the report at the end (text or JSON), the verdict of --check, and the
 * reading of a /metrics body (SLA breaches). Pure: the caller prints. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

bool sim_stats_ok(const struct sim_stats *s)
{
        if (s->released == 0 || s->open != 0 || s->releases_unanswered != 0 ||
            s->release_rejected != 0 || s->mes_rejected != 0)
                return false;
        for (int i = 0; i < s->nplants; i++) {
                if (!sim_totals_equal(&s->mes[i], &s->erp[i]))
                        return false;
        }
        return true;
}

static json_t *totals_json(const struct sim_totals *t)
{
        return json_pack("{s:I,s:f,s:f,s:I,s:f,s:I,s:f}", "confirmations",
                         (json_int_t)t->confirmations, "yield", t->yield, "scrap", t->scrap,
                         "consumptions", (json_int_t)t->consumptions, "consumed", t->consumed,
                         "completions", (json_int_t)t->completions, "completed_yield",
                         t->completed_yield);
}

json_t *sim_report_json(const struct sim_stats *s)
{
        json_t *plants = json_object();
        for (int i = 0; i < s->nplants; i++)
                json_object_set_new(plants, s->plants[i],
                                    json_pack("{s:o,s:o,s:b}", "mes", totals_json(&s->mes[i]),
                                              "erp", totals_json(&s->erp[i]), "equal",
                                              sim_totals_equal(&s->mes[i], &s->erp[i])));
        return json_pack(
            "{s:f,s:I,s:I,s:I,s:I,s:s,s:{s:I,s:I,s:I},s:{s:I,s:I},s:{s:I,s:I,s:I},s:I,s:o,s:o,"
            "s:b,s:I,s:I}",
            "elapsed_seconds", s->elapsed_s, "released", (json_int_t)s->released,
            "release_rejected", (json_int_t)s->release_rejected, "closed", (json_int_t)s->closed,
            "open", (json_int_t)s->open, "open_sample", s->open_sample, "mes_messages", "sent",
            (json_int_t)s->mes_sent, "accepted", (json_int_t)s->mes_accepted, "rejected",
            (json_int_t)s->mes_rejected, "deliveries", "received", (json_int_t)s->deliveries,
            "duplicates", (json_int_t)s->duplicates, "faults", "5xx", (json_int_t)s->fault_5xx,
            "timeout", (json_int_t)s->fault_timeout, "400", (json_int_t)s->fault_400, "replayed",
            (json_int_t)s->replayed, "sla_breaches",
            s->sla_breaches < 0 ? json_null() : json_real(s->sla_breaches), "plants", plants, "ok",
            sim_stats_ok(s), "foreign_postings", (json_int_t)s->foreign, "releases_unanswered",
            (json_int_t)s->releases_unanswered);
}

static void totals_row(FILE *f, const char *name, double mes, double erp)
{
        fprintf(f, "    %-16s %12.10g %12.10g  %s\n", name, mes, erp,
                fabs(mes - erp) <= 1e-6 * fmax(1, fabs(mes)) ? "ok" : "MISMATCH");
}

void sim_report_print(FILE *f, const struct sim_stats *s)
{
        fprintf(f, "takt-sim report after %.1f s\n", s->elapsed_s);
        fprintf(f, "  work orders released   %ld (refused by takt: %ld)\n", s->released,
                s->release_rejected);
        fprintf(f, "  closed (completion at ERP) %ld\n", s->closed);
        fprintf(f, "  still open             %ld%s%s\n", s->open, s->open ? ": " : "",
                s->open_sample);
        fprintf(f, "  MES messages           %ld sent, %ld accepted, %ld refused\n", s->mes_sent,
                s->mes_accepted, s->mes_rejected);
        fprintf(f, "  deliveries received    %ld (%ld duplicates by Idempotency-Key)\n",
                s->deliveries, s->duplicates);
        if (s->foreign > 0)
                fprintf(f,
                        "  not counted            %ld ERP postings for orders of an earlier run\n",
                        s->foreign);
        if (s->releases_unanswered > 0)
                fprintf(f, "  releases unanswered    %ld (taktd unreachable?)\n",
                        s->releases_unanswered);
        fprintf(f, "  faults injected        %ld 5xx, %ld timeouts, %ld 400 rejections\n",
                s->fault_5xx, s->fault_timeout, s->fault_400);
        fprintf(f, "  failed messages replayed %ld\n", s->replayed);
        if (s->sla_breaches < 0)
                fprintf(f, "  SLA breaches seen      unknown (no /metrics)\n");
        else
                fprintf(f, "  SLA breaches seen      %.0f\n", s->sla_breaches);
        for (int i = 0; i < s->nplants; i++) {
                const struct sim_totals *m = &s->mes[i], *e = &s->erp[i];
                fprintf(f, "  plant %-6s               MES totals   ERP totals\n", s->plants[i]);
                totals_row(f, "confirmations", (double)m->confirmations, (double)e->confirmations);
                totals_row(f, "yield", m->yield, e->yield);
                totals_row(f, "scrap", m->scrap, e->scrap);
                totals_row(f, "consumptions", (double)m->consumptions, (double)e->consumptions);
                totals_row(f, "consumed", m->consumed, e->consumed);
                totals_row(f, "completions", (double)m->completions, (double)e->completions);
                totals_row(f, "completed yield", m->completed_yield, e->completed_yield);
        }
        fprintf(f, "  result: %s\n",
                sim_stats_ok(s) ? "OK (ERP totals = MES totals, nothing open)"
                                : "NOT OK (nothing released, refusals, totals differ or orders "
                                  "still open)");
}

void sim_progress_format(char *buf, size_t len, const struct sim_stats *s, const char *phase)
{
        long erp_conf = 0, mes_conf = 0;
        for (int i = 0; i < s->nplants; i++) {
                erp_conf += s->erp[i].confirmations;
                mes_conf += s->mes[i].confirmations;
        }
        snprintf(buf, len,
                 "%s %5.0fs | released %ld closed %ld open %ld | MES msgs %ld | confirmations "
                 "MES %ld ERP %ld | faults %ld | replayed %ld",
                 phase, s->elapsed_s, s->released, s->closed, s->open, s->mes_accepted, mes_conf,
                 erp_conf, s->fault_5xx + s->fault_timeout + s->fault_400, s->replayed);
}

double sim_metric_sum(const char *text, size_t len, const char *metric)
{
        size_t mlen = strlen(metric);
        double sum = -1;
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *eol = nl ? nl : end;
                if ((size_t)(eol - p) > mlen && memcmp(p, metric, mlen) == 0 &&
                    (p[mlen] == '{' || p[mlen] == ' ')) {
                        const char *v = p + mlen;
                        if (*v == '{')
                                v = memchr(v, '}', (size_t)(eol - v));
                        if (v != NULL) {
                                char num[64];
                                size_t n = (size_t)(eol - v - (*v == '}'));
                                n = n < sizeof(num) - 1 ? n : sizeof(num) - 1;
                                memcpy(num, v + (*v == '}'), n);
                                num[n] = '\0';
                                char *e;
                                double d = strtod(num, &e);
                                if (e != num)
                                        sum = (sum < 0 ? 0 : sum) + d;
                        }
                }
                p = eol + 1;
        }
        return sum;
}
