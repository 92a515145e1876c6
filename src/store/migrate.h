/* migrate.h — the embedded migrations and what both migration paths share
 * (internal to the store module).
 *
 * The migrations are src/store/sql/NNN_name.sql, embedded at build time by
 * gen_migrations.cmake. The schema version is the highest version recorded
 * in schema_version, a table the runner creates itself (under the advisory
 * lock) before reading it. Two runners exist: store_migrate_blocking (the
 * --migrate command line, PQexec) and the daemon's migrate: auto (one
 * pipeline on the admin connection, store.c); both apply the same statement
 * plan, built here. */
#ifndef TAKT_STORE_MIGRATE_H
#define TAKT_STORE_MIGRATE_H

#include <stddef.h>

struct store_migration {
        int version;      /* NNN of the file name */
        const char *name; /* the file name's _name part */
        const char *sql;  /* the whole file */
};
extern const struct store_migration store_migrations[]; /* version order */
extern const size_t store_migrations_count;

/* Every migration run holds this transaction-level advisory lock. */
#define STORE_MIGRATE_LOCK_SQL "SELECT pg_advisory_xact_lock(7481003520551659008)"
#define STORE_SCHEMA_VERSION_CREATE_SQL                                                            \
        "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "                 \
        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
/* One row, one column: the version (0 when the table is empty). Fails with
 * SQLSTATE 42P01 (undefined_table) on a database never migrated. */
#define STORE_SCHEMA_VERSION_SQL       "SELECT coalesce(max(version), 0) FROM schema_version"
#define STORE_SQLSTATE_UNDEFINED_TABLE "42P01"

/* A list of owned SQL statements. */
struct store_sql_list {
        char **stmts; /* owned array of owned strings */
        size_t n;
};
void store_sql_list_clear(struct store_sql_list *l);

/* Split a script into single statements (for pipeline mode, which runs one
 * statement per query): splits at ';' outside quotes ('...', "..."),
 * dollar quotes ($tag$...$tag$) and comments (-- and nested block comments); drops
 * empty statements. Appends to l; returns 0, or -1 on an unterminated quote
 * or comment. */
int store_sql_split(const char *sql, struct store_sql_list *l);

/* The statements that take a database at version from to the known version:
 * every missing migration's statements, each followed by its schema_version
 * row. Returns 0, or -1 when an embedded migration does not split. */
int store_migrate_plan(int from, struct store_sql_list *l);

#endif
