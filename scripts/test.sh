#!/usr/bin/env bash
# test.sh — the whole test suite, the way CI runs it (command 2 of README.md).
#
# 1. installs missing Debian packages (scripts/install-deps.sh),
# 2. configures and builds build/ (RelWithDebInfo) and build-asan/
#    (AddressSanitizer + UndefinedBehaviorSanitizer), and compiles Release and
#    Debug trees (every build type must build without a warning),
# 3. runs ctest inside tests/harness/with-postgres.sh, which gives
#    the integration tests a throwaway PostgreSQL 15 (scripts/ctest-tree.sh):
#    every test in build-asan/, and in build/ the unit tests plus those that
#    need an unsanitized binary (valgrind, the Debian package); and a
#    bounded libFuzzer run of the dialect engine (build-fuzz/, clang).
#
# Fails when a build fails, a test fails, or a tree runs no test at all. Ends
# with one "takt: N passed, N failed" line. Budget: under 10 minutes on 2 cores.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
JOBS=${TAKT_JOBS:-2}
start=$SECONDS

phase() {
        printf '\n=== %s (%ds) ===\n' "$*" $((SECONDS - start))
}

phase "dependencies"
bash scripts/install-deps.sh </dev/null

# configure_build DIR CMAKE_ARGS...: configure (first time) and build one tree.
configure_build() {
        local dir=$1
        shift
        phase "configure $dir"
        mkdir -p "$dir"
        cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir/configure.log" 2>&1 ||
                {
                        cat "$dir/configure.log"
                        return 1
                }
        phase "build $dir"
        cmake --build "$dir" -j"$JOBS"
}
configure_build build -DTAKT_SANITIZE=OFF
configure_build build-asan -DTAKT_SANITIZE=ON
# Release (-O3) and Debug (-O0) warn about different things: both must build
# with -Werror too. They are compiled, not tested (build/ and build-asan/ are).
configure_build build-release -DCMAKE_BUILD_TYPE=Release
configure_build build-debug -DCMAKE_BUILD_TYPE=Debug
# The dialect engine's libFuzzer target needs clang; only that target is built.
phase "configure build-fuzz"
mkdir -p build-fuzz
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTAKT_SANITIZE=ON \
        -DTAKT_FUZZ=ON >build-fuzz/configure.log 2>&1 || {
        cat build-fuzz/configure.log
        exit 1
}
phase "build build-fuzz"
cmake --build build-fuzz -j"$JOBS" -t fuzz_dialect

HARNESS=tests/harness/with-postgres.sh
if [[ ! -f $HARNESS ]]; then
        echo "test.sh: $HARNESS is missing: integration tests cannot get a PostgreSQL" >&2
        exit 1
fi

# Sanitizer reports must fail the test that caused them.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

passed=0
failed=0
status=0
# The unsanitized tree runs its unit tests and what needs a plain binary
# (valgrind, the Debian package); the sanitizer tree runs everything.
for tree in build build-asan build-fuzz; do
        phase "tests in $tree"
        counts=$(mktemp)
        mode=all
        [[ $tree == build ]] && mode=plain
        [[ $tree == build-fuzz ]] && mode=fuzz
        if ! bash "$HARNESS" bash scripts/ctest-tree.sh "$tree" "$counts" "$mode" </dev/null; then
                status=1
        fi
        read -r p f <"$counts" || { p=0; f=1; }
        rm -f "$counts"
        passed=$((passed + p))
        failed=$((failed + f))
done

elapsed=$((SECONDS - start))
phase "done"
if ((elapsed > 600)); then
        echo "test.sh: WARNING: the suite took ${elapsed}s, over its 600 s budget" >&2
fi
if ((passed + failed == 0)); then
        echo "test.sh: no test ran" >&2
        status=1
fi
echo "takt: $passed passed, $failed failed"
exit $status
