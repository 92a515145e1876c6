-- pg_takt.sql — pgbench: PostgreSQL writing taktd's rows for -D size=N
-- messages per transaction into taktd's own schema (taktd --migrate), and
-- doing nothing else: no HTTP, no parsing, no deciding. What one benchmark
-- message costs taktd at PostgreSQL:
--   ingest (before the 202): the inbox row, the work order, two outbox
--             rows, a trace row
--   the rest of its life (with -D life=1): both outbox rows marked
--             delivered and one trace row for both deliveries, the work
--             order rewritten as dispatched with a trace row; written for
--             the messages of the group four transactions back, committed
--             by then
-- A generous ceiling: taktd writes at least these rows (tests/e2e/
-- test_bench_sql.py compares them with a message taktd accepted and
-- delivered), spreads them over three commits on two connections, claims
-- rows before delivering them, and sends its values as array parameters
-- that PostgreSQL parses. Like taktd, it sends a transaction as one
-- pipeline of prepared statements (run it with -M prepared). Outbox rows
-- are matched with a per-row state, as taktd's outcome UPDATE does
-- (docs/storage.md), so the plan cannot scan the partial index by state.
-- A JSON value that starts with a letter or digit follows a space (": 1")
-- and a colon inside a string is written \u003a: pgbench would take ":1"
-- for a variable. Needs the sequence pg_takt_group (bench/ingest/run.sh
-- creates it).
SELECT nextval('pg_takt_group') * :size::bigint AS base \gset
\set last :base + :size - 1
\set old :base - 4 * :size
\set old_last :old + :size - 1
\startpipeline
BEGIN;
INSERT INTO inbox (source, message_id, correlation_id, http_status, answer, envelope)
SELECT 'erp', 'pgb-' || n, 'pgb-c-' || n, 202, '{"id":"pgb","correlation_id":"29525da2-60dd-4cd9-967f-1974687fcc55","status":"accepted"}'::json, '{"id":"pgb","type":"work_order.released","schema_version": 1,"plant":"DE01","work_order":"WO-pgb","occurred_at":"2026-11-30T07:00:00Z","data":{"material":"MAT-4711-GEARBOX-HOUSING","quantity":{"value": 120,"uom":"PC"},"planned_start":"2026-12-01T06:00:00Z","planned_end":"2026-12-01T14:00:00Z","revision": 1,"operations":[{"operation":"0010","work_center":"WC-MILL-01","description":"Rough milling of housing"},{"operation":"0020","work_center":"WC-DRILL-02","description":"Drill and tap flange holes"},{"operation":"0030","work_center":"WC-QA-01","description":"Final inspection"}],"components":[{"material":"RAW-AL-BILLET-200","quantity":{"value": 120,"uom":"PC"},"operation":"0010"}]},"correlation_id":"8efcabe8-0ae5-4b93-9aa3-80a59c8b36b2"}'::json
FROM generate_series(:base::bigint, :last::bigint) AS n;
INSERT INTO work_orders (plant, work_order, state, revision, doc, next_deadline_at)
SELECT 'DE01', 'WO-pgb-' || n, 'released', 1, '{"plant":"DE01","work_order":"WO-pgb","state":"released","state_before_hold": null,"revision": 1,"material":"MAT-4711-GEARBOX-HOUSING","quantity":{"value": 120,"uom":"PC"},"operations":[{"operation":"0010","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-MILL-01"},{"operation":"0020","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-DRILL-02"},{"operation":"0030","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-QA-01"}],"holds":[],"released_holds":[],"parked":[],"rejected_parked":[],"sla":{"acknowledge": null,"erp_confirmation": null},"history":[{"from":"new","to":"released","at":"2026-11-30T15:59:08.872Z","cause":"work_order.released lg-6b0d9d4a2c50-160"}],"acknowledged": false,"completion": null,"correlation_id":"4410ac04-0f33-42a7-8d45-dea27b00a3d4","planned_start":"2026-12-01T06:00:00Z","planned_end":"2026-12-01T14:00:00Z","components":[{"material":"RAW-AL-BILLET-200","quantity":{"value": 120,"uom":"PC"},"operation":"0010"}]}'::json, NULL
FROM generate_series(:base::bigint, :last::bigint) AS n;
INSERT INTO outbox (destination, plant, work_order, lane, type, message_id, correlation_id, envelope)
SELECT d, 'DE01', 'WO-pgb-' || n, 'DE01/WO-pgb-' || n, 'work_order.released', 'pgb-' || n, 'pgb-c-' || n,
       '{"id":"pgb","type":"work_order.released","schema_version": 1,"plant":"DE01","work_order":"WO-pgb","occurred_at":"2026-11-30T07:00:00Z","data":{"material":"MAT-4711-GEARBOX-HOUSING","quantity":{"value": 120,"uom":"PC"},"planned_start":"2026-12-01T06:00:00Z","planned_end":"2026-12-01T14:00:00Z","revision": 1,"operations":[{"operation":"0010","work_center":"WC-MILL-01","description":"Rough milling of housing"},{"operation":"0020","work_center":"WC-DRILL-02","description":"Drill and tap flange holes"},{"operation":"0030","work_center":"WC-QA-01","description":"Final inspection"}],"components":[{"material":"RAW-AL-BILLET-200","quantity":{"value": 120,"uom":"PC"},"operation":"0010"}]},"correlation_id":"8efcabe8-0ae5-4b93-9aa3-80a59c8b36b2"}'::json
