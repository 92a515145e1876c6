-- 002_ingest_checks.sql — what the one-round-trip ingest transaction checks
-- on the server (batch.c, docs/storage.md "Fast path").
--
-- The daemon decides a group from the work orders it cached when it last
-- wrote them and sends every write and COMMIT in one pipeline. Every write
-- of a work order bumps its `version`; the fast path's writes carry the
-- version each decision was made against, and takt_require() turns "the row
-- is no longer at that version" into an error, so the whole transaction
-- rolls back and the daemon decides the group again from what it loads under
-- lock. SQLSTATE 40001 (serialization_failure) says: nothing was written,
-- try again.
ALTER TABLE work_orders ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION takt_require(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
        IF ok IS NOT TRUE THEN
                RAISE EXCEPTION 'takt: %', what USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN true;
END
$$;
