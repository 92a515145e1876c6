/* migrate.c — the migration plan (split the embedded scripts into single
 * statements, each migration followed by its schema_version row) and the
 * blocking runner behind taktd --migrate. The daemon's migrate: auto sends
 * the same plan as one pipeline (store_schema.c). */
#include "migrate.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_blocking.h"
#include "takt/store.h"

int store_schema_version_known(void)
{
        return (int)store_migrations_count;
}

void store_sql_list_clear(struct store_sql_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->stmts[i]);
        free(l->stmts);
        l->stmts = NULL;
        l->n = 0;
}

/* Append a copy of text[0..len) (trimmed). */
static void sql_list_add(struct store_sql_list *l, const char *text, size_t len)
{
        while (len > 0 && isspace((unsigned char)*text)) {
                text++;
                len--;
        }
        while (len > 0 && isspace((unsigned char)text[len - 1]))
                len--;
        char *s = malloc(len + 1);
        char **grown = realloc(l->stmts, (l->n + 1) * sizeof(*l->stmts));
        if (!s || !grown)
                abort(); /* out of memory: nothing sensible to do */
        memcpy(s, text, len);
        s[len] = '\0';
        l->stmts = grown;
        l->stmts[l->n++] = s;
}

/* Length of a dollar-quote tag ("$tag$" or "$$") at p, 0 when p is no tag. */
static size_t dollar_tag_len(const char *p)
{
        size_t i = 1;
        if (p[i] == '$')
                return 2;
        if (!(isalpha((unsigned char)p[i]) || p[i] == '_'))
                return 0;
        while (isalnum((unsigned char)p[i]) || p[i] == '_')
                i++;
        return p[i] == '$' ? i + 1 : 0;
}

/* Index just past the quoted section or comment starting at sql[i], i + 1
 * when none starts there, 0 when it never ends. */
static size_t skip_quoted(const char *sql, size_t i)
{
        const char *p = sql + i;
        if (p[0] == '-' && p[1] == '-') {
                const char *nl = strchr(p, '\n');
                return nl ? (size_t)(nl - sql) + 1 : i + strlen(p);
        }
        if (p[0] == '/' && p[1] == '*') {
                int depth = 0;
                for (size_t j = i; sql[j]; j++) {
                        if (sql[j] == '/' && sql[j + 1] == '*') {
                                depth++;
                                j++;
                        } else if (sql[j] == '*' && sql[j + 1] == '/') {
                                j++;
                                if (--depth == 0)
                                        return j + 1;
                        }
                }
                return 0;
        }
        if (p[0] == '\'' || p[0] == '"') {
                bool backslash = p[0] == '\'' && i > 0 && (sql[i - 1] == 'E' || sql[i - 1] == 'e');
                for (size_t j = i + 1; sql[j]; j++) {
                        if (backslash && sql[j] == '\\' && sql[j + 1]) {
                                j++;
                                continue;
                        }
                        if (sql[j] == p[0])
                                return j + 1; /* '' re-opens at once: same result */
                }
                return 0;
        }
        if (p[0] == '$') {
                size_t tag = dollar_tag_len(p);
                if (tag == 0)
                        return i + 1;
                for (const char *q = p + tag; (q = strchr(q, '$')); q++)
                        if (strncmp(q, p, tag) == 0)
                                return (size_t)(q - sql) + tag;
                return 0;
        }
        return i + 1;
}

int store_sql_split(const char *sql, struct store_sql_list *l)
{
        size_t start = 0, i = 0;
        bool code = false; /* the current statement has more than comments */
        while (sql[i]) {
                if (sql[i] == ';') {
                        if (code)
                                sql_list_add(l, sql + start, i - start);
                        start = ++i;
                        code = false;
                        continue;
                }
                bool comment =
                    (sql[i] == '-' && sql[i + 1] == '-') || (sql[i] == '/' && sql[i + 1] == '*');
                if (!comment && !isspace((unsigned char)sql[i]))
                        code = true;
                size_t next = skip_quoted(sql, i);
                if (next == 0)
                        return -1;
                i = next;
        }
        if (code)
                sql_list_add(l, sql + start, i - start);
        return 0;
}

int store_migrate_plan(int from, struct store_sql_list *l)
{
        for (size_t v = (size_t)(from > 0 ? from : 0); v < store_migrations_count; v++) {
                const struct store_migration *m = &store_migrations[v];
                if (store_sql_split(m->sql, l) < 0)
                        return -1;
                char row[160];
                snprintf(row, sizeof(row),
                         "INSERT INTO schema_version (version, name) VALUES (%d, '%s')", m->version,
                         m->name);
                sql_list_add(l, row, strlen(row));
        }
        return 0;
}

/* Inside the transaction: lock, read the version, apply what is missing. */
static int migrate_in_txn(PGconn *pg, int *version, char *err, size_t errlen)
{
        if (pgb_run(pg, "lock", STORE_MIGRATE_LOCK_SQL, err, errlen) < 0 ||
            pgb_run(pg, "schema_version", STORE_SCHEMA_VERSION_CREATE_SQL, err, errlen) < 0)
                return -1;
        PGresult *res =
            pgb_exec(pg, "schema_version", STORE_SCHEMA_VERSION_SQL, 0, NULL, err, errlen);
        if (!res)
                return -1;
        int current = atoi(PQgetvalue(res, 0, 0));
        PQclear(res);
        int known = store_schema_version_known();
        if (current > known) {
                snprintf(err, errlen, "schema version %d is newer than this build knows (%d)",
                         current, known);
                return -1;
        }
        struct store_sql_list plan = {0};
        int rc = store_migrate_plan(current, &plan);
        if (rc < 0)
                snprintf(err, errlen, "embedded migration does not parse");
        for (size_t i = 0; rc == 0 && i < plan.n; i++)
                rc = pgb_run(pg, "migrate", plan.stmts[i], err, errlen);
        store_sql_list_clear(&plan);
        *version = known;
        return rc;
}

int store_migrate_blocking(const char *conninfo, int *version, char *err, size_t errlen)
{
        PGconn *pg = pgb_connect(conninfo, "migrate", err, errlen);
        if (!pg)
                return -1;
        int v = 0;
        int rc = pgb_run(pg, "begin", "BEGIN", err, errlen);
        if (rc == 0)
                rc = migrate_in_txn(pg, &v, err, errlen);
        if (rc == 0)
                rc = pgb_run(pg, "commit", "COMMIT", err, errlen);
        else
                PQclear(PQexec(pg, "ROLLBACK"));
        PQfinish(pg);
        if (rc == 0 && version)
                *version = v;
        return rc;
}
