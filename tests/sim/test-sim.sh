#!/bin/bash
# Self-test of vgpu-sim: every behaviour the rest of the project relies on,
# checked the way a user would, through with-sim. Prints "ok"/"not ok"
# lines (TAP) and exits 1 if anything failed. Needs root (FUSE, mknod).
# BUILD=DIR selects the build tree (default <repo>/build).
# The simulator names every entry, so `ls | ...` is safe here:
# shellcheck disable=SC2010,SC2012
# Scenario bodies run in other shells, so single quotes are meant:
# shellcheck disable=SC2016
# Helpers and scenarios are called through export -f and bash -c:
# shellcheck disable=SC2317
#
#   test-sim.sh            run everything
#   test-sim.sh NAME...    run only the named scenarios (see `scenarios`)
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export BUILD="${BUILD:-$repo/build}"
WITH_SIM="$here/with-sim"
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT
export RESULTS

SEED_UUID=11111111-2222-4333-8444-555555555555
GPU=devices/pci0000:00/0000:00:02.0
TYPES=$GPU/mdev_supported_types

# ---- helpers, also used inside with-sim (exported) ----

pass() { echo "ok - $*" >>"$RESULTS"; }
fail() { echo "not ok - $*" >>"$RESULTS"; }

# expect DESC GOT WANT
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: got '$2', want '$3'"; fi
}

# sysw FILE DATA: one write(2) of DATA (printf escapes decoded); prints OK
# or the errno name of the open or the write, like a caller would see it.
sysw() {
	python3 - "$1" "$(printf '%b' "$2"; printf x)" <<'PY'
import errno, os, sys
path, data = sys.argv[1], sys.argv[2][:-1]
try:
    fd = os.open(path, os.O_WRONLY)
except OSError as e:
    print(errno.errorcode[e.errno]); sys.exit()
try:
    n = os.write(fd, data.encode())
    print("OK" if n == len(data.encode()) else "SHORT")
except OSError as e:
    print(errno.errorcode[e.errno])
PY
}

# open_errno PATH [rw|r]: errno name of open(2), or OK
open_errno() {
	python3 -c 'import errno, os, sys
try:
    os.close(os.open(sys.argv[1], os.O_RDWR if sys.argv[2] == "rw" else os.O_RDONLY)); print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "${2:-rw}"
}

# counts [TYPES_DIR]: available_instances of V5_1 V5_2 V5_4 V5_8
counts() {
	local d=${1:-$VGPU_SYSFS_ROOT/$TYPES} out="" t
	for t in 1 2 4 8; do out="$out $(cat "$d/i915-GVTg_V5_$t/available_instances")"; done
	echo "${out# }"
}

mk() { sysw "$VGPU_SYSFS_ROOT/$TYPES/i915-GVTg_V5_$1/create" "$2"; }
rmdev() { sysw "$VGPU_SYSFS_ROOT/bus/mdev/devices/$1/remove" "${2:-1}"; }
ctl() { sysw "$VGPU_SIM_CONTROL" "$1"; }
uuid_n() { printf '%08x-0000-4000-8000-%012x' "$1" "$1"; }

