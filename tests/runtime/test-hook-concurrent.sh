#!/bin/bash
# 32 containers created at once with runc, each asking for i915-GVTg_V5_8 on
# the seed GPU (7 instances): exactly 7 get one, 25 fail with the clear "no
# instance left" message, no mdev is shared, and after all are deleted
# nothing is left in sysfs or the ledger.
# Run as: tests/sim/with-sim tests/runtime/test-hook-concurrent.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
OUT=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR" "$OUT")
trap rt_cleanup EXIT
N=${N:-32}
BUNDLES=()

for i in $(seq $N); do
	b=$(mktemp -d)
	rt_track runc "conc-$i-$$" "$b"
	BUNDLES[$i]=$b
	make_bundle "$b" sleep 1000 >/dev/null
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'i915-GVTg_V5_8'; c['linux']['cgroupsPath'] = '/conc-$i-$$'"
	add_hooks "$b" createRuntime
done
# runc create runs createRuntime hooks; the containers stay created, holding
# their vGPUs, until deleted.
for i in $(seq $N); do
	b=${BUNDLES[$i]}
	(cd "$b" && runc create "conc-$i-$$" </dev/null >"$OUT/$i.out" 2>&1; echo $? > "$OUT/$i.rc") &
done
wait
good=$(grep -lx 0 "$OUT"/*.rc | wc -l)
noinst=$(grep -l 'vgpu-hook: no instance of i915-GVTg_V5_8 left on 0000:00:02.0 (0 available)' "$OUT"/*.out | wc -l)
check "exactly 7 containers got a vGPU" 7 "$good"
check "25 failed with the clear 'no instance left' message" $((N - 7)) "$noinst"
check "7 mdevs and 7 ledger records" "7 7" "$(mdev_count) $(ledger_count)"
check "no mdev is shared: 7 distinct owners" 7 "$("$VGPUCTL" list | awk '{print $4}' | sort -u | grep -c owner=)"
check "V5_8 has none left" 0 "$(avail i915-GVTg_V5_8)"
for i in $(seq $N); do runc delete -f "conc-$i-$$" >/dev/null 2>&1; done
check "after all are deleted: nothing in sysfs or the ledger" "0 0" "$(mdev_count) $(ledger_count)"
check "counts back" "1 2 5 7" "$(echo $(avail i915-GVTg_V5_1) $(avail i915-GVTg_V5_2) $(avail i915-GVTg_V5_4) $(avail i915-GVTg_V5_8))"
finish
