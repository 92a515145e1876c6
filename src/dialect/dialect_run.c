/* dialect_run.c — the interpreter: runs a compiled dialect over one message.
 * Inbound picks a case (discriminator value or the first case whose 'when'
 * holds), then builds each canonical envelope it emits; outbound builds the
 * body for the envelope's type. Every error names the SOURCE field by JSON
 * Pointer (the field of the received body inbound, of the canonical envelope
 * outbound). Nothing here parses YAML or a pointer. */
#include <stdio.h>
#include <string.h>

#include "dialect_internal.h"
#include "takt/dialect.h"

enum res { R_OK, R_ABSENT, R_ERROR };

/* One run over one message. */
struct run {
        const json_t *raw;    /* the body as received */
        const json_t *msg;    /* the message after unwrap */
        const char *msg_path; /* where msg sits in raw ("" or "/d") */
        const char *prefix;
        struct canon_errors *errs;
        bool failed;
};

/* Where evaluation is: the message (parent NULL), or element index of the
 * array at pointer array from the parent scope. Source paths are only
 * formatted when an error names them. */
struct scope {
        const json_t *value;
        const struct scope *parent;
        const struct ptr *array;
        size_t index;
};

/* A field being read: pointer p from scope s (p NULL: the scope itself). */
struct where {
        const struct scope *s;
        const struct ptr *p;
};

/* fmt has exactly one %s, for arg. */
static void fail(struct run *r, const char *path, const char *fmt, const char *arg)
{
        r->failed = true;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        canon_errors_add(r->errs, r->prefix, path, fmt, arg);
#pragma GCC diagnostic pop
}

static void scope_path(const struct run *r, const struct scope *s, char *buf, size_t len);

static void ptr_path(const struct run *r, const struct scope *s, const struct ptr *p, char *buf,
                     size_t len)
{
        char base[192] = "";
        if (p->base == PTR_MSG)
                snprintf(base, sizeof(base), "%s", r->msg_path);
        else if (p->base == PTR_SCOPE)
                scope_path(r, s, base, sizeof(base));
        snprintf(buf, len, "%s%s", base, p->text);
}

static void scope_path(const struct run *r, const struct scope *s, char *buf, size_t len)
{
        if (s->parent == NULL) {
                snprintf(buf, len, "%s", r->msg_path);
                return;
        }
        char base[160]; /* room for "/<index>" in a 192-byte error path */
        ptr_path(r, s->parent, s->array, base, sizeof(base));
        snprintf(buf, len, "%s/%zu", base, s->index);
}

/* Records an error at the source field w names. */
static void fail_at(struct run *r, const struct where *w, const char *message)
{
        char path[192];
        if (w->p != NULL)
                ptr_path(r, w->s, w->p, path, sizeof(path));
        else
                scope_path(r, w->s, path, sizeof(path));
        fail(r, path, "%s", message);
}

/* The value at p from scope s; NULL when absent or null. */
static json_t *lookup(const struct run *r, const struct scope *s, const struct ptr *p)
{
        const json_t *doc = p->base == PTR_MSG ? r->msg : p->base == PTR_RAW ? r->raw : s->value;
        json_t *v = ptr_get(p, doc);
        return json_is_null(v) ? NULL : v;
}

static enum res eval(struct run *r, const struct scope *s, const struct expr *e, json_t **out);

/* Absent source: the default, nothing, or a required-field error. */
static enum res absent(struct run *r, const struct expr *e, const struct where *w, json_t **out)
{
        if (e->dflt != NULL) {
                *out = json_incref(e->dflt);
                return R_OK;
        }
        if (!e->required)
                return R_ABSENT;
        fail_at(r, w, "required field missing");
        return R_ERROR;
}

/* Value map then coercion/time conversion of a present value (borrowed v). */
static enum res transform(struct run *r, const struct expr *e, const json_t *v,
                          const struct where *w, json_t **out)
{
        char text[192], msg[256];
        const char *why = NULL;
        if (e->map != NULL) {
                if (!scalar_text(v, text, sizeof(text))) {
                        fail_at(r, w, "must be a scalar");
                        return R_ERROR;
                }
                v = json_object_get(e->map, text);
                if (v == NULL) {
                        snprintf(msg, sizeof(msg), "unknown value '%.80s' (value map %s)", text,
                                 e->map_name);
                        fail_at(r, w, msg);
                        return R_ERROR;
                }
        }
        if (e->as == CO_TIME) {
                int64_t ms;
                json_t *tod = e->has_time_of_day ? lookup(r, w->s, &e->time_of_day) : NULL;
                if (!time_parse(v, e->tf_in, tod, &ms, &why)) {
                        fail_at(r, w, why);
                        return R_ERROR;
                }
                *out = time_format(ms, e->tf_out);
        } else {
                *out = coerce_value(v, e->as, &why);
                if (*out == NULL) {
                        fail_at(r, w, why ? why : "cannot convert");
                        return R_ERROR;
                }
        }
        return *out ? R_OK : R_ERROR;
}

