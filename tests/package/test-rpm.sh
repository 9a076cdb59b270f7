#!/bin/bash
# The RPM recipe: `rpmspec -P` accepts it, its version is meson's, and its
# %files are exactly what `meson install` puts in place with the options
# its %build passes (every installed file covered, every entry installed).
. "$(dirname "$0")/../lib.sh"
SPEC=$REPO/packaging/rpm/vgpu-toolkit.spec
command -v rpmspec >/dev/null || { echo "1..0 # SKIP rpmspec (rpm) is not installed (scripts/deps.sh installs it)"; exit 0; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

rpmspec -P "$SPEC" >"$T/spec" 2>"$T/err"
check "rpmspec -P accepts the spec" "0" "$?$(sed 's/^/ /' "$T/err")"
check "its version is meson's" "$(sed -n "s/^  version: '\(.*\)',/\1/p" "$REPO/meson.build")" \
	"$(rpmspec -q --srpm --queryformat '%{version}' "$SPEC" 2>/dev/null)"

# meson with %build's options (from the parsed spec), installed under a DESTDIR
opts=$(sed -n '/^%meson /,/^%meson_build/p' "$T/spec" | grep -o -- '-D[a-z_]*=[^ \\]*' | paste -sd' ')
check "%build passes the package options" 1 "$(echo "$opts" | grep -c -- '-Dtests=false')"
# shellcheck disable=SC2086
meson setup "$T/build" "$REPO" --prefix=/usr --sysconfdir=/etc $opts >"$T/setup.log" 2>&1 &&
	meson install -C "$T/build" --destdir "$T/root" >"$T/install.log" 2>&1
check "meson builds and installs with them" 0 "$?$(tail -5 "$T/setup.log" "$T/install.log" | sed 's/^/ /')"
(cd "$T/root" && find . -type f -o -type l | sed 's|^\.||' | sort) >"$T/installed"
sed -n '/^%files/,/^%changelog/p' "$T/spec" | grep '^/\|^%dir\|^%config' | sed 's/^%[a-z]*\((noreplace)\)\{0,1\} //' >"$T/files"
python3 - "$T/installed" "$T/files" >"$T/diff" <<'PY'
import fnmatch, sys
installed = open(sys.argv[1]).read().split()
entries = open(sys.argv[2]).read().split()
def covers(e, f):
    return fnmatch.fnmatch(f, e) or (e.endswith("/") and f.startswith(e))
for f in installed:
    if not any(covers(e, f) for e in entries):
        print("installed, not in %files:", f)
for e in entries:
    if not any(covers(e, f) or f.startswith(e.rstrip("/") + "/") for f in installed):
        print("in %files, not installed:", e)
PY
check "%files and meson install agree ($(wc -l <"$T/installed") files)" "" "$(cat "$T/diff")"
finish
