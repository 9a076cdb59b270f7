#!/bin/bash
# `vgpuctl types` on a kernel whose GVT-g types have no `name` attribute
# (the simulator with old-kernel.conf): the same bytes as the real mdevctl
# 1.2.0 prints there, which is the seed's listing without its "Name:" lines.
# Run as: VGPU_SIM_CONFIG=tests/sim/old-kernel.conf tests/sim/with-sim tests/cli/test-types-old-kernel.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
types_dir=$VGPU_SYSFS_ROOT/class/mdev_bus/0000:00:02.0/mdev_supported_types

check "the simulated kernel has the seed's four types" 4 "$(ls "$types_dir" | wc -l)"
check "no type has a name attribute" 0 "$(ls "$types_dir"/*/name 2>/dev/null | wc -l)"
"$VGPUCTL" types >"$T/ours.txt"
check "vgpuctl types exits 0" 0 "$?"
grep -v '^    Name: ' "$REPO/tests/sim/seed-mdevctl-types.txt" >"$T/seed-without-names.txt"
check "vgpuctl types is the seed listing without Name lines, byte for byte" "same" \
	"$(cmp -s "$T/ours.txt" "$T/seed-without-names.txt" && echo same || diff "$T/seed-without-names.txt" "$T/ours.txt")"
check "types --json has name null for every type" "None None None None" \
	"$("$VGPUCTL" types --json | python3 -c 'import json,sys; print(*[t["name"] for t in json.load(sys.stdin)[0]["types"]])')"

if command -v mdevctl >/dev/null && command -v unshare >/dev/null; then
	unshare -m --propagation private bash -c '
		mount --rbind "$VGPU_SYSFS_ROOT" /sys || exit 1
		mdevctl types' >"$T/mdevctl.txt" 2>"$T/mdevctl.err"
	check "mdevctl types ran on the simulator" 0 "$?$(sed 's/^/ /' "$T/mdevctl.err")"
	check "vgpuctl types is what mdevctl types prints there, byte for byte" "same" \
		"$(cmp -s "$T/ours.txt" "$T/mdevctl.txt" && echo same || diff "$T/mdevctl.txt" "$T/ours.txt")"
else
	skip "the real mdevctl on the old kernel" "mdevctl or unshare is not installed"
fi
finish
