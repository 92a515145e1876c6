-- 001_initial.sql — the first schema: inbox, work orders, outbox, trace.
-- docs/storage.md names the query each index serves. (schema_version is
-- created by the migration runner itself, before it reads the version.)

CREATE TABLE inbox (
        source          text        NOT NULL,
        message_id      text        NOT NULL,
        correlation_id  text,
        http_status     integer     NOT NULL,
        answer          jsonb       NOT NULL,
        envelope        jsonb,
        received_at     timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (source, message_id)
);

CREATE TABLE work_orders (
        plant             text        NOT NULL,
        work_order        text        NOT NULL,
        state             text        NOT NULL,
        revision          bigint      NOT NULL DEFAULT 0,
        doc               jsonb       NOT NULL,
        next_deadline_at  timestamptz,
        updated_at        timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (plant, work_order)
);

-- SLA timer: the orders with an unreported deadline, earliest first.
CREATE INDEX work_orders_deadline_idx ON work_orders (next_deadline_at)
        WHERE next_deadline_at IS NOT NULL;

CREATE TABLE outbox (
        id               bigserial   PRIMARY KEY,
        destination      text        NOT NULL,
        plant            text        NOT NULL,
        work_order       text,
        lane             text        NOT NULL,
        type             text        NOT NULL,
        message_id       text        NOT NULL,
        correlation_id   text,
        envelope         jsonb       NOT NULL,
        state            text        NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'held', 'delivered', 'failed')),
        attempts         integer     NOT NULL DEFAULT 0,
        next_attempt_at  timestamptz,
        last_error       text,
        created_at       timestamptz NOT NULL DEFAULT now(),
        delivered_at     timestamptz
);

-- Dispatcher resume: every pending message in commit order.
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE state = 'pending';
-- Messages list / replay / gauges by destination and state, newest first.
CREATE INDEX outbox_destination_state_idx ON outbox (destination, state, id);
-- Messages list and replay --all-failed by state alone, newest first.
CREATE INDEX outbox_state_idx ON outbox (state, id);
-- Work-order view (deliveries), release of held postings, replay --plant.
CREATE INDEX outbox_work_order_idx ON outbox (plant, work_order, id);
-- Dispatcher: is a lane blocked by an earlier failed or held message? (small:
-- only failed and held rows are in it)
CREATE INDEX outbox_blocked_idx ON outbox (destination, lane, id)
        WHERE state IN ('failed', 'held');

CREATE TABLE trace (
        id              bigserial   PRIMARY KEY,
        correlation_id  text        NOT NULL,
        step            text        NOT NULL,
        at              timestamptz NOT NULL DEFAULT now(),
        detail          jsonb
);

-- Trace view: one correlation id's steps in time order.
CREATE INDEX trace_correlation_idx ON trace (correlation_id, at, id);
