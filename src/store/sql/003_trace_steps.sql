-- 003_trace_steps.sql — one trace row per message per transaction.
--
-- A message's timeline used to take a row per step (about eleven for a
-- release that is delivered twice); the rows cost more than the steps. Now
-- each transaction writes one row per correlation id holding the steps it
-- recorded, in order: steps = [{"step", "at_ms", "detail"}, ...]; the row's
-- `at` is its first step's time. GET /v1/trace flattens them (admin.c).
ALTER TABLE trace ADD COLUMN steps jsonb;

UPDATE trace SET steps = jsonb_build_array(jsonb_build_object(
        'step', step,
        'at_ms', (extract(epoch FROM at) * 1000)::bigint,
        'detail', detail));

ALTER TABLE trace ALTER COLUMN steps SET NOT NULL;
ALTER TABLE trace DROP COLUMN step;
ALTER TABLE trace DROP COLUMN detail;
