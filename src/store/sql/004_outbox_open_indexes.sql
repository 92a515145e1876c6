-- 004_outbox_open_indexes.sql — index only the open outbox rows by state.
--
-- Almost every outbox row ends up delivered, and nothing looks delivered
-- rows up by state: the dispatcher, the gauges, replay and the messages
-- list by state want pending, held and failed rows. Indexing only those
-- (partial indexes) means a row leaves two indexes when it is delivered
-- instead of being entered into four again, and a new row enters one index
-- fewer. The messages list for state=delivered walks outbox_pkey from the
-- newest row instead (most rows are delivered, so the first page is near).
DROP INDEX outbox_pending_idx;
DROP INDEX outbox_state_idx;
DROP INDEX outbox_destination_state_idx;

-- Dispatcher resume (state = 'pending' AND id > $1 ORDER BY id); messages
-- list and replay --all-failed by state, newest first; gauges.
CREATE INDEX outbox_open_idx ON outbox (state, id) WHERE state <> 'delivered';
-- Messages list / replay / gauges by destination and state.
CREATE INDEX outbox_open_destination_idx ON outbox (destination, state, id)
        WHERE state <> 'delivered';
