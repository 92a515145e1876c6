-- 006_trace_steps_as_json.sql — trace steps as json (checked text), not
-- jsonb.
--
-- Every transaction writes a trace row per message (003), on the ingest
-- connection's group commits and on the delivery connection's outcome
-- batches; the rows are read only by GET /v1/trace, which takes them apart
-- with json_array_elements. jsonb parses and re-encodes every step on the
-- way in for nothing (the reason documents became json in 005). json keeps
-- the text takt sent, after checking that it is JSON.
ALTER TABLE trace ALTER COLUMN steps TYPE json USING steps::json;
