-- pg_schema.sql — the PostgreSQL ceiling's table: one row per received
-- message, shaped like an inbox (source + message id unique, jsonb body,
-- receive time). bench/ingest/run.sh loads it before the pgbench scripts.
DROP TABLE IF EXISTS bench_inbox;
CREATE TABLE bench_inbox (
    id          bigserial   PRIMARY KEY,
    source      text        NOT NULL,
    message_id  text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    body        jsonb       NOT NULL,
    UNIQUE (source, message_id)
);
