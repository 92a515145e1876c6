#!/usr/bin/env bash
# install-deps.sh — installs every Debian 12 package that takt needs to build,
# test, run and benchmark, and nothing else. Idempotent: when every package is
# already installed it does not touch apt at all (no update, no network).
# Needs root only when something is missing.
set -euo pipefail

# One line per package, with what it is for.
PACKAGES=(
        build-essential      # gcc, make, libc headers
        cmake                # the build
        pkg-config           # dependency discovery in CMakeLists.txt
        libevent-dev         # event loop, HTTP server and client
        libjansson-dev       # JSON
        libpq-dev            # PostgreSQL client library
        librdkafka-dev       # Kafka producer and the embedded mock cluster
        libssl-dev           # TLS, HMAC-SHA256
        libyaml-dev          # configuration file
        libjemalloc-dev      # taktd's allocator (docs/architecture.md, "Memory allocator")
        libcmocka-dev        # unit tests
        postgresql-15        # server for integration tests and scripts/run.sh
        postgresql-client-15 # psql, pgbench
        kcat                 # e2e tests read Kafka topics back
        prometheus           # promtool check metrics in e2e tests
        python3              # e2e test runner
        python3-pytest       # e2e test framework (Debian's, never pip)
        curl                 # manual checks, scripts
        valgrind             # e2e_valgrind: the daemon under memcheck
        clang                # fuzz targets, clang-format
        libclang-rt-14-dev   # libFuzzer runtime (bounded fuzz run in the suite)
)

missing=()
for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        if [[ "$status" != "installed" ]]; then
                missing+=("$pkg")
        fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
        echo "install-deps: all ${#PACKAGES[@]} packages already installed"
        exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
        echo "install-deps: missing packages: ${missing[*]}" >&2
        echo "install-deps: run as root (sudo bash scripts/install-deps.sh)" >&2
        exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