static enum res eval_object(struct run *r, const struct scope *s, const struct expr *e,
                            json_t **out)
{
        json_t *obj = json_object();
        bool bad = false;
        for (size_t i = 0; i < e->n; i++) {
                json_t *v = NULL;
                enum res res = eval(r, s, e->fields[i].value, &v);
                if (res == R_OK)
                        json_object_set_new(obj, e->fields[i].key, v);
                bad |= res == R_ERROR;
        }
        if (bad) {
                json_decref(obj);
                return R_ERROR;
        }
        *out = obj;
        return R_OK;
}

/* LIST and CONCAT: evaluate every item; absent items are skipped. */
static enum res eval_items(struct run *r, const struct scope *s, const struct expr *e, json_t **out)
{
        json_t *arr = json_array();
        bool bad = false;
        for (size_t i = 0; i < e->n; i++) {
                json_t *v = NULL;
                enum res res = eval(r, s, e->items[i], &v);
                if (res == R_OK)
                        json_array_append_new(arr, v);
                bad |= res == R_ERROR;
        }
        if (bad) {
                json_decref(arr);
                return R_ERROR;
        }
        *out = arr;
        return R_OK;
}

static enum res eval_concat(struct run *r, const struct scope *s, const struct expr *e,
                            json_t **out)
{
        json_t *parts;
        if (eval_items(r, s, e, &parts) != R_OK)
                return R_ERROR;
        char buf[512] = "", text[192];
        size_t len = 0, i;
        json_t *v;
        json_array_foreach(parts, i, v)
        {
                if (!scalar_text(v, text, sizeof(text)))
                        text[0] = '\0';
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s", text);
                if (len >= sizeof(buf))
                        len = sizeof(buf) - 1;
        }
        json_decref(parts);
        *out = json_string(buf);
        return R_OK;
}

static enum res eval_each(struct run *r, const struct scope *s, const struct expr *e, json_t **out)
{
        struct where w = {s, &e->src};
        json_t *arr = lookup(r, s, &e->src);
        if (arr == NULL)
                return absent(r, e, &w, out);
        if (!json_is_array(arr)) {
                fail_at(r, &w, "must be an array");
                return R_ERROR;
        }
        json_t *list = json_array();
        bool bad = false;
        size_t i;
        json_t *elem;
        json_array_foreach(arr, i, elem)
        {
                struct scope child = {.value = elem, .parent = s, .array = &e->src, .index = i};
                json_t *v = NULL;
                enum res res = eval(r, &child, e->item, &v);
                if (res == R_OK)
                        json_array_append_new(list, v);
                bad |= res == R_ERROR;
        }
        if (bad) {
                json_decref(list);
                return R_ERROR;
        }
        *out = list;
        return R_OK;
}

static enum res eval(struct run *r, const struct scope *s, const struct expr *e, json_t **out)
{
        struct where w = {s, e->kind == EX_COPY ? &e->src : NULL};
        json_t *v;
        switch (e->kind) {
        case EX_COPY:
                v = lookup(r, s, &e->src);
                if (v == NULL)
                        return absent(r, e, &w, out);
                return transform(r, e, v, &w, out);
        case EX_CONST:
                return transform(r, e, e->constant, &w, out);
        case EX_INDEX:
                *out = json_integer((json_int_t)s->index);
                return R_OK;
        case EX_OBJECT:
                return eval_object(r, s, e, out);
        case EX_LIST:
                return eval_items(r, s, e, out);
        case EX_CONCAT:
                return eval_concat(r, s, e, out);
        case EX_EACH:
                return eval_each(r, s, e, out);
        }
        return R_ERROR;
}

/* ---- inbound ---- */

static bool conds_hold(const struct run *r, const struct icase *k)
{
        struct scope top = {.value = r->msg};
        char text[192];
        for (size_t i = 0; i < k->n_conds; i++) {
                const struct cond *c = &k->conds[i];
                json_t *v = lookup(r, &top, &c->at);
                if (v == NULL || !scalar_text(v, text, sizeof(text)))
                        return false;
                bool any = false;
                for (size_t j = 0; j < c->n_equals && !any; j++)
                        any = strcmp(text, c->equals[j]) == 0;
                if (!any)
                        return false;
        }
        return true;
}

