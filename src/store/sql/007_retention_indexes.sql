-- 007_retention_indexes.sql — what the pruner needs to find old rows
-- without reading young ones (docs/storage.md "Retention").
--
-- Delivered outbox messages age from their delivery. The index holds
-- delivered rows only: a row enters it when the delivery connection marks
-- it delivered (off the path to a 202) and leaves it when it is pruned.
CREATE INDEX outbox_delivered_idx ON outbox (delivered_at) WHERE state = 'delivered';
-- Inbox records age from their arrival; received_at only grows, so new
-- entries go to the right edge of the index.
CREATE INDEX inbox_received_idx ON inbox (received_at);
-- The trace needs no index: it is only ever appended to, so its oldest
-- rows are its lowest ids (outbox_pkey's sibling, trace_pkey).
