-- pg_claim_mark.sql — pgbench: the delivery engine's claim-and-mark SQL
-- (src/store/outbox_delivery.c) over bench_outbox/bench_trace, copies of the
-- outbox and trace tables, 100 rows per turn, one client (taktd has one
-- delivery connection). Run with -D last=0: like the dispatcher's paging
-- cursor, :last is the highest id claimed so far.
--
-- 1. store_outbox_load_pending(): the page query, verbatim; the envelopes are
--    rendered as text, as they are for taktd (the sum only keeps them from
--    being optimised away; the rows stay on the server).
SELECT max(id) AS last, string_agg(id::text, ',' ORDER BY id) AS ids,
       string_agg(quote_literal(coalesce(correlation_id, '')), ',' ORDER BY id) AS cids,
       sum(octet_length(envelope::text)) AS bytes
FROM (SELECT id, destination, plant, work_order, lane, type, message_id, correlation_id,
             envelope, state, attempts,
             (extract(epoch from next_attempt_at) * 1000)::bigint,
             (extract(epoch from created_at) * 1000)::bigint
      FROM bench_outbox o
      WHERE o.state = 'pending' AND o.id > :last
        AND NOT EXISTS (SELECT 1 FROM bench_outbox b WHERE b.destination = o.destination
                        AND b.lane = o.lane AND b.state IN ('failed', 'held') AND b.id < o.id)
      ORDER BY o.id LIMIT 100) p
\gset
-- 2. store_outbox_record(): one transaction, committed asynchronously as
--    taktd does, with the outcome UPDATE over unnest() arrays and one trace
--    row per message holding the steps of its delivery ("attempt" and
--    "delivered", with the details taktd writes; 003_trace_steps.sql).
BEGIN;
SET LOCAL synchronous_commit TO off;
UPDATE bench_outbox o SET state = u.state, attempts = u.attempts,
       next_attempt_at = to_timestamp(u.next_ms / 1000.0),
       last_error = COALESCE(u.last_error, o.last_error),
       delivered_at = to_timestamp(u.delivered_ms / 1000.0)
FROM (SELECT id, 'delivered'::text AS state, 1 AS attempts, NULL::bigint AS next_ms,
             NULL::text AS last_error, (extract(epoch from now()) * 1000)::bigint AS delivered_ms,
             'pending'::text AS was
      FROM unnest(ARRAY[:ids]::bigint[]) AS id) AS u
WHERE o.id = u.id AND o.state = u.was;
INSERT INTO bench_trace (correlation_id, at, steps)
SELECT c, now(), format('[{"step":"attempt","at_ms":%s,"detail":{"destination":"mes-de01","id":%s,"attempt":1,"result":"delivered","duration_s":0.0012,"status":200}},'
                        '{"step":"delivered","at_ms":%s,"detail":{"destination":"mes-de01","id":%s,"attempts":1}}]',
                        ms, id, ms, id)::json
FROM unnest(ARRAY[:cids]::text[], ARRAY[:ids]::bigint[]) AS t(c, id),
     LATERAL (SELECT (extract(epoch from now()) * 1000)::bigint AS ms) AS now_ms;
COMMIT;