FROM generate_series(:base::bigint, :last::bigint) AS n, (VALUES ('mes-de01'), ('archive')) AS dest(d);
INSERT INTO trace (correlation_id, at, steps)
SELECT 'pgb-c-' || n, now(), '[{"step":"received","at_ms": 1796054683133,"detail":{"source":"erp","message_id":"lg-6b0d9e9b3958-0","type":"work_order.released"}},{"step":"normalized","at_ms": 1796054683133,"detail":{"dialect":"canonical","type":"work_order.released","result":"accepted"}},{"step":"enqueued","at_ms": 1796054683133,"detail":{"type":"work_order.released","message_id":"lg-6b0d9e9b3958-0","destinations":["mes-de01","archive"],"held": false}},{"step":"state_changed","at_ms": 1796054683133,"detail":{"from":"new","to":"released"}},{"step":"enqueued","at_ms": 1796054683133,"detail":{"type":"work_order.state_changed","message_id":"lg-6b0d9e9b3958-0#state\u003areleased","destinations":[],"held": false}}]'::json FROM generate_series(:base::bigint, :last::bigint) AS n;
\if :life
UPDATE outbox o SET state = 'delivered', attempts = attempts + 1, delivered_at = now(), last_error = NULL
FROM (SELECT 'WO-pgb-' || n AS work_order, CASE WHEN n IS NOT NULL THEN 'pending' END AS was FROM generate_series(:old::bigint, :old_last::bigint) AS n) AS u
WHERE o.plant = 'DE01' AND o.work_order = u.work_order AND o.state = u.was;
INSERT INTO trace (correlation_id, at, steps)
SELECT 'pgb-c-' || n, now(), '[{"step":"attempt","at_ms": 1796054683149,"detail":{"destination":"mes-de01","id": 1,"attempt": 1,"result":"delivered","duration_s": 0.002,"status": 202}},{"step":"delivered","at_ms": 1796054683149,"detail":{"destination":"mes-de01","id": 1,"attempts": 1}},{"step":"attempt","at_ms": 1796054683149,"detail":{"destination":"archive","id": 2,"attempt": 1,"result":"delivered","duration_s": 0.002,"status": 202}},{"step":"delivered","at_ms": 1796054683149,"detail":{"destination":"archive","id": 2,"attempts": 1}}]'::json
FROM generate_series(:old::bigint, :old_last::bigint) AS n;
UPDATE work_orders SET state = 'dispatched', doc = '{"plant":"DE01","work_order":"WO-pgb","state":"dispatched","state_before_hold": null,"revision": 1,"material":"MAT-4711-GEARBOX-HOUSING","quantity":{"value": 120,"uom":"PC"},"operations":[{"operation":"0010","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-MILL-01"},{"operation":"0020","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-DRILL-02"},{"operation":"0030","started": false,"confirmed_yield": 0.0,"confirmed_scrap": 0.0,"final": false,"uom": null,"work_center":"WC-QA-01"}],"holds":[],"released_holds":[],"parked":[],"rejected_parked":[],"sla":{"acknowledge": null,"erp_confirmation": null},"history":[{"from":"new","to":"released","at":"2026-11-30T15:59:08.872Z","cause":"work_order.released lg-6b0d9d4a2c50-160"},{"from":"released","to":"dispatched","at":"2026-11-30T15:59:14.694Z","cause":"work_order.released lg-6b0d9d4a2c50-160"}],"acknowledged": false,"completion": null,"correlation_id":"4410ac04-0f33-42a7-8d45-dea27b00a3d4","planned_start":"2026-12-01T06:00:00Z","planned_end":"2026-12-01T14:00:00Z","components":[{"material":"RAW-AL-BILLET-200","quantity":{"value": 120,"uom":"PC"},"operation":"0010"}]}'::json,
       version = version + 1, updated_at = now()
WHERE plant = 'DE01' AND work_order IN (SELECT 'WO-pgb-' || n FROM generate_series(:old::bigint, :old_last::bigint) AS n);
INSERT INTO trace (correlation_id, at, steps)
SELECT 'pgb-c-' || n, now(), '[{"step":"state_changed","at_ms": 1796054696283,"detail":{"from":"released","to":"dispatched"}},{"step":"enqueued","at_ms": 1796054696283,"detail":{"type":"work_order.state_changed","message_id":"lg-6b0d9ea83acf-0#state\u003adispatched","destinations":[],"held": false}}]'::json FROM generate_series(:old::bigint, :old_last::bigint) AS n;
\endif
COMMIT;
\endpipeline
