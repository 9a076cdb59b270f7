#!/bin/bash
# Ownership with runc on the simulator: an owner is a container instance, not
# a name.  A reused id whose runtime state was lost gets a fresh vGPU and gc
# never takes it from the live container; a second live container with the
# same id (another runc root) is refused and its poststop leaves the first
# one's vGPU; a container named like a CDI pool slot gets a vGPU of its own;
# a running container's vGPU is released only with --force, which takes its
# node and its device cgroup access away first, so the group number the next
# container gets gives the old tenant EPERM, not ENXIO.
# Run as: tests/sim/with-sim tests/runtime/test-ownership.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
R1=$(mktemp -d) R2=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR" "$R1" "$R2")
RUNNING=()
N=0
cleanup() {
	local c
	for c in "${RUNNING[@]}"; do runc --root "${c%%:*}" delete -f "${c#*:}" >/dev/null 2>&1; done
	"$VGPUCTL" gc --unbound-after 1 >/dev/null 2>&1
	rmdir /sys/fs/cgroup/*/vgpu-own-$$-* 2>/dev/null # what a SIGKILLed container left
	rt_cleanup
}
trap cleanup EXIT

# start ROOT ID [ANNOTATION]: a detached busybox container with the hook at
# createRuntime and poststop; its bundle in BUNDLE.
start() {
	local root=$1 id=$2 b
	b=$(mktemp -d)
	RT_DIRS+=("$b")
	make_bundle "$b" sleep 1000
	N=$((N + 1))
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = '${3:-i915-GVTg_V5_4}'; c['linux']['cgroupsPath'] = '/vgpu-own-$$-$N'"
	add_hooks "$b" createRuntime
	RUNNING+=("$root:$id")
	BUNDLE=$b
	(cd "$b" && runc --root "$root" run -d "$id" </dev/null >/dev/null 2>"$b/err")
}
init_pid() { runc --root "$1" state "$2" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])'; }
# record FIELD OWNER: a field of the owner's one ledger record
record() { "$VGPUCTL" list --json | python3 -c 'import json,sys; print(*[str(m.get(sys.argv[1])) for m in json.load(sys.stdin) if m.get("owner") == sys.argv[2]])' "$1" "$2"; }
group_of() { record iommu_group "$1"; }
# inside ROOT ID NODE-NAME MAJ MIN: open() of a node with these numbers,
# made in the container's /dev from outside (through /proc/PID/root), as the
# container sees it
inside() {
	local root=$1 id=$2 name=$3
	mknod "/proc/$(init_pid "$root" "$id")/root/dev/$name" c "$4" "$5"
	runc --root "$root" exec "$id" sh -c "cat /dev/$name 2>&1 | head -1"
}
major=""

# --- 1. a reused id: the dead instance's vGPU is reclaimed, the new one gets its own
start "$R1" reuse
u1=$(record uuid reuse)
check "reuse: the first container has a vGPU" 1 "$(printf '%s' "$u1" | grep -cE '^[0-9a-f-]{36}$')"
major=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print([m for m in json.load(sys.stdin) if m.get("owner") == "reuse"][0]["group_dev"].split(":")[0])')
kill -9 "$(init_pid "$R1" reuse)"
sleep 0.2
rm -rf "$R1" && mkdir "$R1" # runc's state is lost: no delete, no poststop
start "$R2" reuse
u2=$(record uuid reuse)
check "reuse: the new container with the dead one's id gets a fresh vGPU" "yes yes" \
	"$([ -n "$u2" ] && [ "$u2" != "$u1" ] && echo yes) $([ ! -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$u1" ] && echo yes)"
check "reuse: one record, bound to the new container's pid" "1 $(init_pid "$R2" reuse)" "$(ledger_count) $(record pid reuse)"
gc=$("$VGPUCTL" gc)
check "reuse: gc takes nothing from the live container" "nothing to reclaim|$u2" "$gc|$(record uuid reuse)"
g2=$(group_of reuse)
check "reuse: the new container opens its group: ENXIO" "cat: can't open '/dev/vfio/$g2': No such device or address" \
	"$(runc --root "$R2" exec reuse sh -c "cat /dev/vfio/$g2 2>&1")"
start "$R2" other
gy=$(group_of other)
check "reuse: another container's group is EPERM in the reused one" "cat: can't open '/dev/y': Operation not permitted" \
	"$(inside "$R2" reuse y "$major" "$gy")"
runc --root "$R2" delete -f other >/dev/null 2>&1

# --- 2. a second live container with the same id, in another runc root
start "$R1" reuse
check "twin: the second live container with the id is refused" "1" \
	"$(grep -c 'container reuse: another live container with this id (pid [0-9]*) holds mdev' "$BUNDLE/err")"
check "twin: its poststop left the first one's vGPU" "$u2 1" "$(record uuid reuse) $(ledger_count)"
check "twin: the first still opens its group: ENXIO" "cat: can't open '/dev/vfio/$g2': No such device or address" \
	"$(runc --root "$R2" exec reuse sh -c "cat /dev/vfio/$g2 2>&1")"
runc --root "$R1" delete -f reuse >/dev/null 2>&1
runc --root "$R2" delete -f reuse >/dev/null 2>&1
check "twin: deleting the first releases its vGPU" "0 0" "$(mdev_count) $(ledger_count)"

# --- 3. a container named like a CDI pool slot
"$VGPU_CDI" generate --pool i915-GVTg_V5_4=1 --output "$VGPU_STATE_DIR/pool.json" >/dev/null
pool=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print(*[m["uuid"] for m in json.load(sys.stdin) if m.get("owner_kind") == "cdi-pool"])')
start "$R1" cdi-pool.0
mine=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print(*[m["uuid"] for m in json.load(sys.stdin) if m.get("owner_kind") == "container"])')
check "slot name: the container gets a vGPU of its own, not the pool's" "yes" "$([ -n "$mine" ] && [ "$mine" != "$pool" ] && echo yes)"
runc --root "$R1" delete -f cdi-pool.0 >/dev/null 2>&1
check "slot name: its poststop leaves the pool's mdev" "1 $pool" "$(mdev_count) $(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices")"
"$VGPU_CDI" remove --output "$VGPU_STATE_DIR/pool.json"
check "slot name: the pool goes with its spec" "0 0" "$(mdev_count) $(ledger_count)"

# --- 4. release of a running container's vGPU: refused, or forced with its access taken first
start "$R1" tenant
ut=$(record uuid tenant)
gt=$(group_of tenant)
EXPECT_RC=1 expect_fail "release of a running container: refused without --force" \
	"^vgpuctl: tenant is running \(pid [0-9]+\) and holds mdev $ut: stop it first, or --force" \
	"$VGPUCTL" release --owner tenant
check "refused: the vGPU is still the tenant's" "$ut" "$(record uuid tenant)"
ok "release --force of a running container" "$VGPUCTL" release --owner tenant --force
check "forced: the mdev and its record are gone" "0 0" "$(mdev_count) $(ledger_count)"
check "forced: the tenant's node is gone from its /dev" "ls: /dev/vfio/$gt: No such file or directory" \
	"$(runc --root "$R1" exec tenant sh -c "ls /dev/vfio/$gt 2>&1")"
start "$R1" next
gn=$(group_of next)
check "forced: the next container got the recycled group number" "$gt" "$gn"
check "forced: the next container opens it: ENXIO" "cat: can't open '/dev/vfio/$gn': No such device or address" \
	"$(runc --root "$R1" exec next sh -c "cat /dev/vfio/$gn 2>&1")"
check "forced: the old tenant gets EPERM on the recycled node, not ENXIO" \
	"cat: can't open '/dev/recycled': Operation not permitted" "$(inside "$R1" tenant recycled "$major" "$gn")"
runc --root "$R1" delete -f next >/dev/null 2>&1
runc --root "$R1" delete -f tenant >/dev/null 2>&1
check "at the end nothing is left" "0 0" "$(mdev_count) $(ledger_count)"
finish