# nodes_match N: DEV/vfio/N is a 0600 char node whose numbers are those
# in class/vfio/N/dev
node_of() {
	local n=$1 majmin maj min
	majmin=$(cat "$VGPU_SYSFS_ROOT/class/vfio/$n/dev") || return 1
	maj=${majmin%:*} min=${majmin#*:}
	printf '%x:%x %s %s' "$maj" "$min" 600 "character special file"
}

export -f pass fail expect sysw open_errno counts mk rmdev ctl uuid_n node_of
export SEED_UUID GPU TYPES

# run_sim NAME BODY-FUNCTION [CONFIG]: runs a scenario inside with-sim
run_sim() {
	local name=$1 fn=$2 config=${3:-}
	# shellcheck disable=SC2163 # exports the function named by $fn
	export -f "$fn"
	if ! VGPU_SIM_CONFIG="$config" timeout 120 "$WITH_SIM" bash -c "$fn"; then
		fail "$name: scenario exited non-zero"
	fi
}

# ---- scenarios (each runs inside its own simulator) ----

s_layout() {
	local r=$VGPU_SYSFS_ROOT t
	expect "initial counts 1/2/5/7" "$(counts)" "1 2 5 7"
	expect "class/mdev_bus link" "$(readlink "$r/class/mdev_bus/0000:00:02.0")" "../../devices/pci0000:00/0000:00:02.0"
	expect "realpath of class/mdev_bus entry" "$(realpath "$r/class/mdev_bus/0000:00:02.0")" "$r/$GPU"
	t=$r/$TYPES/i915-GVTg_V5_4
	expect "name" "$(cat "$t/name")" "GVTg_V5_4"
	expect "device_api" "$(cat "$t/device_api")" "vfio-pci"
	expect "description (joined)" "$(paste -sd, "$t/description" | sed 's/,/, /g')" \
		"low_gm_size: 128MB, high_gm_size: 512MB, fence: 4, resolution: 1920x1200, weight: 4"
	expect "description V5_8" "$(paste -sd, "$r/$TYPES/i915-GVTg_V5_8/description")" \
		"low_gm_size: 64MB,high_gm_size: 384MB,fence: 4,resolution: 1024x768,weight: 2"
	expect "description V5_1 weight" "$(tail -n1 "$r/$TYPES/i915-GVTg_V5_1/description")" "weight: 16"
	expect "modes" "$(stat -c '%a' "$t" "$t/create" "$t/available_instances" "$t/devices" | paste -sd' ')" "755 200 444 755"
	expect "attr size like sysfs" "$(stat -c %s "$t/name")" 4096
	expect "type listing" "$(ls "$t" | paste -sd' ')" "available_instances create description device_api devices name"
	expect "reading create is EACCES" "$(open_errno "$t/create" r)" EACCES
	expect "writing name is EACCES" "$(sysw "$t/name" x)" EACCES
	expect "new file in sysfs is EACCES" "$( (echo x >"$r/$TYPES/newfile") 2>&1 | grep -o 'Permission denied')" \
		"Permission denied"
	expect "unknown type create is ENOENT" "$(sysw "$r/$TYPES/i915-GVTg_V5_3/create" "$SEED_UUID")" ENOENT
	expect "dev/vfio/vfio" "$(stat -c '%t:%T %a %F' "$VGPU_DEV_ROOT/vfio/vfio")" "a:c4 666 character special file"
	expect "find runs clean" "$(find "$r" >/dev/null 2>&1 && echo yes)" yes
	expect "control file readable" "$(grep -c . "$VGPU_SIM_CONTROL")" 11
}

s_create() {
	local r=$VGPU_SYSFS_ROOT u=AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE l=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee d
	expect "create uppercase + newline" "$(mk 4 "$u\n")" OK
	d=$r/$GPU/$l
	expect "device dir is lowercase" "$([ -d "$d" ] && echo yes)" yes
	expect "counts after one V5_4" "$(counts)" "1 2 4 6"
	expect "iommu_group link" "$(readlink "$d/iommu_group")" "../../../../kernel/iommu_groups/0"
	expect "iommu_group resolves" "$(readlink -f "$d/iommu_group")" "$r/kernel/iommu_groups/0"
	expect "mdev_type link" "$(readlink "$d/mdev_type")" "../mdev_supported_types/i915-GVTg_V5_4"
	expect "remove mode" "$(stat -c %a "$d/remove")" 200
	expect "bus link" "$(readlink "$r/bus/mdev/devices/$l")" "../../../$GPU/$l"
	expect "type devices link" "$(readlink "$r/$TYPES/i915-GVTg_V5_4/devices/$l")" "../../../$l"
	expect "group devices link" "$(readlink "$r/kernel/iommu_groups/0/devices/$l")" "../../../../$GPU/$l"
	expect "group name" "$(cat "$r/kernel/iommu_groups/0/name")" vfio-noiommu
	expect "vfio-dev without dev file" "$(ls "$d/vfio-dev/vfio0" | wc -l)" 0
	expect "class/vfio dev" "$(cat "$r/class/vfio/0/dev")" "$(sed -n 's/^group-major //p' "$VGPU_SIM_CONTROL"):0"
	expect "node matches class/vfio/0/dev" "$(stat -c '%t:%T %a %F' "$VGPU_DEV_ROOT/vfio/0")" "$(node_of 0)"
	expect "open of group node is ENXIO" "$(open_errno "$VGPU_DEV_ROOT/vfio/0")" ENXIO
	expect "uuid + two newlines is EINVAL" "$(mk 8 "$SEED_UUID\n\n")" EINVAL
	expect "short uuid is EINVAL" "$(mk 8 "${SEED_UUID:1}")" EINVAL
	expect "bad uuid text is EINVAL" "$(mk 8 "${SEED_UUID/4333/4g33}")" EINVAL
	expect "EEXIST across types" "$(mk 8 "$l")" EEXIST
	expect "EEXIST across case" "$(mk 2 "$u")" EEXIST
	expect "empty write does nothing" "$(mk 8 "")$(ls "$r/bus/mdev/devices" | wc -l)" OK1
	expect "37th character is not checked (guid_parse)" "$(mk 8 "${SEED_UUID}x")" OK
	expect "bash printf write" "$(printf %s "$SEED_UUID" 2>&1 >"$r/$TYPES/i915-GVTg_V5_8/create" | grep -o 'write error.*')" \
		"write error: File exists"
	expect "bus listing" "$(ls "$r/bus/mdev/devices" | paste -sd' ')" "$SEED_UUID $l"
}

s_exhaust() {
	local i out=""
	for i in 1 2 3 4 5 6 7; do out="$out$(mk 8 "$(uuid_n "$i")") "; done
	expect "seven V5_8" "$out" "OK OK OK OK OK OK OK "
	expect "counts exhausted" "$(counts)" "0 0 0 0"
	expect "eighth V5_8 is ENOSPC" "$(mk 8 "$(uuid_n 8)")" ENOSPC
	expect "V5_1 is ENOSPC" "$(mk 1 "$(uuid_n 9)")" ENOSPC
	expect "bash sees ENOSPC" \
		"$(printf %s "$(uuid_n 8)" 2>&1 >"$VGPU_SYSFS_ROOT/$TYPES/i915-GVTg_V5_8/create" | grep -o 'write error.*')" \
		"write error: No space left on device"
	expect "remove one" "$(rmdev "$(uuid_n 3)")" OK
	expect "counts after one remove" "$(counts)" "0 0 1 1"
	for i in 1 2 4 5 6 7; do rmdev "$(uuid_n "$i")" >/dev/null; done
	expect "counts restored" "$(counts)" "1 2 5 7"
	expect "nodes gone" "$(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" vfio
	expect "groups gone" "$(ls "$VGPU_SYSFS_ROOT/kernel/iommu_groups" "$VGPU_SYSFS_ROOT/class/vfio" | grep -c '^[0-9]')" 0
}

s_remove() {
	local r=$VGPU_SYSFS_ROOT d=$VGPU_SYSFS_ROOT/$GPU/$SEED_UUID
	mk 4 "$SEED_UUID" >/dev/null
	expect "remove 0 is a no-op" "$(rmdev "$SEED_UUID" 0)$([ -d "$d" ] && echo .there)" OK.there
	expect "remove abc is EINVAL" "$(rmdev "$SEED_UUID" abc)" EINVAL
	expect "remove 1\\n\\n is EINVAL" "$(rmdev "$SEED_UUID" '1\n\n')" EINVAL
	expect "remove 1\\n removes" "$(rmdev "$SEED_UUID" '1\n')$([ -e "$d" ] || echo .gone)" OK.gone
	expect "remove after gone is ENOENT" "$(sysw "$d/remove" 1)" ENOENT
	expect "bus entry gone" "$(ls "$r/bus/mdev/devices" | wc -l)" 0
	expect "counts back" "$(counts)" "1 2 5 7"
	expect "node gone" "$([ -e "$VGPU_DEV_ROOT/vfio/0" ] || echo gone)" gone
	expect "class/vfio gone" "$([ -e "$r/class/vfio/0" ] || echo gone)" gone
	mk 4 "$SEED_UUID" >/dev/null
	echo 1 >"$d/remove"
	expect "echo 1 > remove" "$([ -e "$d" ] || echo gone)" gone
}

s_groups() {
	local a b c d
	a=$(uuid_n 1) b=$(uuid_n 2) c=$(uuid_n 3) d=$(uuid_n 4)
	mk 8 "$a" >/dev/null; mk 8 "$b" >/dev/null; mk 8 "$c" >/dev/null
	expect "groups 0 1 2" "$(ls "$VGPU_SYSFS_ROOT/kernel/iommu_groups" | paste -sd' ')" "0 1 2"
	rmdev "$b" >/dev/null
	mk 8 "$d" >/dev/null
	expect "freed group 1 reused" "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$d/iommu_group")" \
		"../../../../kernel/iommu_groups/1"
	expect "node 1 for the new device" "$(stat -c '%t:%T %a %F' "$VGPU_DEV_ROOT/vfio/1")" "$(node_of 1)"
	expect "vfio-dev index reused" "$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices/$d/vfio-dev")" vfio1
	expect "dev/char link" "$(readlink "$VGPU_SYSFS_ROOT/dev/char/$(cat "$VGPU_SYSFS_ROOT/class/vfio/1/dev")")" \
		"../../devices/virtual/vfio/1"
}

