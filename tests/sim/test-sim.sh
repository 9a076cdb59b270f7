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
	expect "control file readable" "$(grep -c . "$VGPU_SIM_CONTROL")" 9
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
trap 'rm -f "$RESULTS" "$CDEV_CONF"' EXIT
sed 's/^exhausted ENOSPC$/exhausted ENOSPC\ncdev on/' "$here/two-gpus.conf" >"$CDEV_CONF"
export SEED_TYPES="$here/seed-mdevctl-types.txt"

scenarios="layout create exhaust remove groups faults block block_term hide two_gpus parent mixed cdev mdevctl with_sim"
selected=${*:-$scenarios}
for s in $selected; do
	case $s in
	two_gpus) run_sim "$s" s_two_gpus "$here/two-gpus.conf" ;;
	parent) run_sim "$s" s_parent "$here/two-gpus.conf" ;;
	mixed) run_sim "$s" s_mixed "$here/mixed.conf" ;;
	cdev) run_sim "$s" s_cdev "$CDEV_CONF" ;;
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
