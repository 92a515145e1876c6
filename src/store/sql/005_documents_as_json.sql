-- 005_documents_as_json.sql — store documents as json (checked text), not
-- jsonb.
--
-- takt writes these documents whole and reads them back whole (a work
-- order to decide on, an envelope to send, an answer to repeat); nothing
-- queries inside them on a hot path. jsonb parses every value into its
-- binary form on the way in and prints it again on the way out: binding 64
-- work-order documents of 1.3 kB cost 2.06 ms as jsonb, 0.63 ms as json
-- (pgbench, docs/performance.md). json keeps the text takt sent, after
-- checking that it is JSON. The trace stays jsonb: its view takes the step
-- arrays apart.
ALTER TABLE work_orders ALTER COLUMN doc TYPE json USING doc::json;
ALTER TABLE outbox ALTER COLUMN envelope TYPE json USING envelope::json;
ALTER TABLE inbox ALTER COLUMN envelope TYPE json USING envelope::json;
ALTER TABLE inbox ALTER COLUMN answer TYPE json USING answer::json;