s_faults() {
	local r=$VGPU_SYSFS_ROOT t0 t1
	expect "fail-create ENOSPC" "$(ctl 'fail-create ENOSPC')" OK
	expect "control shows it" "$(head -n1 "$VGPU_SIM_CONTROL")" "fail-create ENOSPC 1"
	expect "next create fails" "$(mk 4 "$(uuid_n 1)")" ENOSPC
	expect "nothing created" "$(ls "$r/bus/mdev/devices" | wc -l) $(counts)" "0 1 2 5 7"
	expect "then creates work" "$(mk 4 "$(uuid_n 1)")" OK
	expect "two commands in one write" "$(ctl 'fail-create EIO 2\ndelay-create 0')" OK
	expect "two EIO" "$(mk 4 "$(uuid_n 2)") $(mk 2 "$(uuid_n 2)") $(mk 2 "$(uuid_n 2)")" "EIO EIO OK"
	expect "unknown command is EINVAL" "$(ctl 'explode now')" EINVAL
	expect "bad errno name is EINVAL" "$(ctl 'fail-create ENOTANERRNO')" EINVAL
	expect "a bad line changes nothing" "$(ctl 'fail-create EBUSY\nbogus')$(head -n1 "$VGPU_SIM_CONTROL")" "EINVALfail-create off"
	ctl 'delay-create 300' >/dev/null
	t0=$(date +%s%N)
	mk 8 "$(uuid_n 3)" >/dev/null
	t1=$(date +%s%N)
	expect "delay-create 300 ms" "$(( (t1 - t0) / 1000000 >= 300 ))" 1
	ctl 'delay-remove 200' >/dev/null
	t0=$(date +%s%N)
	rmdev "$(uuid_n 3)" >/dev/null
	t1=$(date +%s%N)
	expect "delay-remove 200 ms" "$(( (t1 - t0) / 1000000 >= 200 ))" 1
	expect "reset" "$(ctl reset)$(sed -n '1,3p' "$VGPU_SIM_CONTROL" | paste -sd' ')" \
		"OKfail-create off delay-create 0 delay-remove 0"
}

s_block() {
	local r=$VGPU_SYSFS_ROOT u=$SEED_UUID other wpid t0
	other=$(uuid_n 7)
	mk 4 "$u" >/dev/null
	mk 4 "$other" >/dev/null
	expect "block-remove" "$(ctl "block-remove $u")" OK
	rmdev "$u" >"$r/../blocked.out" &
	wpid=$!
	sleep 0.5
	expect "remove write still blocked" "$(kill -0 "$wpid" 2>/dev/null && echo blocked)" blocked
	expect "device whole while blocked" "$(ls "$r/$GPU/$u" | paste -sd' ') $([ -e "$VGPU_DEV_ROOT/vfio/0" ] && echo node)" \
		"driver iommu_group mdev_type remove subsystem uevent vfio-dev node"
	expect "others served while blocked" "$(timeout 2 cat "$r/$TYPES/i915-GVTg_V5_4/available_instances")" 3
	expect "other removes go on" "$(timeout 2 bash -c "rmdev $other")" OK
	expect "second remove returns at once" "$(timeout 2 bash -c "rmdev $u")" OK
	expect "control shows block" "$(grep '^block-remove' "$VGPU_SIM_CONTROL")" "block-remove $u"
	ctl "unblock-remove $u" >/dev/null
	t0=0
	while kill -0 "$wpid" 2>/dev/null && [ "$t0" -lt 40 ]; do sleep 0.05; t0=$((t0 + 1)); done
	wait "$wpid"
	expect "unblocked remove completes" "$(cat "$r/../blocked.out")" OK
	expect "device gone after unblock" "$([ -e "$r/$GPU/$u" ] || echo gone)" gone
	mk 8 "$u" >/dev/null
	ctl "block-remove all" >/dev/null
	rmdev "$u" >/dev/null &
	wpid=$!
	sleep 0.3
	expect "block-remove all blocks" "$(kill -0 "$wpid" 2>/dev/null && echo blocked)" blocked
	ctl "reset" >/dev/null
	wait "$wpid"
	expect "reset unblocks" "$([ -e "$r/$GPU/$u" ] || echo gone)" gone

	mk 4 "$u" >/dev/null
	ctl "block-remove $u\nblocked-view kernel" >/dev/null
	rmdev "$u" >/dev/null &
	wpid=$!
	for t0 in $(seq 60); do [ -e "$r/$GPU/$u/remove" ] || break; sleep 0.05; done
	expect "kernel view: what stays" "$(ls "$r/$GPU/$u" | paste -sd' ') $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" \
		"iommu_group vfio-dev 0 vfio"
	expect "kernel view: links gone" "$(ls "$r/bus/mdev/devices" | wc -l)$(ls "$r/$TYPES/i915-GVTg_V5_4/devices" | wc -l)" 00
	expect "kernel view: budget not back yet" "$(counts)" "1 2 4 6"
	expect "kernel view: second remove is ENOENT" "$(sysw "$r/$GPU/$u/remove" 1)" ENOENT
	expect "kernel view: uuid still taken" "$(mk 8 "$u")" EEXIST
	ctl "unblock-remove $u" >/dev/null
	wait "$wpid"
	expect "kernel view: gone after unblock" "$([ -e "$r/$GPU/$u" ] || echo gone) $(counts)" "gone 1 2 5 7"
}

# SIGTERM while a remove is blocked: the simulator unblocks and exits 0.
s_block_term() {
	local wpid i
	mk 4 "$SEED_UUID" >/dev/null
	ctl "block-remove all" >/dev/null
	rmdev "$SEED_UUID" >/dev/null 2>&1 &
	wpid=$!
	sleep 0.3
	kill -TERM "$VGPU_SIM_PID"
	for i in $(seq 50); do kill -0 "$VGPU_SIM_PID" 2>/dev/null || break; sleep 0.1; done
	expect "simulator exits on SIGTERM during blocked remove" "$(kill -0 "$VGPU_SIM_PID" 2>/dev/null || echo exited)" exited
	wait "$wpid"
	expect "mount gone" "$(grep -c " $VGPU_SYSFS_ROOT " /proc/self/mounts)" 0
	expect "nodes removed on exit" "$(ls -A "$VGPU_DEV_ROOT")" ""
}

s_hide() {
	local r=$VGPU_SYSFS_ROOT a b
	a=$(uuid_n 1) b=$(uuid_n 2)
	ctl "hide-iommu-group on" >/dev/null
	mk 4 "$a" >/dev/null
	expect "hidden: no iommu_group" "$(ls "$r/bus/mdev/devices/$a" | paste -sd' ')" "driver mdev_type remove subsystem uevent"
	expect "hidden: no node, no group" "$(ls "$VGPU_DEV_ROOT/vfio" "$r/kernel/iommu_groups" | grep -c '^[0-9]')" 0
	ctl "hide-iommu-group off" >/dev/null
	mk 4 "$b" >/dev/null
	expect "after off: group 0" "$(readlink "$r/bus/mdev/devices/$b/iommu_group")" "../../../../kernel/iommu_groups/0"
	expect "hide existing" "$(ctl "hide-iommu-group $b")" OK
	expect "hidden existing: link, node gone" \
		"$([ -e "$r/bus/mdev/devices/$b/iommu_group" ] || [ -e "$VGPU_DEV_ROOT/vfio/0" ] || echo gone)" gone
	expect "hide unknown is ENOENT" "$(ctl "hide-iommu-group $(uuid_n 9)")" ENOENT
	expect "hidden devices still remove" "$(rmdev "$a") $(rmdev "$b") $(counts)" "OK OK 1 2 5 7"
}

