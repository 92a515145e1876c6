#!/usr/bin/env bash
# check-unit.sh UNIT TAKTD — the systemd unit passes `systemd-analyze verify`
# and `systemd-analyze security` with an exposure of at most 2.0, and every
# directive that grants something carries a comment saying why.
#
# verify needs the unit's ExecStart binary and the system's units, so both
# go into a throwaway root (/usr/sbin/taktd = TAKTD, /bin/kill, and a copy of
# /lib/systemd/system) checked with --root.
set -euo pipefail
unit=$1
taktd=$2
max_exposure=2.0

fail() {
        echo "check-unit: FAIL: $*" >&2
        exit 1
}
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (apt-get install systemd)"
[[ -f $unit ]] || fail "$unit is missing"
[[ -x $taktd ]] || fail "$taktd is missing"

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/sbin" "$root/bin" "$root/lib/systemd/system"
cp -a /lib/systemd/system/. "$root/lib/systemd/system/"
cp "$taktd" "$root/usr/sbin/taktd"
cp "$(type -P kill)" "$root/bin/kill"
cp "$unit" "$root/lib/systemd/system/taktd.service"

out=$(systemd-analyze verify --root="$root" taktd.service 2>&1) || fail "verify: $out"
[[ -z $out ]] || fail "verify is not clean: $out"
echo "check-unit: systemd-analyze verify clean"

sec=$(systemd-analyze security --offline=yes --root="$root" taktd.service 2>&1) || true
exposure=$(sed -n 's/.*Overall exposure level for taktd.service: \([0-9.]*\).*/\1/p' <<<"$sec")
[[ -n $exposure ]] || fail "no exposure level in: $sec"
awk -v e="$exposure" -v m="$max_exposure" 'BEGIN { exit !(e <= m) }' ||
        fail "exposure $exposure is above $max_exposure:
$(grep -E '^✗' <<<"$sec")"
echo "check-unit: exposure $exposure (at most $max_exposure)"

# Directives that grant a permission need their reason in a comment within
# the three lines above them.
grants='^(User|Group|SupplementaryGroups|RestrictAddressFamilies|SystemCallFilter|CapabilityBoundingSet|AmbientCapabilities|ReadWritePaths|ReadOnlyPaths|DeviceAllow|LimitNOFILE|LimitMEMLOCK|EnvironmentFile|ExecStartPre|ExecReload|WatchdogSec|TimeoutStopSec|NotifyAccess|Restart)='
awk -v grants="$grants" '
        /^[[:space:]]*#/ { last_comment = NR; next }
        $0 ~ grants && NR - last_comment > 3 { printf "line %d: %s has no reason next to it\n", NR, $0; bad = 1 }
        END { exit bad }' "$unit" || fail "a permission without its reason (above)"
echo "check-unit: every permission kept has its reason"
