#!/bin/bash
# vgpu-hook gives runc and crun containers SR-IOV VFs on the simulator
# (sriov.conf: the PF 0000:00:02.0 under i915, seven VFs under i915).  The
# annotation asks for `vf` (or auto, which takes a VF here); inside the
# container the group node carries the VF's group numbers and open() gives
# ENXIO; after the container is gone the VF is back under i915 with its
# driver_override empty and no record is left.  A running container's VF
# stops `vgpuctl sriov disable`; the eighth container gets the "no VF left"
# line; a held VF's poststop is bounded, the record releasing until gc; a
# failed claim leaves nothing.
# Run as: VGPU_SIM_CONFIG=tests/sim/sriov.conf tests/sim/with-sim tests/runtime/test-sriov.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR")
trap rt_cleanup EXIT
PF=0000:00:02.0
PCI=$VGPU_SYSFS_ROOT/bus/pci
major=$(sed -n 's/^group-major //p' "$VGPU_SIM_CONTROL")
group_of() { basename "$(readlink "$PCI/devices/$1/iommu_group")"; }

probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n $(stat -c %t:%T $n)"; cat $n 2>&1 | sed "s/^/OPEN /";; esac; done; true'
hex2dec() { python3 -c 'import sys; a,b=sys.argv[1].split(":"); print(f"{int(a,16)}:{int(b,16)}")' "$1"; }

# vf_bundle DIR ID REQUEST [ARGS...]: a busybox bundle asking for REQUEST, the hook at createRuntime.
vf_bundle() {
	local b=$1 id=$2 req=$3
	shift 3
	make_bundle "$b" "$@"
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = '$req'; c['linux']['cgroupsPath'] = '/$id'"
	add_hooks "$b" createRuntime
}