s_two_gpus() {
	local r=$VGPU_SYSFS_ROOT t2=devices/pci0000:00/0000:00:1c.0/0000:03:00.0 u
	expect "two parents" "$(ls "$r/class/mdev_bus" | paste -sd' ')" "0000:00:02.0 0000:03:00.0"
	expect "second parent counts" "$(counts "$r/$t2/mdev_supported_types")" "1 3 7 8"
	u=$(uuid_n 1)
	expect "create on second" "$(sysw "$r/$t2/mdev_supported_types/i915-GVTg_V5_4/create" "$u")" OK
	expect "budgets are per parent" "$(counts) / $(counts "$r/$t2/mdev_supported_types")" "1 2 5 7 / 1 3 6 7"
	expect "deeper iommu_group link" "$(readlink "$r/$t2/$u/iommu_group")" "../../../../../kernel/iommu_groups/0"
	expect "deeper link resolves" "$(readlink -f "$r/bus/mdev/devices/$u/iommu_group")" "$r/kernel/iommu_groups/0"
	expect "EEXIST across parents" "$(mk 4 "$u")" EEXIST
	expect "groups are global" "$(mk 4 "$(uuid_n 2)")$(readlink "$r/$GPU/$(uuid_n 2)/iommu_group")" \
		"OK../../../../kernel/iommu_groups/1"
}

# remove-parent / add-parent: the GPU leaves class/mdev_bus with its mdevs
# (mdev_unregister_parent), the other GPU is untouched; back, it has its
# whole budget and no mdev.
s_parent() {
	local r=$VGPU_SYSFS_ROOT t2=devices/pci0000:00/0000:00:1c.0/0000:03:00.0 a b c wpid
	a=$(uuid_n 1) b=$(uuid_n 2) c=$(uuid_n 3)
	mk 4 "$a" >/dev/null
	mk 8 "$b" >/dev/null
	sysw "$r/$t2/mdev_supported_types/i915-GVTg_V5_4/create" "$c" >/dev/null
	expect "remove-parent" "$(ctl "remove-parent 0000:00:02.0")" OK
	expect "removed: gone from class/mdev_bus" "$(ls "$r/class/mdev_bus" | paste -sd' ')" "0000:03:00.0"
	expect "removed: its mdevs, types, groups and nodes are gone" \
		"$(ls "$r/bus/mdev/devices" | paste -sd' ') $([ -e "$r/$TYPES" ] || echo no-types) $(ls "$r/kernel/iommu_groups" | paste -sd' ') $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" \
		"$c no-types 2 2 vfio"
	expect "removed: the PCI device stays" "$([ -d "$r/$GPU" ] && echo yes)" yes
	expect "control shows it" "$(grep '^removed-parents' "$VGPU_SIM_CONTROL")" "removed-parents 0000:00:02.0"
	expect "remove-parent twice is fine" "$(ctl "remove-parent 0000:00:02.0")" OK
	expect "unknown parent is ENOENT" "$(ctl "remove-parent 0000:99:00.0")" ENOENT
	expect "add-parent" "$(ctl "add-parent 0000:00:02.0")" OK
	expect "back: whole budget, no mdev" "$(ls "$r/class/mdev_bus" | paste -sd' ') $(counts) $(ls "$r/$TYPES/i915-GVTg_V5_4/devices" | wc -l)" \
		"0000:00:02.0 0000:03:00.0 1 2 5 7 0"
	expect "back: create works again" "$(mk 4 "$a") $(readlink "$r/bus/mdev/devices/$a/mdev_type")" \
		"OK ../mdev_supported_types/i915-GVTg_V5_4"
	ctl "block-remove $a" >/dev/null
	rmdev "$a" >/dev/null &
	wpid=$!
	sleep 0.3
	expect "remove-parent while a remove is blocked is EBUSY" "$(ctl "remove-parent 0000:00:02.0")" EBUSY
	ctl "unblock-remove $a" >/dev/null
	wait "$wpid"
	ctl "remove-parent 0000:03:00.0" >/dev/null
	expect "reset brings removed parents back" "$(ctl reset) $(ls "$r/class/mdev_bus" | paste -sd' ')" \
		"OK 0000:00:02.0 0000:03:00.0"
}

s_mixed() {
	local r=$VGPU_SYSFS_ROOT m=$VGPU_SYSFS_ROOT/class/mdev_bus/mtty/mdev_supported_types
	local p=$VGPU_SYSFS_ROOT/class/mdev_bus/mdpy/mdev_supported_types i out=""
	expect "three parents" "$(ls "$r/class/mdev_bus" | paste -sd' ')" "0000:00:02.0 mdpy mtty"
	expect "mtty counts" "$(cat "$m/mtty-1/available_instances" "$m/mtty-2/available_instances" | paste -sd' ')" "24 12"
	expect "mtty has no description" "$(ls "$m/mtty-1" | paste -sd' ')" "available_instances create device_api devices name"
	expect "mtty name" "$(cat "$m/mtty-2/name")" "Dual port serial"
	sysw "$m/mtty-2/create" "$(uuid_n 1)" >/dev/null
	expect "mtty shared ports" "$(cat "$m/mtty-1/available_instances" "$m/mtty-2/available_instances" | paste -sd' ')" "22 11"
	expect "mtty iommu link depth" "$(readlink "$r/bus/mdev/devices/$(uuid_n 1)/iommu_group")" \
		"../../../../../kernel/iommu_groups/0"
	expect "mdpy description" "$(cat "$p/mdpy-xga/description")" "virtual display, 1024x768 framebuffer"
	for i in 2 3 4 5; do out="$out$(sysw "$p/mdpy-$( [ "$i" = 3 ] && echo hd || echo vga)/create" "$(uuid_n "$i")") "; done
	expect "four mdpy" "$out" "OK OK OK OK "
	expect "mdpy shared max_instances" "$(cat "$p"/mdpy-*/available_instances | paste -sd' ')" "0 0 0"
	expect "fifth mdpy is EUSERS" "$(sysw "$p/mdpy-xga/create" "$(uuid_n 6)")" EUSERS
	expect "GVT-g untouched" "$(counts)" "1 2 5 7"
}

