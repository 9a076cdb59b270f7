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

# The ledger lock is not held across the kernel's create: with a slow create,
# 16 allocations at once overlap, race for the last instances, and the
# kernel's ENOSPC decides; the losers pick again and fail only when nothing
# is left.
echo "delay-create 50" >"$VGPU_SIM_CONTROL"
for i in $(seq 16); do
	("$VGPUCTL" allocate --owner "slow-$i" --type i915-GVTg_V5_8 >"$OUT/s$i.out" 2>&1; echo $? >"$OUT/s$i.rc") &
done
wait
echo "delay-create 0" >"$VGPU_SIM_CONTROL"
check "slow creates: exactly 7 allocations made" 7 "$(grep -lx 0 "$OUT"/s*.rc | wc -l)"
check "slow creates: 9 failed with the clear line" 9 \
	"$(grep -l '^vgpuctl: no instance of i915-GVTg_V5_8 left on 0000:00:02.0 (0 available)' "$OUT"/s*.out | wc -l)"
check "slow creates: 7 distinct mdevs, one per owner, none left creating" "7 7 7" \
	"$(cat "$OUT"/s*.out | grep -cE '^[0-9a-f-]{36}$') $("$VGPUCTL" list | awk '{print $4}' | sort -u | grep -c owner=) $("$VGPUCTL" list | grep -c 'state=active$')"
for i in $(seq 16); do "$VGPUCTL" release --owner "slow-$i" >/dev/null 2>&1; done
check "slow creates: all released, nothing left" "0 0" "$(mdev_count) $(ledger_count)"
finish
