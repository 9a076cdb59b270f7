#!/bin/bash
# Every test on a fresh Debian 12 machine, as root: installs what is
# missing, builds with -Werror (the kubelet plugin required; the
# per-container binaries static, the default), runs units, simulator,
# runtime, engines (dockerd and containerd on private roots), kubelet, fuzz
# and package suites (the .deb built on a fresh clone of HEAD), then a
# dynamic build (-Dstatic=false) under ASan+UBSan with the units, the
# simulator, kubelet and the sandbox's runtime tests, then the
# real-kernel VM tier (tests/vm/run).  VGPU_SKIP_VM=1 skips the VM tier and
# says so.  Exits non-zero on any failure.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
deps_install "${BUILD_DEPS[@]}" "${RUNTIME_DEPS[@]}" "${ENGINE_DEPS[@]}" "${FUZZ_DEPS[@]}" "${PACKAGE_DEPS[@]}"

setup() { # DIR ARGS...
	local d=$1
	shift
	if [ -d "$d" ]; then meson setup --reconfigure "$d" --werror "$@" >/dev/null; else meson setup "$d" --werror "$@" >/dev/null; fi
	meson compile -C "$d"
}

echo "== format (.clang-format)"
clang-format --dry-run --Werror $(git ls-files '*.c' '*.h' 2>/dev/null || find plugin oci-hook cdi tests -name '*.[ch]')

echo "== build (-Werror)"
setup build -Dkubelet=enabled
echo "== tests"
meson test -C build --print-errorlogs

echo "== dynamic ASan+UBSan build: unit, simulator and kubelet tests, the sandbox's runtime test"
setup build-asan -Dstatic=false -Db_sanitize=address,undefined -Db_lundef=false -Dfuzzers=disabled -Dkubelet=enabled
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --print-errorlogs --suite unit --suite sim --suite kubelet
meson test -C build-asan --print-errorlogs runtime-sandbox
unset ASAN_OPTIONS UBSAN_OPTIONS

if [ "${VGPU_SKIP_VM:-0}" = 1 ]; then
	echo "== real-kernel VM tier SKIPPED: VGPU_SKIP_VM=1"
else
	echo "== real-kernel VM tier"
	BUILD=$PWD/build tests/vm/run
fi
echo "== all tests passed"
