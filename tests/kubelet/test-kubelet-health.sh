#!/bin/bash
# Health on two simulated GPUs: a GPU that goes (the simulator's
# remove-parent, as when its driver unregisters it) makes its devices
# Unhealthy in ListAndWatch within 5 s, and Healthy again when it is back,
# in both modes (pool mode makes its own mdevs again, same UUIDs); a GPU
# whose budget another type takes holds fewer of the type; an adopted pool
# mdev removed under the plugin is Unhealthy until it is made again; one of
# the plugin's own is made again with its UUID.  Prints the latencies.
# Run as: VGPU_SIM_CONFIG=tests/sim/two-gpus.conf tests/sim/with-sim tests/kubelet/test-kubelet-health.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup
T=i915-GVTg_V5_4
A=0000:00:02.0
B=0000:03:00.0
ctl() { echo "$1" >"$VGPU_SIM_CONTROL"; }
# changed WHAT PATTERN T0: wait up to 5 s for a list after T0 matching
# PATTERN; checks it and prints how long it took.
has_list() { [ -n "$(list_time "$1" "$2")" ]; }
healthy_count_is() { [ "$(last_list | grep -c ':Healthy$')" = "$1" ]; }
changed() {
	local t
	wait_for 5 has_list "$2" "$3"
	t=$(list_time "$2" "$3")
	check "$1: within 5 s" yes "$([ -n "$t" ] && echo yes)"
	[ -n "$t" ] && echo "# $1 after $(ms "$3" "$t") ms"
}

# --- dynamic mode
plugin_start
kubelet_start
wait_for 10 kcount_above list 0
check "dynamic: all 12 Healthy" 12 "$(last_list | grep -c ':Healthy$')"
t0=$(now)
ctl "remove-parent $B"
changed "dynamic: GPU $B gone, its 7 devices Unhealthy" "^$B-6:Unhealthy" "$t0"
check "dynamic: the other GPU's stay Healthy" "5 7" \
	"$(last_list | grep -c "^$A-.*:Healthy$") $(last_list | grep -c "^$B-.*:Unhealthy$")"
check "dynamic: one line per device, saying why" 7 "$(plugin_lines "device $B-[0-6]: Unhealthy: GPU $B is gone$")"
t0=$(now)
ctl "add-parent $B"
changed "dynamic: GPU $B back, Healthy" "^$B-6:Healthy" "$t0"
check "dynamic: all 12 Healthy again" 12 "$(last_list | grep -c ':Healthy$')"
t0=$(now)
"$VGPUCTL" allocate --owner other --type i915-GVTg_V5_1 --parent $A >/dev/null
changed "dynamic: a V5_1 takes most of $A's budget: it holds 1 of $T" "^$A-1:Unhealthy" "$t0"
check "dynamic: $A-0 Healthy, $A-1..4 Unhealthy, saying why" "1 4 4" \
	"$(last_list | grep -c "^$A-0:Healthy") $(last_list | grep -c "^$A-[1-4]:Unhealthy") $(plugin_lines "device $A-[1-4]: Unhealthy: GPU $A holds 1 of $T now \(other types use its budget\)")"
"$VGPUCTL" release --owner other
wait_for 5 list_is "$(dynamic_expected $T)"
check "dynamic: released, Healthy again" "$(dynamic_expected $T)" "$(last_list)"
plugin_stop TERM

# --- pool mode: its own on both GPUs, and an mdevctl one on A
m0=$(uuidgen)
mkdir -p "$KB_T/mdevctl/$A"
printf '{"mdev_type": "%s", "start": "auto", "attrs": []}\n' $T >"$KB_T/mdevctl/$A/$m0"
echo "$m0" >"$VGPU_SYSFS_ROOT/class/mdev_bus/$A/mdev_supported_types/$T/create"
n=$(kcount list)
plugin_start --mode pool --pool-size 2 --adopt --mdevctl-dir "$KB_T/mdevctl"
wait_for 10 kcount_above list "$n"
check "pool: 2 of its own on each GPU and the mdevctl one, Healthy" 5 "$(last_list | grep -c ':Healthy$')"
b_own=$("$VGPUCTL" list | awk -v p=$B '$2 == p { print $1 }' | sort | tr '\n' ' ')
t0=$(now)
ctl "remove-parent $B"
changed "pool: GPU $B gone, its members Unhealthy" "^$(echo "$b_own" | cut -d' ' -f1):Unhealthy" "$t0"
check "pool: both of $B's Unhealthy, the rest Healthy" "2 3" \
	"$(last_list | grep -c ':Unhealthy$') $(last_list | grep -c ':Healthy$')"
check "pool: said why" 2 "$(plugin_lines "device [0-9a-f-]{36}: Unhealthy: GPU $B is gone$")"
t0=$(now)
ctl "add-parent $B"
changed "pool: GPU $B back, its members made again, Healthy" "^$(echo "$b_own" | cut -d' ' -f1):Healthy" "$t0"
wait_for 5 list_is "$(last_list | sed 's/:Unhealthy$/:Healthy/')"
check "pool: the same UUIDs on $B, all 5 Healthy" "$b_own 5" \
	"$("$VGPUCTL" list | awk -v p=$B '$2 == p { print $1 }' | sort | tr '\n' ' ') $(last_list | grep -c ':Healthy$')"
check "pool: logged as made again" 2 "$(plugin_lines "pool: made mdev [0-9a-f-]{36} \($T on $B\) again for $OWNER_PREFIX")"

t0=$(now)
echo 1 >"$VGPU_SYSFS_ROOT/bus/mdev/devices/$m0/remove"
changed "pool: the mdevctl mdev removed under it, Unhealthy" "^$m0:Unhealthy" "$t0"
check "pool: said why" 1 "$(plugin_lines "device $m0: Unhealthy: mdev $m0 is gone$")"
check "pool: an adopted mdev is not the plugin's to make again" "no" \
	"$([ -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$m0" ] && echo yes || echo no)"
t0=$(now)
echo "$m0" >"$VGPU_SYSFS_ROOT/class/mdev_bus/$A/mdev_supported_types/$T/create"
changed "pool: made again by its owner (as mdevctl start does), Healthy" "^$m0:Healthy" "$t0"

own=$(echo "$b_own" | cut -d' ' -f1)
echo 1 >"$VGPU_SYSFS_ROOT/bus/mdev/devices/$own/remove"
wait_for 5 test -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$own"
check "pool: one of its own removed by hand is made again, same UUID" "yes ${OWNER_PREFIX}" \
	"$([ -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$own" ] && echo yes) $("$VGPUCTL" list | awk -v u="$own" '$1 == u { sub("owner=", "", $4); sub("[0-9]+$", "", $4); print $4 }')"
wait_for 5 healthy_count_is 5
check "pool: all 5 Healthy at the end" 5 "$(last_list | grep -c ':Healthy$')"
finish
