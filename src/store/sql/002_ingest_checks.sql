-- 002_ingest_checks.sql — what the one-round-trip ingest transaction checks
-- on the server (batch.c, docs/storage.md "Fast path").
--
-- The daemon decides a group from the work orders it cached when it last
-- wrote them and sends every write and COMMIT in one pipeline. The writes
-- carry the revision each decision was made against; takt_require() turns
-- "the row no longer has that revision" into an error, so the whole
-- transaction rolls back and the daemon decides the group again from what it
-- loads under lock. SQLSTATE 40001 (serialization_failure) says: nothing was
-- written, try again.
CREATE FUNCTION takt_require(ok boolean, what text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
        IF ok IS NOT TRUE THEN
                RAISE EXCEPTION 'takt: %', what USING ERRCODE = 'serialization_failure';
        END IF;
        RETURN true;
END
$$;
