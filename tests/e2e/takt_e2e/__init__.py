"""takt_e2e — helpers for takt's end-to-end tests (tests/e2e).

Each module has one job: http (a small HTTP client), daemon (a taktd process
with an inline config), receiver (a programmable HTTP destination), kafka
(reading topics back with kcat), pg (throwaway databases with psql), ports.
conftest.py turns them into pytest fixtures.
"""
