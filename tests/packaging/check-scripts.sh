#!/usr/bin/env bash
# check-scripts.sh DIR — the Debian maintainer scripts in DIR: POSIX sh
# syntax, shellcheck when installed, and their behaviour with every
# command they call replaced by a stub that logs its arguments:
#   postinst configure (first install)  creates group and user "takt",
#                                        does not enable or start taktd
#   postinst configure OLD (upgrade)    creates nobody, touches no modes
#   prerm remove                         stops the service
#   unknown actions                      exit 1
set -euo pipefail
dir=$1

fail() {
        echo "check-scripts: FAIL: $*" >&2
        exit 1
}
for s in postinst prerm postrm; do
        [[ -f $dir/$s ]] || fail "$dir/$s is missing"
        sh -n "$dir/$s" || fail "$s: syntax"
        head -n1 "$dir/$s" | grep -qx '#!/bin/sh' || fail "$s: first line is not #!/bin/sh"
        if command -v shellcheck >/dev/null; then
                shellcheck -s sh "$dir/$s" || fail "$s: shellcheck"
        fi
done

stubs=$(mktemp -d)
trap 'rm -rf "$stubs"' EXIT
log=$stubs/calls.log
# getent answers "not found", so the scripts must create user and group.
for cmd in getent addgroup adduser chown chmod systemctl deb-systemd-helper deb-systemd-invoke rm \
        rmdir; do
        printf '#!/bin/sh\necho "%s $*" >>"%s"\n[ "%s" = getent ] && exit 2\nexit 0\n' \
                "$cmd" "$log" "$cmd" >"$stubs/$cmd"
        chmod +x "$stubs/$cmd"
done
run() {
        : >"$log"
        PATH=$stubs:/usr/bin:/bin sh "$dir/$1" "${@:2}" >/dev/null
}

run postinst configure "" || fail "postinst configure failed"
grep -q '^addgroup --system takt' "$log" || fail "postinst creates no group takt: $(cat "$log")"
grep -q '^adduser --system .*takt$' "$log" || fail "postinst creates no user takt: $(cat "$log")"
grep -q 'nologin' "$log" || fail "user takt gets a login shell"
if grep -Eq '^(systemctl|deb-systemd-helper|deb-systemd-invoke) .*(enable|start|restart)' "$log"; then
        fail "postinst enables or starts taktd on first install: $(cat "$log")"
fi
grep -q '^chmod 0640 /etc/takt/taktd.yaml' "$log" || fail "taktd.yaml not made 0640"

run postinst configure 0.0.9 || fail "postinst configure (upgrade) failed"
if grep -Eq '^(chown|chmod|systemctl enable|deb-systemd-helper enable)' "$log"; then
        fail "an upgrade changes modes or enables the unit: $(cat "$log")"
fi

if [[ -d /run/systemd/system ]]; then
        run prerm remove || fail "prerm remove failed"
        grep -q '^deb-systemd-invoke stop taktd.service' "$log" || fail "prerm does not stop taktd"
fi
run postrm purge || fail "postrm purge failed"

for s in postinst prerm postrm; do
        if run "$s" frobnicate 2>/dev/null; then
                fail "$s accepts an unknown action"
        fi
done
echo "check-scripts: postinst, prerm, postrm behave"