for runtime in runc crun; do
	for req in vf auto; do
		name="$runtime $req"
		b=$(mktemp -d)
		id="s-$runtime-$req-$$"
		rt_track "$runtime" "$id" "$b"
		vf_bundle "$b" "$id" "$req" sh -c "$probe"
		out=$(cd "$b" && rt "$runtime" run "$id" 2>&1)
		g=$(group_of 0000:00:02.1)
		check "$name: one group node, the first free VF's group" "/dev/vfio/$g" \
			"$(printf '%s\n' "$out" | awk '/^NODE/ {print $2}' | paste -sd' ')"
		check "$name: the node carries the group's numbers" "$major:$g" \
			"$(hex2dec "$(printf '%s\n' "$out" | awk '/^NODE/ {print $3; exit}')")"
		check "$name: open() gives ENXIO (allowed; the simulator's major has no driver)" \
			"OPEN cat: can't open '/dev/vfio/$g': No such device or address" "$(printf '%s\n' "$out" | grep '^OPEN')"
		check "$name: after the container: no record, every VF back under i915, driver_override empty" \
			"0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"
		[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'
	done
done

# --- a running container's VF
b=$(mktemp -d); id="s-run-$$"; rt_track runc "$id" "$b"
vf_bundle "$b" "$id" vf sh -c 'sleep 300'
(cd "$b" && runc create "$id" </dev/null >/dev/null 2>&1) && runc start "$id"
v=$("$VGPUCTL" list | awk '{print $1}')
check "a running container holds a VF: vgpuctl list names it and the container" "0000:00:02.1 $PF vf owner=$id state=active" \
	"$("$VGPUCTL" list)"
pid=$(runc state "$id" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "its /dev has the VF's group node" "/dev/vfio/$(group_of "$v")" "$(ls -d "/proc/$pid/root/dev/vfio/$(group_of "$v")" 2>&1 | sed "s|^/proc/$pid/root||")"
expect_fail "vgpuctl sriov disable is refused while it holds the VF" \
	"^vgpuctl: PF $PF: VF $v is held by $id \(state active\): release it first" "$VGPUCTL" sriov disable "$PF"
expect_fail "vgpuctl release of the running container's VF is refused" \
	"^vgpuctl: $id is running \(pid $pid\) and holds VF $v: stop it first, or --force" "$VGPUCTL" release --owner "$id"
runc kill "$id" KILL; sleep 0.3
runc delete "$id"
check "after runc delete (poststop): given back" "0 $VF_ALL_I915" "$(ledger_count) $(vf_states)"
ok "now sriov disable works" "$VGPUCTL" sriov disable "$PF"
ok "... and enable 7 again" "$VGPUCTL" sriov enable "$PF" 7

# --- seven containers hold the seven VFs; the eighth gets the clear line
for i in 1 2 3 4 5 6 7; do
	b=$(mktemp -d); rt_track runc "s-fill$i-$$" "$b"
	vf_bundle "$b" "s-fill$i-$$" vf sh -c 'true'
	(cd "$b" && runc create "s-fill$i-$$" </dev/null >/dev/null 2>&1)
done
check "seven created containers hold seven VFs" "7 7" "$(ledger_count) $(vfio_pci_count)"
b=$(mktemp -d); rt_track runc "s-eighth-$$" "$b"
vf_bundle "$b" "s-eighth-$$" vf sh -c 'true'
out=$(cd "$b" && runc run "s-eighth-$$" 2>&1)
check "the eighth fails with the clear line" 1 \
	"$(printf '%s\n' "$out" | grep -c "vgpu-hook: no VF left on $PF (0 available): every enabled VF is held or not free")"
check "... and takes nothing" "7 7" "$(ledger_count) $(vfio_pci_count)"
for i in 1 2 3 4 5 6 7; do runc delete -f "s-fill$i-$$" >/dev/null 2>&1; done
check "the seven deleted: every VF given back" "0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"

# --- a held VF: poststop gives up within its bound, gc gives the VF back once it is let go
b=$(mktemp -d); id="s-held-$$"; rt_track runc "$id" "$b"
vf_bundle "$b" "$id" vf sh -c 'true'
bundle_edit "$b" "c['hooks']['poststop'] = [$(hook_json poststop --release-timeout-ms 500)]"
(cd "$b" && runc create "$id" </dev/null >/dev/null 2>&1)
v=$("$VGPUCTL" list | awk '{print $1}')
printf 'block-unbind %s' "$v" >"$VGPU_SIM_CONTROL"
t0=$(date +%s%N)
runc delete -f "$id" >/dev/null 2>&1
ms=$((($(date +%s%N) - t0) / 1000000))
check "runc delete of the held VF's container returns within the bound (well under 5 s)" 1 "$((ms < 5000))"
check "the record is releasing" "$v $PF vf owner=$id state=releasing" "$("$VGPUCTL" list)"
check "gc keeps it while it is held" "1" "$("$VGPUCTL" gc --timeout-ms 300 2>&1 | grep -c "^kept .*release pending")"
printf 'unblock-unbind %s' "$v" >"$VGPU_SIM_CONTROL"
for i in $(seq 50); do [ "$(pci_driver "$v")" = none ] && break; sleep 0.1; done
ok "once it is let go, gc gives it back" "$VGPUCTL" gc
check "... back under i915, driver_override empty, no record" "0 $VF_ALL_I915" "$(ledger_count) $(vf_states)"

# --- a claim that fails leaves nothing
printf 'fail-probe EINVAL' >"$VGPU_SIM_CONTROL"
b=$(mktemp -d); rt_track runc "s-fail-$$" "$b"
vf_bundle "$b" "s-fail-$$" vf sh -c 'true'
out=$(cd "$b" && runc run "s-fail-$$" 2>&1)
check "vfio-pci's probe fails: the container fails with the line that says so" 1 \
	"$(printf '%s\n' "$out" | grep -c "vgpu-hook: claiming VF 0000:00:02.1 of $PF: vfio-pci's probe did not take it")"
check "... nothing left" "0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"
finish
