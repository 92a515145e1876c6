#!/usr/bin/env bash
# ctest-tree.sh BUILD_DIR COUNTS_FILE [plain|fuzz] — runs one build tree's tests (called by
# scripts/test.sh inside tests/harness/with-postgres.sh, so TAKT_PG_CONNINFO is
# set). Unit tests run two at a time; integration tests run one at a time
# (their RUN_SERIAL property); tests with neither label run last. Writes
# "PASSED FAILED" to COUNTS_FILE and fails when a test fails or none ran.
# "plain" (the unsanitized tree): only the unit tests and the tests labelled
# plain (valgrind, the Debian package), which need an unsanitized binary;
# every integration test runs in the sanitizer tree, where it also checks
# memory. "fuzz" (the clang tree): the bounded libFuzzer run only.
set -uo pipefail

dir=$1
counts=$2
mode=${3:-all}
passed=0
failed=0
status=0

# run_label NAME CTEST_ARGS...: one ctest run; adds its counts to the totals.
run_label() {
        local name=$1
        shift
        local log
        log=$(mktemp)
        echo "--- $dir: $name tests"
        ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
        local rc=${PIPESTATUS[0]}
        # "100% tests passed, 0 tests failed out of 12"
        local line total nfail
        line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -n 1)
        if [[ -n $line ]]; then
                nfail=$(sed -E 's/.* ([0-9]+) tests? failed out of.*/\1/' <<<"$line")
                total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
                passed=$((passed + total - nfail))
                failed=$((failed + nfail))
        elif ((rc != 0)); then
                failed=$((failed + 1)) # ctest itself failed before running tests
        fi
        ((rc == 0)) || status=1
        rm -f "$log"
}

if [[ $mode == fuzz ]]; then
        run_label fuzz -L '^fuzz$' -j1
elif [[ $mode == plain ]]; then
        run_label unit -L '^unit$' -j2
        run_label plain -L '^plain$' -j1
else
        run_label unit -L '^unit$' -j2
        run_label integration -L '^integration$' -j1
        run_label other -LE '^(unit|integration)$' -j1
fi

echo "$passed $failed" >"$counts"
if ((passed + failed == 0)); then
        echo "ctest-tree: $dir ran no test" >&2
        exit 1
fi
echo "ctest-tree: $dir: $passed passed, $failed failed"
exit $status
