/* route.c — route patterns ("/v1/work-orders/{plant}/{work_order}") and
 * their matching against request paths, segment by segment. Literal
 * segments compare with the raw (still percent-encoded) path segment;
 * {name} segments match any non-empty segment and are URL-decoded when the
 * route is chosen. */
#include "http_internal.h"

#include <stdlib.h>
#include <string.h>

static char *xstrndup(const char *s, size_t n)
{
        char *d = strndup(s, n);
        if (!d)
                abort();
        return d;
}

void route_clear(struct route *r)
{
        for (size_t i = 0; i < r->n_segments; i++) {
                free(r->segments[i].literal);
                free(r->segments[i].param);
        }
        free(r->segments);
        free(r->method);
        memset(r, 0, sizeof(*r));
}

static bool valid_method(const char *m)
{
        if (!m || !*m)
                return false;
        for (; *m; m++)
                if (*m < 'A' || *m > 'Z')
                        return false;
        return true;
}

int route_parse(struct route *r, const char *method, const char *pattern)
{
        memset(r, 0, sizeof(*r));
        if (!valid_method(method) || !pattern || pattern[0] != '/')
                return -1;
        struct path_segments ps;
        if (path_split(pattern, &ps) != 0)
                return -1;
        r->method = xstrndup(method, strlen(method));
        r->segments = calloc(ps.n ? ps.n : 1, sizeof(*r->segments));
        if (!r->segments)
                abort();
        r->n_segments = ps.n;
        int rc = 0;
        for (size_t i = 0; i < ps.n && rc == 0; i++) {
                const char *s = ps.segs[i];
                size_t n = strlen(s);
                if (n > 2 && s[0] == '{' && s[n - 1] == '}' && !memchr(s + 1, '{', n - 2) &&
                    !memchr(s + 1, '}', n - 2))
                        r->segments[i].param = xstrndup(s + 1, n - 2);
                else if (n == 0 || strchr(s, '{') || strchr(s, '}'))
                        rc = -1; /* "//", a trailing "/", or a stray brace */
                else
                        r->segments[i].literal = xstrndup(s, n);
        }
        path_segments_clear(&ps);
        if (rc != 0)
                route_clear(r);
        return rc;
}

int path_split(const char *path, struct path_segments *out)
{
        memset(out, 0, sizeof(*out));
        if (!path || path[0] != '/')
                return -1;
        out->buf = xstrndup(path + 1, strlen(path + 1));
        if (!*out->buf)
                return 0; /* "/" has no segments */
        size_t n = 1;
        for (const char *p = out->buf; *p; p++)
                n += *p == '/';
        out->segs = calloc(n, sizeof(char *));
        if (!out->segs)
                abort();
        char *p = out->buf;
        for (size_t i = 0; i < n; i++) {
                out->segs[i] = p;
                char *slash = strchr(p, '/');
                if (slash) {
                        *slash = '\0';
                        p = slash + 1;
                }
        }
        out->n = n;
        return 0;
}

void path_segments_clear(struct path_segments *ps)
{
        free(ps->buf);
        free(ps->segs);
        memset(ps, 0, sizeof(*ps));
}

bool route_matches(const struct route *r, const struct path_segments *ps)
{
        if (r->n_segments != ps->n)
                return false;
        for (size_t i = 0; i < ps->n; i++) {
                const struct route_segment *seg = &r->segments[i];
                if (seg->literal ? strcmp(seg->literal, ps->segs[i]) != 0 : !*ps->segs[i])
                        return false;
        }
        return true;
}

int route_bind_params(const struct route *r, const struct path_segments *ps,
                      struct http_request *req)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n_segments; i++)
                n += r->segments[i].param != NULL;
        req->param_names = calloc(n ? n : 1, sizeof(char *));
        req->param_values = calloc(n ? n : 1, sizeof(char *));
        if (!req->param_names || !req->param_values)
                abort();
        for (size_t i = 0; i < r->n_segments; i++) {
                if (!r->segments[i].param)
                        continue;
                size_t len = 0;
                char *v = evhttp_uridecode(ps->segs[i], 0, &len);
                if (!v)
                        abort();
                req->param_names[req->n_params] =
                    xstrndup(r->segments[i].param, strlen(r->segments[i].param));
                req->param_values[req->n_params++] = v;
                if (strlen(v) != len || len == 0)
                        return -1;
        }
        return 0;
}
