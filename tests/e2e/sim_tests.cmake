# sim_tests.cmake — e2e tests for takt-sim and the shipped Grafana dashboard
# and Prometheus rules (included from tests/e2e/CMakeLists.txt before its
# per-test property loop). takt-sim is built by src/sim/CMakeLists.txt.
takt_integration_test(e2e_sim COMMAND /usr/bin/python3 -m pytest -q ${E2E}/test_sim.py)
takt_integration_test(e2e_dashboards COMMAND /usr/bin/python3 -m pytest -q ${E2E}/test_dashboards.py)