static const struct icase *choose_case(struct run *r, const struct dialect *d)
{
        struct scope top = {.value = r->msg};
        if (!d->has_discriminator) {
                for (size_t i = 0; i < d->n_cases; i++)
                        if (conds_hold(r, &d->cases[i]))
                                return &d->cases[i];
                if (d->fallback == NULL)
                        fail(r, r->msg_path, "%s", "no inbound case of this dialect matches");
                return d->fallback;
        }
        char text[192], msg[192];
        json_t *v = lookup(r, &top, &d->discriminator);
        bool scalar = v != NULL && scalar_text(v, text, sizeof(text));
        for (size_t i = 0; scalar && i < d->n_cases; i++)
                if (strcmp(d->cases[i].name, text) == 0)
                        return &d->cases[i];
        if (d->fallback != NULL)
                return d->fallback;
        struct where w = {&top, &d->discriminator};
        if (v == NULL)
                fail_at(r, &w, "required field missing (message kind)");
        else if (!scalar)
                fail_at(r, &w, "message kind must be a scalar");
        else {
                snprintf(msg, sizeof(msg), "unknown message kind '%.100s'", text);
                fail_at(r, &w, msg);
        }
        return NULL;
}

/* Builds one envelope in scope s (over the shared fields, common) and
 * appends it to out. */
static void emit_one(struct run *r, const struct scope *s, const struct emit *m,
                     const json_t *common, json_t *out)
{
        json_t *fields = NULL;
        if (eval(r, s, m->envelope, &fields) != R_OK)
                return;
        json_t *env = json_pack("{s:s, s:i}", "type", canon_type_name(m->type), "schema_version",
                                CANON_SCHEMA_VERSION);
        if (common != NULL)
                json_object_update(env, (json_t *)common);
        json_object_update(env, fields);
        json_decref(fields);
        json_array_append_new(out, env);
}

static void emit_all(struct run *r, const struct emit *m, const json_t *common, json_t *out)
{
        struct scope top = {.value = r->msg};
        if (!m->has_foreach) {
                emit_one(r, &top, m, common, out);
                return;
        }
        json_t *arr = lookup(r, &top, &m->foreach);
        if (!json_is_array(arr) || json_array_size(arr) == 0) {
                struct where w = {&top, &m->foreach};
                fail_at(r, &w, arr ? "must be a non-empty array" : "required field missing");
                return;
        }
        size_t i;
        json_t *elem;
        json_array_foreach(arr, i, elem)
        {
                struct scope child = {
                    .value = elem, .parent = &top, .array = &m->foreach, .index = i};
                emit_one(r, &child, m, common, out);
        }
}

json_t *dialect_inbound(const struct dialect *d, const json_t *src, const char *prefix,
                        struct canon_errors *errs)
{
        if (d == NULL)
                return json_pack("[O]", src);
        struct run r = {.raw = src, .msg = src, .msg_path = "", .prefix = prefix, .errs = errs};
        if (!d->has_inbound) {
                fail(&r, "", "dialect %s has no inbound mapping", d->name);
                return NULL;
        }
        for (size_t i = 0; i < d->n_unwrap; i++) {
                json_t *inner = ptr_get(&d->unwrap[i], src);
                if (json_is_object(inner)) {
                        r.msg = inner;
                        r.msg_path = d->unwrap[i].text;
                        break;
                }
        }
        if (!json_is_object(r.msg)) {
                fail(&r, "", "%s", "message must be a JSON object");
                return NULL;
        }
        const struct icase *k = choose_case(&r, d);
        if (k == NULL)
                return NULL;
        json_t *common = NULL;
        struct scope top = {.value = r.msg};
        if (d->common != NULL && eval(&r, &top, d->common, &common) != R_OK)
                return NULL;
        json_t *out = json_array();
        for (size_t i = 0; i < k->n_emits; i++)
                emit_all(&r, &k->emits[i], common, out);
        json_decref(common);
        if (r.failed) {
                json_decref(out);
                return NULL;
        }
        return out;
}

/* ---- outbound ---- */

json_t *dialect_outbound(const struct dialect *d, const json_t *env, struct canon_errors *errs)
{
        if (d == NULL)
                return json_incref((json_t *)env);
        struct run r = {.raw = env, .msg = env, .msg_path = "", .prefix = "", .errs = errs};
        enum canon_type t;
        const char *name = canon_str(env, "type");
        if (name == NULL || !canon_type_parse(name, &t)) {
                fail(&r, "/type", "%s", "unknown canonical type");
                return NULL;
        }
        if (d->outbound[t] == NULL) {
                fail(&r, "/type", "dialect has no outbound mapping for %s", name);
                return NULL;
        }
        struct scope top = {.value = env};
        json_t *body = NULL;
        if (eval(&r, &top, d->outbound[t], &body) != R_OK) {
                json_decref(body);
                return NULL;
        }
        return body;
}

bool dialect_accepts(const struct dialect *d, enum canon_type type)
{
        if (d == NULL)
                return true;
        return type < CANON_TYPE_COUNT && d->outbound[type] != NULL;
}
