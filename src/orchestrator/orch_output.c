/* orch_output.c — the orch_output a call fills: its lifetime and the list of
 * emitted envelopes. The output owns every envelope and the new document. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_internal.h"

void orch_output_init(struct orch_output *out)
{
        memset(out, 0, sizeof(*out));
        out->result = ORCH_ACCEPTED;
}

void orch_output_clear(struct orch_output *out)
{
        for (size_t i = 0; i < out->n_emit; i++)
                json_decref(out->emit[i].envelope);
        free(out->emit);
        json_decref(out->wo);
        orch_output_init(out);
}

void orch_emit(struct orch_output *out, json_t *envelope, bool hold)
{
        struct orch_emit *grown = realloc(out->emit, (out->n_emit + 1) * sizeof(*grown));
        if (grown == NULL)
                abort(); /* out of memory: nothing sensible to do in a pure function */
        out->emit = grown;
        out->emit[out->n_emit].envelope = envelope;
        out->emit[out->n_emit].hold = hold;
        out->n_emit++;
}

void orch_forward(struct step *st, const json_t *msg, bool posting)
{
        bool hold = posting && wo_state_is(st->doc, "on_hold");
        orch_emit(st->out, json_incref((json_t *)msg), hold);
}

enum orch_result orch_verdict(struct step *st, enum orch_result r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->reason, st->reason_len, fmt, ap);
        va_end(ap);
        return r;
}
