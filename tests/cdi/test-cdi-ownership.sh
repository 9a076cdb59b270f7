#!/bin/bash
# CDI owners on the simulator with podman 4.3.1: two dynamic devices of one
# container give it two vGPUs, never one silently; a pool spec goes to its
# own file by default, beside the dynamic spec; two pool specs never share a
# slot; claims' prepare and unprepare never interleave; a claim id that
# could break a line is quoted in the error.
# Run as: tests/sim/with-sim tests/cdi/test-cdi-ownership.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/lib-cdi.sh"
cdi_private_ns "$@"
cdi_setup
POOL_DEFAULT=$CDI_DIR/intel.com-vgpu-pool.json
type_of() { basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$1/mdev_type")"; }

# --- two dynamic devices in one container: two vGPUs
ok "generate the dynamic spec" cdi generate --hook-path "$VGPU_HOOK"
cid=$(pm_run -d --device intel.com/vgpu=i915-GVTg_V5_8 --device intel.com/vgpu=i915-GVTg_V5_2 -- sh -c 'sleep 300' 2>&1)
check "two devices: podman runs the container" 0 "$?"
check "two devices: two mdevs, one of each type, both the container's" "2 i915-GVTg_V5_2 i915-GVTg_V5_8 $cid $cid" \
	"$(mdev_count) $(for u in $(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices"); do type_of "$u"; done | sort | xargs) $(for u in $(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices"); do ledger_owner "$u"; done | xargs)"
out=$(pm exec "$cid" sh -c "$PROBE" 2>&1)
check "two devices: the container sees two group nodes, both open (ENXIO)" "2 OPEN No such device or address" \
	"$(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]') $(opens "$out")"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "two devices: podman rm released both" "0 0" "$(mdev_count) $(ledger_count)"

# --- a pool spec without --output: its own file; the dynamic spec stays
dyn=$(sha256sum <"$CDI_SPEC")
ok "generate --pool i915-GVTg_V5_4=1 without --output" cdi generate --pool i915-GVTg_V5_4=1
check "the pool went to its own file, the dynamic spec is untouched" "yes $dyn" \
	"$([ -f "$POOL_DEFAULT" ] && echo yes) $(sha256sum <"$CDI_SPEC")"
out=$(pm_run --rm --device intel.com/vgpu=auto -- sh -c "$PROBE" 2>&1)
check "auto still resolves beside the pool (one group node)" "0 1" "$? $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
out=$(pm_run --rm --device intel.com/vgpu=0 -- sh -c "$PROBE" 2>&1)
check "the pool's device 0 resolves too" "0 1" "$? $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"

# --- two pool specs: each its own slots
A=$CDI_DIR/a-pool.json B=$CDI_DIR/b-pool.json
ok "pool A of one" cdi generate --pool i915-GVTg_V5_4=1 --output "$A"
ua=$(cdi list --output "$A" | sed -n 's|^intel.com/vgpu=\([0-9a-f-]\{36\}\)$|\1|p')
ok "pool B of one" cdi generate --pool i915-GVTg_V5_4=1 --output "$B"
ub=$(cdi list --output "$B" | sed -n 's|^intel.com/vgpu=\([0-9a-f-]\{36\}\)$|\1|p')
check "A and B hold different mdevs, A's still alive after B's generate" "yes yes" \
	"$([ -n "$ua" ] && [ -n "$ub" ] && [ "$ua" != "$ub" ] && echo yes) $(mdev_exists "$ua" && echo yes)"
ok "B shrinks to nothing but a new type" cdi generate --pool i915-GVTg_V5_8=1 --output "$B"
check "A's slot survives B's change; A still fresh" "yes 0" "$(mdev_exists "$ua" && echo yes) $(cdi check --output "$A" >/dev/null; echo $?)"
ok "remove B" cdi remove --output "$B"
ok "remove A" cdi remove --output "$A"
ok "remove the default pool" cdi remove --output "$POOL_DEFAULT"
check "the pools are gone, nothing else" "0 0" "$(mdev_count) $(ledger_count)"

# --- claims: prepare and unprepare of one claim never interleave
bad=0
for i in $(seq 1 25); do
	cdi prepare --claim race --type auto >/dev/null 2>&1 &
	p=$!
	cdi unprepare --claim race >/dev/null 2>&1
	wait $p
	spec=$CDI_DIR/intel.com-vgpu_race.json
	if [ -f "$spec" ]; then
		u=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["devices"][0]["containerEdits"]["env"]; print([e.split("=",1)[1] for e in d if e.startswith("VGPU_MDEV_UUID=")][0])' "$spec")
		mdev_exists "$u" || bad=$((bad + 1))
	elif [ "$(mdev_count)" != 0 ]; then
		bad=$((bad + 1))
	fi
	cdi unprepare --claim race >/dev/null 2>&1
done
check "25 prepare/unprepare races: the spec never names a removed mdev, no mdev without a spec" 0 "$bad"
check "races: nothing left" "0 0" "$(mdev_count) $(ledger_count)"
EXPECT_RC=2 expect_fail "a claim id with a newline: one line, quoted" '^vgpu-cdi: --claim "a\\x0ab" is not a claim id' \
	cdi prepare --claim "$(printf 'a\nb')" --type auto
finish
