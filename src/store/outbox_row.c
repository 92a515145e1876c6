/* outbox_row.c — struct store_outbox_row from a result row of
 * "SELECT " STORE_OUTBOX_COLUMNS, and its release. */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* Column order of STORE_OUTBOX_COLUMNS. */
enum {
        COL_ID,
        COL_DESTINATION,
        COL_PLANT,
        COL_WORK_ORDER,
        COL_LANE,
        COL_TYPE,
        COL_MESSAGE_ID,
        COL_CORRELATION_ID,
        COL_ENVELOPE,
        COL_STATE,
        COL_ATTEMPTS,
        COL_NEXT_ATTEMPT_MS,
        COL_CREATED_MS,
};

/* Owned copy of a text column, NULL for SQL NULL. */
static char *text_col(const PGresult *res, int row, int col)
{
        if (PQgetisnull(res, row, col))
                return NULL;
        char *s = strdup(PQgetvalue(res, row, col));
        if (!s)
                abort(); /* out of memory */
        return s;
}

static int64_t int_col(const PGresult *res, int row, int col)
{
        return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

void store_outbox_row_from_result(const PGresult *res, int row, struct store_outbox_row *out)
{
        store_outbox_row_with_text(res, row, out, NULL);
}

void store_outbox_row_with_text(const PGresult *res, int row, struct store_outbox_row *out,
                                char *envelope_text)
{
        memset(out, 0, sizeof(*out));
        out->id = int_col(res, row, COL_ID);
        out->destination = text_col(res, row, COL_DESTINATION);
        out->plant = text_col(res, row, COL_PLANT);
        out->work_order = text_col(res, row, COL_WORK_ORDER);
        out->lane = text_col(res, row, COL_LANE);
        out->type = text_col(res, row, COL_TYPE);
        out->message_id = text_col(res, row, COL_MESSAGE_ID);
        out->correlation_id = text_col(res, row, COL_CORRELATION_ID);
        out->envelope_text = envelope_text ? envelope_text : text_col(res, row, COL_ENVELOPE);
        out->state = text_col(res, row, COL_STATE);
        out->attempts = (int)int_col(res, row, COL_ATTEMPTS);
        out->next_attempt_ms = int_col(res, row, COL_NEXT_ATTEMPT_MS);
        out->created_ms = int_col(res, row, COL_CREATED_MS);
}

json_t *store_outbox_row_envelope(const struct store_outbox_row *row)
{
        if (row->envelope)
                return json_incref(row->envelope);
        return row->envelope_text ? json_loads(row->envelope_text, 0, NULL) : NULL;
}

static bool copy_str(char **dst, const char *src)
{
        *dst = src ? strdup(src) : NULL;
        return *dst != NULL || src == NULL;
}

int store_outbox_row_copy(struct store_outbox_row *dst, const struct store_outbox_row *src)
{
        *dst = *src;
        dst->envelope = src->envelope ? json_incref(src->envelope) : NULL;
        bool ok = copy_str(&dst->destination, src->destination);
        ok = copy_str(&dst->plant, src->plant) && ok;
        ok = copy_str(&dst->work_order, src->work_order) && ok;
        ok = copy_str(&dst->lane, src->lane) && ok;
        ok = copy_str(&dst->type, src->type) && ok;
        ok = copy_str(&dst->message_id, src->message_id) && ok;
        ok = copy_str(&dst->correlation_id, src->correlation_id) && ok;
        ok = copy_str(&dst->envelope_text, src->envelope_text) && ok;
        ok = copy_str(&dst->state, src->state) && ok;
        if (!ok) {
                store_outbox_row_clear(dst);
                return -1;
        }
        return 0;
}

void store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
        for (size_t i = 0; rows && i < n; i++)
                store_outbox_row_clear(&rows[i]);
        free(rows);
}

void store_outbox_row_clear(struct store_outbox_row *row)
{
        if (!row)
                return;
        free(row->destination);
        free(row->plant);
        free(row->work_order);
        free(row->lane);
        free(row->type);
        free(row->message_id);
        free(row->correlation_id);
        json_decref(row->envelope);
        free(row->envelope_text);
        free(row->state);
        memset(row, 0, sizeof(*row));
}
