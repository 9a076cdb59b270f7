#!/bin/bash
# vgpu-hook with real runtimes on the simulator: runc and crun, hook in
# config.json at prestart and at createRuntime.  Inside the container the
# group node carries the group's major:minor, open() gives ENXIO (allowed by
# the device cgroup; the simulator's major has no driver) while an undeclared
# device stays EPERM; after the container is gone so are the mdev and the
# ledger record.  Run as: tests/sim/with-sim tests/runtime/test-hook-runc-crun.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR")
trap rt_cleanup EXIT
# the simulator's driverless group major, from a throwaway mdev
u=$("$VGPUCTL" allocate --owner probe-major --type auto --json)
major=$(printf '%s' "$u" | python3 -c 'import json,sys; print(json.load(sys.stdin)["mdevs"][0]["group_dev"].split(":")[0])')
"$VGPUCTL" release --owner probe-major

# The container reports what it sees, one fact a line.
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n $(stat -c %t:%T $n)"; cat $n 2>&1 | sed "s/^/OPEN /"; esac; done
cat /tmp/undeclared 2>&1 | sed "s/^/UNDECLARED /"; cat /dev/vfio/vfio 2>&1 | sed "s/^/CONTAINER /"; true'

hex2dec() { python3 -c 'import sys; a,b=sys.argv[1].split(":"); print(f"{int(a,16)}:{int(b,16)}")' "$1"; }

for runtime in runc crun; do
	for stage in prestart createRuntime; do
		name="$runtime $stage"
		b=$(mktemp -d)
		id="t-$runtime-$stage-$$"
		rt_track "$runtime" "$id" "$b"
		make_bundle "$b" sh -c "$probe"
		mknod "$b/rootfs/tmp/undeclared" c "$major" 200 # same driverless major, never allowed: EPERM
		bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'i915-GVTg_V5_4'; c['linux']['cgroupsPath'] = '/$id'"
		add_hooks "$b" "$stage"
		out=$(cd "$b" && rt "$runtime" run "$id" 2>&1)
		node=$(printf '%s\n' "$out" | awk '/^NODE/ {print $2; exit}')
		check "$name: one group node in the container" 1 "$(printf '%s\n' "$out" | grep -c '^NODE')"
		if [ -n "$node" ]; then
			g=${node##*/}
			# the mdev is gone now; its numbers came from the simulator's class/vfio
			check "$name: node carries the group's major:minor" "$major:$g" "$(hex2dec "$(printf '%s\n' "$out" | awk '/^NODE/ {print $3; exit}')")"
		fi
		check "$name: open() of the group node gives ENXIO, not EPERM" "OPEN cat: can't open '$node': No such device or address" "$(printf '%s\n' "$out" | grep '^OPEN')"
		check "$name: an undeclared device is still EPERM" "UNDECLARED cat: can't open '/tmp/undeclared': Operation not permitted" "$(printf '%s\n' "$out" | grep '^UNDECLARED')"
		check "$name: after delete no mdev and no ledger record" "0 0" "$(mdev_count) $(ledger_count)"
		[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'
	done
done

# --- the env request: an image's env is no request unless the admin said so
b=$(mktemp -d); rt_track runc "t-env-$$" "$b"
make_bundle "$b" sh -c 'ls /dev/vfio'
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto'); c['linux']['cgroupsPath'] = '/t-env-$$'"
add_hooks "$b" createRuntime
out=$(cd "$b" && runc run "t-env-$$" 2>&1)
check "env INTEL_VGPU=auto without --accept-env: refused, the runtime says why" 1 \
	"$(printf '%s\n' "$out" | grep -c 'env INTEL_VGPU=auto asks for a vGPU, but this hook takes requests from the annotation intel.com/vgpu or CDI only')"
check "env INTEL_VGPU=auto without --accept-env: nothing made" "0 0" "$(mdev_count) $(ledger_count)"
runc delete -f "t-env-$$" >/dev/null 2>&1
b=$(mktemp -d); rt_track runc "t-env2-$$" "$b"
make_bundle "$b" sh -c 'ls /dev/vfio'
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto'); c['linux']['cgroupsPath'] = '/t-env2-$$'"
add_hooks "$b" createRuntime --accept-env
out=$(cd "$b" && runc run "t-env2-$$" 2>&1)
check "env INTEL_VGPU=auto with --accept-env gets a group node" 1 "$(printf '%s\n' "$out" | grep -cE '^[0-9]+$')"

b=$(mktemp -d); rt_track runc "t-none-$$" "$b"
make_bundle "$b" sh -c 'ls /dev/vfio 2>&1'
add_hooks "$b" createRuntime
out=$(cd "$b" && runc run "t-none-$$" 2>&1)
check "no request: no node, no ledger" "ls: /dev/vfio: No such file or directory|0" "$out|$(ledger_count)"
check "no request: nothing created" 0 "$(mdev_count)"

# --- createRuntime failure: runc aborts; nothing is left
b=$(mktemp -d); rt_track runc "t-fail-$$" "$b"
make_bundle "$b" sh -c 'true'
bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'i915-GVTg_V9_9'"
add_hooks "$b" createRuntime
out=$(cd "$b" && runc run "t-fail-$$" 2>&1)
check "unknown type fails the container with a clear message" 1 "$(printf '%s\n' "$out" | grep -c 'vgpu-hook: unknown type i915-GVTg_V9_9')"
check "unknown type: nothing left" "0 0" "$(mdev_count) $(ledger_count)"

echo "hide-iommu-group on" > "$VGPU_SIM_CONTROL"
b=$(mktemp -d); rt_track crun "t-nogroup-$$" "$b"
make_bundle "$b" sh -c 'true'
bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'"
add_hooks "$b" createRuntime
out=$(cd "$b" && rt crun run "t-nogroup-$$" 2>&1)
echo reset > "$VGPU_SIM_CONTROL"
# crun does not pass a hook's stderr on; the hook's own message is tested in test-hook-failures.sh
check "crun: device without IOMMU group fails the container" 1 "$(printf '%s\n' "$out" | grep -ci 'error executing hook')"
check "crun: no poststop after a failed createRuntime, yet nothing left" "0 0" "$(mdev_count) $(ledger_count)"
finish
