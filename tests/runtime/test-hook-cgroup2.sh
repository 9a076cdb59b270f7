#!/bin/bash
# cgroup v2: in a private mount namespace with only cgroup2 mounted at
# /sys/fs/cgroup, runc attaches its own BPF device program; vgpu-hook at
# createRuntime replaces it with one that also allows the vGPU nodes, so the
# container opens its group node (ENXIO: the simulator's major has no driver).
# The same container with the hook's cgroup step switched off gets EPERM.
# Run as: tests/sim/with-sim tests/runtime/test-hook-cgroup2.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR")
trap rt_cleanup EXIT

# runc inside a cgroup2-only view of /sys/fs/cgroup; nothing leaks to the host's mounts
runc_v2() {
	unshare -m --propagation private sh -c \
		'umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec runc "$@"' sh "$@"
}
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) cat $n 2>&1 | sed "s/^/OPEN /";; esac; done; cat /proc/self/cgroup | sed "s/^/CG /"'

for mode in with-cgroup-step no-cgroup-step; do
	b=$(mktemp -d)
	id="v2-$mode-$$"
	RT_DIRS+=("$b")
	make_bundle "$b" sh -c "$probe"
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$id'"
	if [ $mode = with-cgroup-step ]; then add_hooks "$b" createRuntime; else add_hooks "$b" createRuntime --no-cgroup; fi
	out=$(cd "$b" && runc_v2 run "$id" 2>&1)
	runc_v2 delete -f "$id" >/dev/null 2>&1
	check "$mode: the container runs in a cgroup2-only hierarchy" "CG 0::/$id" "$(printf '%s\n' "$out" | grep '^CG 0::')"
	if [ $mode = with-cgroup-step ]; then
		want="No such device or address"
	else
		want="Operation not permitted"
	fi
	check "$mode: open() of the group node: $want" 1 "$(printf '%s\n' "$out" | grep -c "^OPEN .*$want")"
	check "$mode: released after the container" "0 0" "$(mdev_count) $(ledger_count)"
	[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'
done
finish