s_cdev() {
	local r=$VGPU_SYSFS_ROOT u d
	u=$(uuid_n 1)
	mk 4 "$u" >/dev/null
	d=$(cat "$r/bus/mdev/devices/$u/vfio-dev/vfio0/dev")
	expect "cdev dev file" "$d" "$(sed -n 's/^cdev-major //p' "$VGPU_SIM_CONTROL"):0"
	expect "cdev node" "$(stat -c '%t:%T %a' "$VGPU_DEV_ROOT/vfio/devices/vfio0")" \
		"$(printf '%x:%x 600' "${d%:*}" "${d#*:}")"
	rmdev "$u" >/dev/null
	expect "cdev node removed" "$([ -e "$VGPU_DEV_ROOT/vfio/devices/vfio0" ] || echo gone)" gone
}

# ---- SR-IOV (sriov.conf: PF 0000:00:02.0 under i915, VFs 00:02.1-7) ----

PCI=bus/pci
PF_DIR=devices/pci0000:00/0000:00:02.0

# vf N: the address of VF N (1..7) of the PF at 0000:00:02.0
vf() { echo "0000:00:02.$1"; }
drv_of() {
	local l
	l=$(readlink "$VGPU_SYSFS_ROOT/$PCI/devices/$1/driver") && basename "$l" || echo none
}
override_of() { cat "$VGPU_SYSFS_ROOT/$PCI/devices/$1/driver_override"; }
group_of_vf() { basename "$(readlink "$VGPU_SYSFS_ROOT/$PCI/devices/$1/iommu_group")"; }
pciw() { sysw "$VGPU_SYSFS_ROOT/$PCI/$1" "$2"; }
numvfs() { sysw "$VGPU_SYSFS_ROOT/$PF_DIR/sriov_numvfs" "$1"; }
# claim ADDR FROM: what an admin does to hand a VF to vfio-pci
claim() {
	echo "$(pciw "devices/$1/driver_override" vfio-pci) $(pciw "drivers/$2/unbind" "$1") $(pciw drivers_probe "$1")"
}
# running PID: "running" while the background job PID has not ended
running() { kill -0 "$1" 2>/dev/null && echo running || echo ended; }
# wait_until CMD...: polls CMD (5 s at most), for a background write to reach the simulator
wait_until() {
	local i
	for i in $(seq 100); do "$@" && return 0; sleep 0.05; done
	return 1
}
unbound() { [ "$(drv_of "$1")" = none ]; }
no_link() { [ ! -e "$1" ]; }
export -f vf drv_of override_of group_of_vf pciw numvfs claim running wait_until unbound no_link
export PCI PF_DIR

s_sriov_layout() {
	local r=$VGPU_SYSFS_ROOT p=$VGPU_SYSFS_ROOT/$PF_DIR v g
	expect "PF ids" "$(cat "$p/vendor" "$p/device" "$p/class" | paste -sd' ')" "0x8086 0x4680 0x030000"
	expect "PF sriov files" \
		"$(cat "$p/sriov_totalvfs" "$p/sriov_numvfs" "$p/sriov_offset" "$p/sriov_stride" "$p/sriov_vf_device" \
			"$p/sriov_drivers_autoprobe" | paste -sd' ')" "7 7 1 1 4680 1"
	expect "PF modes" "$(stat -c %a "$p/sriov_numvfs" "$p/sriov_drivers_autoprobe" "$p/sriov_totalvfs" \
		"$p/driver_override" | paste -sd' ')" "664 664 444 644"
	expect "PF driver" "$(drv_of 0000:00:02.0)" i915
	expect "virtfn links" "$(for i in 0 1 2 3 4 5 6; do readlink "$p/virtfn$i"; done | paste -sd' ')" \
		"../0000:00:02.1 ../0000:00:02.2 ../0000:00:02.3 ../0000:00:02.4 ../0000:00:02.5 ../0000:00:02.6 ../0000:00:02.7"
	expect "bus/pci/devices" "$(ls "$r/$PCI/devices" | paste -sd' ')" \
		"0000:00:02.0 0000:00:02.1 0000:00:02.2 0000:00:02.3 0000:00:02.4 0000:00:02.5 0000:00:02.6 0000:00:02.7"
	v=$(vf 1)
	expect "VF physfn" "$(readlink "$r/$PCI/devices/$v/physfn")" "../0000:00:02.0"
	expect "VF ids" "$(cat "$r/$PCI/devices/$v/vendor" "$r/$PCI/devices/$v/device" | paste -sd' ')" "0x8086 0x4680"
	expect "autoprobe gave the VFs to i915" "$(for i in 1 2 3 4 5 6 7; do drv_of "$(vf "$i")"; done | sort -u)" i915
	expect "driver_override unset reads (null)" "$(override_of "$v")" "(null)"
	expect "drivers" "$(ls "$r/$PCI/drivers" | paste -sd' ') / $(ls "$r/$PCI/drivers/vfio-pci" | paste -sd' ')" \
		"i915 vfio-pci / bind unbind"
	expect "driver files write-only" "$(stat -c %a "$r/$PCI/drivers/vfio-pci/unbind" "$r/$PCI/drivers_probe" | paste -sd' ')" \
		"200 200"
	expect "i915 lists what it has" "$(ls "$r/$PCI/drivers/i915" | grep -c '^0000:')" 8
	g=$(group_of_vf "$v")
	expect "PF and VFs: one IOMMU group each" "$(group_of_vf 0000:00:02.0) $g $(ls "$r/kernel/iommu_groups" | paste -sd' ')" \
		"0 1 0 1 2 3 4 5 6 7"
	expect "a real IOMMU's group" "$(ls "$r/kernel/iommu_groups/$g" | paste -sd' ') $(cat "$r/kernel/iommu_groups/$g/type")" \
		"devices reserved_regions type DMA-FQ"
	expect "group lists the VF" "$(readlink -f "$r/kernel/iommu_groups/$g/devices/$v")" "$r/devices/pci0000:00/$v"
	expect "no VFIO group before vfio-pci binds" "$(ls "$r/class/vfio" | wc -l) $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" \
		"0 vfio"
}

s_sriov_bind() {
	local r=$VGPU_SYSFS_ROOT v w g majmin
	v=$(vf 3) w=$(vf 4)
	g=$(group_of_vf "$v")
	expect "vfio-pci does not bind without an override" "$(pciw drivers/i915/unbind "$v") $(pciw drivers_probe "$v") $(drv_of "$v")" \
		"OK OK i915"
	expect "bind vfio-pci without an override is ENODEV" "$(pciw drivers/i915/unbind "$v") $(pciw drivers/vfio-pci/bind "$v")" \
		"OK ENODEV"
	expect "override set" "$(pciw "devices/$v/driver_override" 'vfio-pci\n') $(override_of "$v")" "OK vfio-pci"
	expect "drivers_probe binds vfio-pci" "$(pciw drivers_probe "$v") $(drv_of "$v")" "OK vfio-pci"
	majmin=$(cat "$r/class/vfio/$g/dev")
	expect "group node of the VF's IOMMU group" "$(stat -c '%t:%T %a' "$VGPU_DEV_ROOT/vfio/$g")" \
		"$(printf '%x:%x 600' "${majmin%:*}" "${majmin#*:}")"
	expect "vfio-dev while bound" "$(ls "$r/$PCI/devices/$v/vfio-dev")" vfio0
	expect "vfio-pci lists it" "$(ls "$r/$PCI/drivers/vfio-pci" | grep '^0000' | paste -sd' ')" "$v"
	expect "bind while bound is EBUSY" "$(pciw drivers/vfio-pci/bind "$v")" EBUSY
	expect "unbind from a driver it is not bound to is ENODEV" "$(pciw drivers/i915/unbind "$v")" ENODEV
	expect "drivers_probe of an unknown name is ENODEV" "$(pciw drivers_probe 0000:00:09.0)" ENODEV
	expect "unbind vfio-pci" "$(pciw drivers/vfio-pci/unbind "$v\n") $(drv_of "$v")" "OK none"
	expect "VFIO group gone, IOMMU group stays" \
		"$([ -e "$r/class/vfio/$g" ] || [ -e "$VGPU_DEV_ROOT/vfio/$g" ] || echo gone) $(group_of_vf "$v") $(ls "$r/$PCI/devices/$v" | grep -c vfio-dev)" \
		"gone $g 0"
	expect "\\n clears the override" "$(pciw "devices/$v/driver_override" '\n') $(override_of "$v")" "OK (null)"
	expect "back to i915 by drivers_probe" "$(pciw drivers_probe "$v") $(drv_of "$v")" "OK i915"
	expect "claim another VF" "$(claim "$w" i915) $(drv_of "$w")" "OK OK OK vfio-pci"
	expect "override names any driver: bind i915 by name" \
		"$(pciw "devices/$w/driver_override" i915) $(pciw drivers/vfio-pci/unbind "$w") $(pciw drivers/i915/bind "$w") $(drv_of "$w")" \
		"OK OK OK i915"
	expect "cleared again" "$(pciw "devices/$w/driver_override" '\n') $(override_of "$w")" "OK (null)"
	expect "nothing left of VFIO" "$(ls "$r/class/vfio" | wc -l) $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" "0 vfio"
}

s_sriov_enable() {
	local r=$VGPU_SYSFS_ROOT p=$VGPU_SYSFS_ROOT/$PF_DIR
	expect "numvfs past totalvfs is ERANGE" "$(numvfs 8)" ERANGE
	expect "a change without 0 first is EBUSY" "$(numvfs 3)" EBUSY
	expect "junk is EINVAL" "$(numvfs abc)" EINVAL
	expect "the same number is a no-op" "$(numvfs '7\n') $(cat "$p/sriov_numvfs")" "OK 7"
	expect "disable" "$(numvfs 0) $(cat "$p/sriov_numvfs") $(ls "$r/$PCI/devices" | paste -sd' ')" "OK 0 0000:00:02.0"
	expect "VF groups gone" "$(ls "$r/kernel/iommu_groups" | paste -sd' ') $(ls "$p" | grep -c virtfn)" "0 0"
	expect "autoprobe junk is EINVAL" "$(sysw "$p/sriov_drivers_autoprobe" x)" EINVAL
	expect "autoprobe 0" "$(sysw "$p/sriov_drivers_autoprobe" 0) $(cat "$p/sriov_drivers_autoprobe")" "OK 0"
	expect "enable 7 with autoprobe 0: no driver" \
		"$(numvfs 7) $(for i in 1 2 3 4 5 6 7; do drv_of "$(vf "$i")"; done | sort -u)" "OK none"
	expect "drivers_probe without an override cannot bind a VF then" "$(pciw drivers_probe "$(vf 2)") $(drv_of "$(vf 2)")" "OK none"
	expect "bind i915 without an override is ENODEV then" "$(pciw drivers/i915/bind "$(vf 2)")" ENODEV
	expect "with an override it binds" "$(pciw "devices/$(vf 2)/driver_override" vfio-pci) $(pciw drivers_probe "$(vf 2)") $(drv_of "$(vf 2)")" \
		"OK OK vfio-pci"
	numvfs 0 >/dev/null
	expect "disable unbinds vfio-pci too" "$(ls "$r/class/vfio" | wc -l) $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" "0 vfio"
	expect "autoprobe on" "$(sysw "$p/sriov_drivers_autoprobe" on) $(numvfs 2) $(drv_of "$(vf 1)") $(drv_of "$(vf 2)")" \
		"OK OK i915 i915"
	expect "a new VF has no override" "$(override_of "$(vf 2)")" "(null)"
	numvfs 0 >/dev/null
	expect "PF without a driver cannot change numvfs: ENOENT" "$(pciw drivers/i915/unbind 0000:00:02.0) $(numvfs 1)" \
		"OK ENOENT"
	expect "PF bound again" "$(pciw drivers_probe 0000:00:02.0) $(numvfs 7) $(ls "$r/$PCI/devices" | wc -l)" "OK OK 8"
}

# A release from vfio-pci that blocks (the kernel's while a process holds
# the VF open), and what it holds up: the device lock.
s_sriov_block() {
	local r=$VGPU_SYSFS_ROOT v w g wpid rpid opid
	v=$(vf 5) w=$(vf 6)
	claim "$v" i915 >/dev/null
	g=$(group_of_vf "$v")
	expect "block-unbind" "$(ctl "block-unbind $v")" OK
	expect "control shows it" "$(grep '^block-unbind' "$VGPU_SIM_CONTROL")" "block-unbind $v"
	pciw drivers/vfio-pci/unbind "$v" >"$r/../unbind.out" &
	wpid=$!
	wait_until unbound "$v"
	sleep 0.2
	expect "unbind blocks" "$(running "$wpid")" running
	expect "while blocked: no driver link, VFIO group and vfio-dev stay" \
		"$(drv_of "$v") $([ -c "$VGPU_DEV_ROOT/vfio/$g" ] && echo node) $(ls "$r/class/vfio") $(ls "$r/$PCI/devices/$v/vfio-dev")" \
		"none node $g vfio0"
	override_of "$v" >"$r/../override.out" &
	rpid=$!
	pciw drivers/vfio-pci/unbind "$v" >"$r/../unbind2.out" &
	opid=$!
	sleep 0.3
	expect "driver_override read and a second unbind wait for the device lock" "$(running "$rpid") $(running "$opid")" \
		"running running"
	expect "other VFs are served" "$(timeout 2 cat "$r/$PCI/devices/$w/driver_override") $(claim "$w" i915)" "(null) OK OK OK"
	expect "unblock-unbind" "$(ctl "unblock-unbind $v")" OK
	wait "$wpid" "$rpid" "$opid"
	expect "all three finish" "$(cat "$r/../unbind.out" "$r/../override.out" "$r/../unbind2.out" | paste -sd' ')" \
		"OK vfio-pci OK"
	expect "VFIO group gone after unblock" "$([ -e "$VGPU_DEV_ROOT/vfio/$g" ] || [ -e "$r/class/vfio/$g" ] || echo gone)" gone

	claim "$v" i915 >/dev/null
	ctl "block-unbind all" >/dev/null
	numvfs 0 >"$r/../disable.out" &
	wpid=$!
	wait_until no_link "$r/$PF_DIR/virtfn6"
	wait_until unbound "$w"
	sleep 0.2
	expect "disable waits on a held VF (newest first: 02.7 went, 02.6 holds it up)" \
		"$(running "$wpid") $(ls "$r/$PF_DIR" | grep virtfn | paste -sd' ')" \
		"running virtfn0 virtfn1 virtfn2 virtfn3 virtfn4 virtfn5"
	cat "$r/$PF_DIR/sriov_numvfs" >"$r/../numvfs.out" &
	rpid=$!
	sleep 0.2
	expect "sriov_numvfs read waits for it too" "$(running "$rpid")" running
	ctl reset >/dev/null
	wait "$wpid" "$rpid"
	expect "disable completes after reset" "$(cat "$r/../disable.out" "$r/../numvfs.out" | paste -sd' ') $(ls "$r/$PCI/devices" | wc -l)" \
		"OK 0 1"
	expect "no VFIO node left" "$(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" vfio
}

# SIGTERM while an unbind is blocked: the simulator lets it through and exits 0.
s_sriov_term() {
	local wpid i v
	v=$(vf 1)
	claim "$v" i915 >/dev/null
	ctl "block-unbind all" >/dev/null
	pciw drivers/vfio-pci/unbind "$v" >/dev/null 2>&1 &
	wpid=$!
	wait_until unbound "$v"
	kill -TERM "$VGPU_SIM_PID"
	for i in $(seq 50); do kill -0 "$VGPU_SIM_PID" 2>/dev/null || break; sleep 0.1; done
	expect "simulator exits on SIGTERM during a blocked unbind" "$(kill -0 "$VGPU_SIM_PID" 2>/dev/null || echo exited)" exited
	wait "$wpid"
	expect "VF nodes removed on exit" "$(ls -A "$VGPU_DEV_ROOT")" ""
}

s_sriov_faults() {
	local v
	v=$(vf 2)
	expect "fail-probe EINVAL" "$(ctl 'fail-probe EINVAL')" OK
	expect "control shows it" "$(grep '^fail-probe' "$VGPU_SIM_CONTROL")" "fail-probe EINVAL 1"
	expect "drivers_probe succeeds, vfio-pci's probe did not" "$(claim "$v" i915) $(drv_of "$v")" "OK OK OK none"
	expect "then it binds" "$(pciw drivers/vfio-pci/bind "$v") $(drv_of "$v")" "OK vfio-pci"
	pciw drivers/vfio-pci/unbind "$v" >/dev/null
	expect "bind reports the probe's errno" "$(ctl 'fail-probe EIO 2') $(pciw drivers/vfio-pci/bind "$v")" "OK EIO"
	expect "block-unbind of a bad address is EINVAL" "$(ctl 'block-unbind 0000:00:02')" EINVAL
	expect "reset clears them" "$(ctl reset) $(sed -n 's/^\(fail-probe\|block-unbind\) //p' "$VGPU_SIM_CONTROL" | paste -sd' ')" \
		"OK none off"
}

s_sriov_no_vfio() {
	local v
	v=$(vf 1)
	expect "vfio-pci off: not in bus/pci/drivers" "$(ls "$VGPU_SYSFS_ROOT/$PCI/drivers" | paste -sd' ')" i915
	expect "an override naming it leaves the VF unbound" "$(claim "$v" i915) $(drv_of "$v")" "OK OK OK none"
}

# GVT-g and SR-IOV side by side (gvt-sriov.conf): groups are one number space.
s_gvt_sriov() {
	local r=$VGPU_SYSFS_ROOT pf=0000:03:00.0 v=0000:03:00.1 u g
	expect "mdev parent and PF" "$(ls "$r/class/mdev_bus" | paste -sd' ') / $(ls "$r/$PCI/devices" | paste -sd' ')" \
		"0000:00:02.0 / 0000:03:00.0 0000:03:00.1 0000:03:00.2 0000:03:00.3 0000:03:00.4 0000:03:00.5 0000:03:00.6 0000:03:00.7"
	expect "PF behind a root port" "$(readlink "$r/$PCI/devices/$pf")" "../../../devices/pci0000:00/0000:00:1c.0/0000:03:00.0"
	expect "Flex ids" "$(cat "$r/$PCI/devices/$pf/device" "$r/$PCI/devices/$pf/class" | paste -sd' ')" "0x56c0 0x038000"
	expect "autoprobe off: VFs unbound" "$(cat "$r/$PCI/devices/$pf/sriov_drivers_autoprobe") $(drv_of "$v")" "0 none"
	expect "VF iommu_group link depth" "$(readlink "$r/$PCI/devices/$v/iommu_group")" "../../../../kernel/iommu_groups/1"
	expect "GVT-g counts" "$(counts)" "1 2 5 7"
	u=$(uuid_n 1)
	mk 4 "$u" >/dev/null
	expect "an mdev takes the lowest free group" "$(readlink "$r/bus/mdev/devices/$u/iommu_group")" "../../../../kernel/iommu_groups/8"
	expect "a VF claimed beside it" "$(pciw "devices/$v/driver_override" vfio-pci) $(pciw drivers_probe "$v") $(drv_of "$v")" \
		"OK OK vfio-pci"
	g=$(group_of_vf "$v")
	expect "both VFIO groups" "$(ls "$r/class/vfio" | paste -sd' ') $(ls "$VGPU_DEV_ROOT/vfio" | paste -sd' ')" "1 8 1 8 vfio"
	expect "mdev remove leaves the VF" "$(rmdev "$u") $(ls "$r/class/vfio" | paste -sd' ')" "OK $g"
}

# Tables vgpu-sim refuses, each with one line naming what is wrong.
t_sriov_config() {
	local conf out d
	conf=$(mktemp)
	d=$(mktemp -d)
	printf 'pf 0000:00:02 pci0000:00/0000:00:02\n' >"$conf"
	out=$("$BUILD/tests/sim/vgpu-sim" --config "$conf" --dev "$d" "$d" 2>&1)
	expect "pf with a bad address" "$out" "vgpu-sim: $conf: line 1: pf 0000:00:02: wants a PCI address DDDD:BB:DD.F that ends its path"
	printf 'pf 0000:00:02.0 pci0000:00/0000:00:02.0\ntotalvfs 3\nnumvfs 4\n' >"$conf"
	out=$("$BUILD/tests/sim/vgpu-sim" --config "$conf" --dev "$d" "$d" 2>&1)
	expect "numvfs past totalvfs" "$out" "vgpu-sim: $conf: pf 0000:00:02.0: numvfs 4 is more than totalvfs 3"
	printf 'pf 0000:00:1f.0 pci0000:00/0000:00:1f.0\ntotalvfs 9\n' >"$conf"
	out=$("$BUILD/tests/sim/vgpu-sim" --config "$conf" --dev "$d" "$d" 2>&1)
	expect "VFs past the bus" "$out" "vgpu-sim: $conf: pf 0000:00:1f.0: VFs past bus 00 are not simulated"
	printf 'pf 0000:00:02.0 pci0000:00/0000:00:02.0\ndriver vfio-pci\n' >"$conf"
	out=$("$BUILD/tests/sim/vgpu-sim" --config "$conf" --dev "$d" "$d" 2>&1)
	expect "vfio-pci as the PF's driver" "$out" "vgpu-sim: $conf: line 2: bad PF driver name 'vfio-pci'"
	rm -rf "$conf" "$d"
}

# The real mdevctl, in a private mount namespace with the simulator over /sys.
s_mdevctl() {
	local out
	out=$(unshare -m --propagation private bash -c '
		mount --rbind "$VGPU_SYSFS_ROOT" /sys || exit 1
		mount -t tmpfs tmpfs /etc/mdevctl.d || exit 1
		mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers
		mdevctl types >"$VGPU_SYSFS_ROOT/../types.txt" || exit 2
		mdevctl start -u "$SEED_UUID" -p 0000:00:02.0 --type i915-GVTg_V5_4 || exit 3
		mdevctl list
		mdevctl stop -u "$SEED_UUID" || exit 4
		mdevctl list' 2>&1)
	expect "mdevctl start/list/stop" "$out" "$SEED_UUID 0000:00:02.0 i915-GVTg_V5_4 manual"
	if cmp -s "$VGPU_SYSFS_ROOT/../types.txt" "$SEED_TYPES"; then
		pass "mdevctl types matches seed-mdevctl-types.txt"
	else
		fail "mdevctl types differs: $(diff "$SEED_TYPES" "$VGPU_SYSFS_ROOT/../types.txt" | head -5 | paste -sd'|')"
	fi
	expect "host /sys untouched" "$(stat -f -c %T /sys)" sysfs
	expect "device gone after mdevctl stop" "$(counts)" "1 2 5 7"
}

# ---- with-sim itself ----

t_with_sim() {
	local out rc T T2 pid
	out=$("$WITH_SIM" bash -c 'echo "$VGPU_SYSFS_ROOT"; exit 3')
	rc=$?
	T=$(dirname "$out")
	expect "with-sim passes CMD status" "$rc" 3
	expect "no mount left after failing CMD" "$(grep -c " $T/sys " /proc/self/mounts)" 0
	expect "temp dir removed after failing CMD" "$([ -e "$T" ] || echo gone)" gone

	out=$("$WITH_SIM" bash -c 'echo "$VGPU_SYSFS_ROOT"; kill -KILL $$')
	rc=$?
	T=$(dirname "$out")
	expect "with-sim reports a killed CMD" "$rc" 137
	expect "cleanup after killed CMD" "$(grep -c " $T/sys " /proc/self/mounts)$([ -e "$T" ] || echo gone)" 0gone

	out=$("$WITH_SIM" bash -c 'echo "$VGPU_SYSFS_ROOT"; OUTER=$VGPU_SYSFS_ROOT "$0" bash -c \
		"echo \$VGPU_SYSFS_ROOT; mountpoint -q \$OUTER && mountpoint -q \$VGPU_SYSFS_ROOT && echo both"' "$WITH_SIM")
	T=$(echo "$out" | sed -n 1p)
	T2=$(echo "$out" | sed -n 2p)
	expect "nested with-sim: two mounts at once" "$(echo "$out" | sed -n 3p)$([ "$T" != "$T2" ] && echo .distinct)" \
		"both.distinct"
	expect "nested with-sim cleaned up" "$(grep -c -e " $T " -e " $T2 " /proc/self/mounts)" 0

	"$WITH_SIM" bash -c 'echo "$VGPU_SYSFS_ROOT" >"$0"; sleep 30' "$RESULTS.root" &
	pid=$!
	for rc in $(seq 50); do [ -s "$RESULTS.root" ] && break; sleep 0.1; done
	sleep 0.2
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	T=$(dirname "$(cat "$RESULTS.root")")
	rm -f "$RESULTS.root"
	expect "with-sim killed by SIGTERM exits 143" "$rc" 143
	expect "cleanup after SIGTERM to with-sim" "$(grep -c " $T/sys " /proc/self/mounts)$([ -e "$T" ] || echo gone)" 0gone
	expect "with-sim --help" "$("$WITH_SIM" --help | head -c 16)" "Usage: with-sim "
	expect "vgpu-sim --help" "$("$BUILD/tests/sim/vgpu-sim" --help | head -c 14)" "Usage: vgpu-si"
	"$BUILD/tests/sim/vgpu-sim" >/dev/null 2>&1
	expect "vgpu-sim usage error exits 2" "$?" 2
}

# ---- main ----

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP test-sim.sh needs root (FUSE mount, mknod)"
	exit 0
fi
if [ ! -x "$BUILD/tests/sim/vgpu-sim" ]; then
	echo "Bail out! $BUILD/tests/sim/vgpu-sim not built"
	exit 1
fi

CDEV_CONF=$(mktemp)
NO_VFIO_CONF=$(mktemp)
trap 'rm -f "$RESULTS" "$CDEV_CONF" "$NO_VFIO_CONF"' EXIT
sed 's/^exhausted ENOSPC$/exhausted ENOSPC\ncdev on/' "$here/two-gpus.conf" >"$CDEV_CONF"
{ cat "$here/sriov.conf"; echo "vfio-pci off"; } >"$NO_VFIO_CONF"
export SEED_TYPES="$here/seed-mdevctl-types.txt"

scenarios="layout create exhaust remove groups faults block block_term hide two_gpus parent mixed cdev
	sriov_layout sriov_bind sriov_enable sriov_block sriov_term sriov_faults sriov_no_vfio gvt_sriov sriov_config
	mdevctl with_sim"
selected=${*:-$scenarios}
for s in $selected; do
	case $s in
	two_gpus) run_sim "$s" s_two_gpus "$here/two-gpus.conf" ;;
	parent) run_sim "$s" s_parent "$here/two-gpus.conf" ;;
	mixed) run_sim "$s" s_mixed "$here/mixed.conf" ;;
	cdev) run_sim "$s" s_cdev "$CDEV_CONF" ;;
	sriov_no_vfio) run_sim "$s" s_sriov_no_vfio "$NO_VFIO_CONF" ;;
	sriov_config) t_sriov_config ;;
	gvt_sriov) run_sim "$s" s_gvt_sriov "$here/gvt-sriov.conf" ;;
	sriov_*) run_sim "$s" "s_$s" "$here/sriov.conf" ;;
	mdevctl)
		if command -v mdevctl >/dev/null && command -v unshare >/dev/null; then
			run_sim "$s" s_mdevctl
		else
			echo "ok - mdevctl comparison # SKIP mdevctl or unshare not installed" >>"$RESULTS"
		fi
		;;
	with_sim) t_with_sim ;;
	*) run_sim "$s" "s_$s" ;;
	esac
done

i=0
echo "1..$(wc -l <"$RESULTS")"
while IFS= read -r line; do
	i=$((i + 1))
	case $line in
	"not ok"*) echo "not ok $i${line#not ok}" ;;
	*) echo "ok $i${line#ok}" ;;
	esac
done <"$RESULTS"
if grep -q '^not ok' "$RESULTS"; then
	echo "# FAILED: $(grep -c '^not ok' "$RESULTS") of $(wc -l <"$RESULTS")" >&2
	exit 1
fi
exit 0
