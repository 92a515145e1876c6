#!/usr/bin/env bash
# test-deb.sh SOURCE_DIR — builds the Debian package from the tree the way
# docs/operations.md says (a fresh tree with -DCMAKE_INSTALL_PREFIX=/usr,
# `cpack -G DEB`) and checks it without installing it on this machine:
#   control     package name, Depends (adduser + shared libraries), scripts
#   conffiles   /etc/takt/taktd.yaml and every shipped dialect
#   contents    taktd, the unit, configuration, man page, docs; nothing in
#               /usr/local, no simulator, no test binaries
#   extracted   (dpkg-deb -x into a throwaway root) taktd runs, accepts the
#               shipped configuration from /etc/takt, the unit passes
#               check-unit.sh, the maintainer scripts check-scripts.sh
#   lintian     when installed: no errors
set -euo pipefail
src=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_type=${TAKT_DEB_BUILD_TYPE:-RelWithDebInfo}

fail() {
        echo "test-deb: FAIL: $*" >&2
        exit 1
}
for tool in cpack dpkg-deb dpkg-shlibdeps fakeroot; do
        command -v "$tool" >/dev/null || fail "$tool is missing"
done
grep -q 'include(packaging/cpack.cmake)' "$src/CMakeLists.txt" ||
        fail "the root CMakeLists.txt does not include packaging/cpack.cmake"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "test-deb: configuring and building taktd in $work/build ($build_type)"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_INSTALL_PREFIX=/usr \
        >"$work/configure.log" 2>&1 || fail "configure: $(tail -20 "$work/configure.log")"
cmake --build "$work/build" -j2 -t taktd >"$work/build.log" 2>&1 ||
        fail "build: $(grep -m5 error "$work/build.log")"
(cd "$work/build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || fail "cpack: $(tail -20 "$work/cpack.log")"
debs=("$work"/build/takt_*.deb)
[[ -f ${debs[0]} && ${#debs[@]} -eq 1 ]] || fail "expected one takt_*.deb, got: ${debs[*]}"
deb=${debs[0]}
echo "test-deb: built $(basename "$deb")"

# --- control --------------------------------------------------------------
info=$(dpkg-deb -I "$deb")
[[ $(dpkg-deb -f "$deb" Package) == takt ]] || fail "package is not named takt"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in adduser libevent libpq5 librdkafka libjansson libyaml libssl3 libjemalloc2; do
        grep -q "$dep" <<<"$depends" || fail "Depends lacks $dep: $depends"
done
for script in postinst prerm postrm conffiles; do
        grep -q " $script" <<<"$info" || fail "control archive lacks $script"
done

# --- conffiles ------------------------------------------------------------
mkdir "$work/control"
dpkg-deb -e "$deb" "$work/control"
want_conf=$(printf '/etc/takt/taktd.yaml\n'; for d in "$src"/conf/dialects/*.yaml; do
        echo "/etc/takt/dialects/$(basename "$d")"
done)
diff <(sort "$work/control/conffiles") <(sort <<<"$want_conf") ||
        fail "conffiles differ from the configuration files (above)"

# --- contents -------------------------------------------------------------
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/sbin/taktd ./lib/systemd/system/taktd.service ./etc/takt/taktd.yaml \
        ./usr/share/man/man8/taktd.8.gz ./usr/share/doc/takt/copyright \
        ./usr/share/doc/takt/operations.md; do
        grep -qx "$path" <<<"$contents" || fail "$path is not in the package"
done
for d in "$src"/conf/dialects/*.yaml; do
        grep -qx "./etc/takt/dialects/$(basename "$d")" <<<"$contents" || fail "dialect $d missing"
done
if grep -E '^\./usr/local/|takt-sim|/test_' <<<"$contents"; then
        fail "the package carries files it must not (above)"
fi

# --- extracted ------------------------------------------------------------
root=$work/root
dpkg-deb -x "$deb" "$root"
"$root/usr/sbin/taktd" --version | grep -q '^taktd ' || fail "the packaged taktd does not run"
# the shipped configuration, read from the package's /etc/takt with the demo
# secrets: dialects_dir resolves against the file's folder
(set -a && . "$src/conf/demo.env" && set +a &&
        "$root/usr/sbin/taktd" --check-config --config "$root/etc/takt/taktd.yaml") ||
        fail "the packaged taktd refuses the packaged configuration"
bash "$here/check-unit.sh" "$root/lib/systemd/system/taktd.service" "$root/usr/sbin/taktd"
bash "$here/check-scripts.sh" "$work/control"
if command -v man >/dev/null; then
        warn=$(man --warnings -l -Tutf8 "$root/usr/share/man/man8/taktd.8.gz" 2>&1 >/dev/null)
        [[ -z $warn ]] || fail "man page warnings: $warn"
fi

# --- lintian --------------------------------------------------------------
if command -v lintian >/dev/null; then
        errors=$(lintian --tag-display-limit 0 "$deb" 2>&1 | grep '^E:' || true)
        [[ -z $errors ]] || fail "lintian errors:
$errors"
        echo "test-deb: lintian: no errors"
else
        echo "test-deb: lintian not installed; contents checked with dpkg-deb only"
fi
echo "test-deb: OK"
