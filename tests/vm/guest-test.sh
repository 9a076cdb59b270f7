#!/bin/sh
# guest-test.sh — the checks of the real-kernel tier, the guest's only job (busybox sh).
#
# Part 1 proves the kernel and the runtime alone: modules, parents, a raw sysfs create/remove,
# crun, and the VFIO ioctls from a container that crun itself was told about. Part 2 checks
# vgpuctl, vgpu-hook and vgpu-cdi against that real kernel. A missing binary fails its checks.
. /vm/guest-lib.sh

MDEV_BUS=/sys/class/mdev_bus
DEVICES=/sys/bus/mdev/devices
export VGPU_SYSFS_ROOT=/sys VGPU_DEV_ROOT=/dev VGPU_STATE_DIR=/run/vgpu-toolkit

avail() { cat "$MDEV_BUS/$1/mdev_supported_types/$2/available_instances"; }
mdevs() { ls "$DEVICES" 2>/dev/null; }
group_of() { basename "$(readlink "$DEVICES/$1/iommu_group")"; }
# MAJ:MIN of a node, in decimal like /sys/class/vfio/N/dev.
node_numbers() {
	set -- $(stat -c '%t %T' "$1" 2>/dev/null) || return 1
	[ $# = 2 ] && echo "$((0x$1)):$((0x$2))"
}
have() {
	command -v "$1" >/dev/null && return 0
	note "$1 is not in the guest (not built yet?)"
	return 1
}

# The counts a clean guest has; every check that allocates must leave them like this.
counts() { echo "mtty-1=$(avail mtty mtty-1) mtty-2=$(avail mtty mtty-2) mdpy-vga=$(avail mdpy mdpy-vga)"; }
CLEAN="mtty-1=24 mtty-2=12 mdpy-vga=4"

# Remove whatever a failed check left, so the next check starts clean. Writes are bounded:
# remove blocks while a device fd is open.
reset_state() {
	local c u
	for c in $($CRUN list -q 2>/dev/null); do ctr_delete -f "$c" >/dev/null; done
	for u in $(mdevs); do
		note "leftover mdev $u: removing"
		timeout 15 sh -c "echo 1 > $DEVICES/$u/remove" 2>/dev/null
	done
	if [ "$(ls /sys/bus/pci/devices/0000:00:02.0 | grep -c '^virtfn')" != 0 ]; then
		note "leftover VFs: disabling (in the background: a held VF blocks it)"
		(echo 0 >/sys/bus/pci/devices/0000:00:02.0/sriov_numvfs) 2>/dev/null &
		i=0
		while ls /sys/bus/pci/devices/0000:00:02.0 | grep -q '^virtfn' && [ "$i" -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	fi
	echo 1 >/sys/bus/pci/devices/0000:00:02.0/sriov_drivers_autoprobe 2>/dev/null
	rm -rf /run/vgpu-toolkit
}

# Describe a group: what the kernel says and what the node is.
show_group() {
	note "group $1: /dev/vfio/$1 $(stat -c '%A' "/dev/vfio/$1" 2>/dev/null) $(node_numbers "/dev/vfio/$1")," \
		"/sys/class/vfio/$1/dev $(cat "/sys/class/vfio/$1/dev" 2>/dev/null)," \
		"iommu group name $(cat "/sys/kernel/iommu_groups/$1/name" 2>/dev/null)"
}

gone() { # UUID GROUP: no mdev dir, no node, no iommu group
	[ ! -e "$DEVICES/$1" ] && [ ! -e "/dev/vfio/$2" ] && [ ! -e "/sys/kernel/iommu_groups/$2" ]
}

# ---- part 1: kernel and runtime only ----

k_modules() {
	vm_load_modules
	missing=
	for m in vfio vfio_iommu_type1 mdev mtty mdpy mbochs nvme vfio_pci; do
		[ -d "/sys/module/$m" ] || missing="$missing $m"
	done
	[ -z "$missing" ] || note "not loaded:$missing"
	[ -z "$missing" ]
}

k_parents() {
	for p in mtty mdpy mbochs; do
		[ -d "$MDEV_BUS/$p/mdev_supported_types" ] || return 1
		for t in "$MDEV_BUS/$p"/mdev_supported_types/*; do
			note "sysfs: $p $(basename "$t") available=$(cat "$t/available_instances") name=\"$(cat "$t/name" 2>/dev/null)\""
		done
	done
	[ "$(counts)" = "$CLEAN" ]
}

k_raw_create() {
	RAW_UUID=$(uuidgen)
	echo "$RAW_UUID" >"$MDEV_BUS/mtty/mdev_supported_types/mtty-2/create" || return 1
	[ -d "$DEVICES/$RAW_UUID" ] || return 1
	RAW_GROUP=$(group_of "$RAW_UUID")
	show_group "$RAW_GROUP"
	note "after one mtty-2: $(counts)"
	[ -c "/dev/vfio/$RAW_GROUP" ] &&
		[ "$(node_numbers "/dev/vfio/$RAW_GROUP")" = "$(cat "/sys/class/vfio/$RAW_GROUP/dev")" ] &&
		[ "$(counts)" = "mtty-1=22 mtty-2=11 mdpy-vga=4" ]
}

k_crun_hello() {
	ctr_rootfs
	ctr_bundle /tmp/b-hello || return 1
	echo 'echo hello from pid $$' >"$CTR_ROOTFS/job.sh"
	ctr_create hello /tmp/b-hello || { sed 's/^/# hello: /' /tmp/b-hello/out; return 1; }
	cg=$(cut -d: -f3 "/proc/$(ctr_pid hello)/cgroup")
	note "hello: container cgroup $cg (seen from the guest)"
	own=0
	[ "$cg" != / ] && [ -d "/sys/fs/cgroup$cg" ] && own=1
	ctr_start_wait hello
	ctr_delete hello
	sed 's/^/# hello: /' /tmp/b-hello/out
	grep -q '^hello from pid 1$' /tmp/b-hello/out && [ "$own" = 1 ]
}

# crun told about the nodes (linux.devices + an allow rule): the probe's ioctls work.
k_probe_allowed() {
	majmin=$(cat "/sys/class/vfio/$RAW_GROUP/dev")
	ctr_bundle /tmp/b-raw ".linux.devices = [
	    {path: \"/dev/vfio/vfio\", type: \"c\", major: 10, minor: 196, fileMode: 438},
	    {path: \"/dev/vfio/$RAW_GROUP\", type: \"c\", major: ${majmin%:*}, minor: ${majmin#*:}, fileMode: 438}]
	  | .linux.resources.devices += [
	    {allow: true, type: \"c\", major: 10, minor: 196, access: \"rwm\"},
	    {allow: true, type: \"c\", major: ${majmin%:*}, minor: ${majmin#*:}, access: \"rwm\"}]" || return 1
	echo "ls -l /dev/vfio; exec vfio-probe auto $RAW_UUID" >"$CTR_ROOTFS/job.sh"
	ctr_create raw /tmp/b-raw && ctr_start_wait raw
	ctr_delete raw
	sed 's/^/# raw: /' /tmp/b-raw/out
	grep -q '^vfio-probe: all ok' /tmp/b-raw/out
}

# The same node mknod'ed into the container's /dev without an allow rule: EPERM on open.
k_probe_denied() {
	majmin=$(cat "/sys/class/vfio/$RAW_GROUP/dev")
	ctr_bundle /tmp/b-deny '.linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 196, access: "rwm"}]' ||
		return 1
	echo "ls -l /dev/vfio; exec vfio-probe auto $RAW_UUID" >"$CTR_ROOTFS/job.sh"
	ctr_create deny /tmp/b-deny || return 1
	pid=$(ctr_pid deny)
	mkdir -p "/proc/$pid/root/dev/vfio"
	mknod -m 666 "/proc/$pid/root/dev/vfio/vfio" c 10 196
	mknod -m 666 "/proc/$pid/root/dev/vfio/$RAW_GROUP" c "${majmin%:*}" "${majmin#*:}"
	ctr_start_wait deny
	ctr_delete deny
	sed 's/^/# deny: /' /tmp/b-deny/out
	grep -q "^vfio-probe: open /dev/vfio/$RAW_GROUP: EPERM" /tmp/b-deny/out
}

k_raw_remove() {
	echo 1 >"$DEVICES/$RAW_UUID/remove" || return 1
	gone "$RAW_UUID" "$RAW_GROUP" && [ "$(counts)" = "$CLEAN" ]
}

# ---- part 1b: SR-IOV, kernel only (QEMU's NVMe PF at 0000:00:02.0, nvme its driver) ----

PF_ADDR=0000:00:02.0
PF=/sys/bus/pci/devices/$PF_ADDR
PCI_DRIVERS=/sys/bus/pci/drivers
vf_addr() { echo "0000:00:02.$1"; }
vf_driver() {
	local l
	l=$(readlink "/sys/bus/pci/devices/$1/driver") && basename "$l" || echo none
}
vf_group() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group")"; }
ms_since() { awk -v a="$1" -v b="$(vmtime now)" 'BEGIN { printf "%.0f", b - a }'; }
# How often nvme probed ADDR since boot: its probe prints "pci function ADDR".
nvme_probes() { dmesg | grep -c "nvme.*: pci function $1\$"; }
# enable_vfs N: echo N > sriov_numvfs, timed into ENABLE_MS
enable_vfs() {
	local t0
	t0=$(vmtime now)
	echo "$1" >"$PF/sriov_numvfs" || return 1
	ENABLE_MS=$(ms_since "$t0")
}
disable_vfs() {
	local t0
	t0=$(vmtime now)
	echo 0 >"$PF/sriov_numvfs" || return 1
	DISABLE_MS=$(ms_since "$t0")
}
# raw_claim ADDR: the procedure of shared/facts/sriov.md, timed into CLAIM_MS
raw_claim() {
	local t0 d
	t0=$(vmtime now)
	echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override" || return 1
	d=$(vf_driver "$1")
	[ "$d" = none ] || echo "$1" >"$PCI_DRIVERS/$d/unbind" 2>/dev/null || [ "$(vf_driver "$1")" = none ] || return 1
	echo "$1" >/sys/bus/pci/drivers_probe || return 1
	CLAIM_MS=$(ms_since "$t0")
	[ "$(vf_driver "$1")" = vfio-pci ]
}
vfs_present() { ls "$PF" | grep -c '^virtfn'; }

k_sriov_pf() {
	note "PF $PF_ADDR: driver $(vf_driver "$PF_ADDR"), class $(cat "$PF/class"), sriov_totalvfs $(cat "$PF/sriov_totalvfs")," \
		"sriov_numvfs $(cat "$PF/sriov_numvfs"), autoprobe $(cat "$PF/sriov_drivers_autoprobe"), group $(vf_group "$PF_ADDR")"
	[ "$(vf_driver "$PF_ADDR")" = nvme ] && [ "$(cat "$PF/sriov_totalvfs")" = 7 ] &&
		[ "$(cat "$PF/sriov_numvfs")" = 0 ] && [ "$(cat "$PF/sriov_drivers_autoprobe")" = 1 ] &&
		[ -d "$PCI_DRIVERS/vfio-pci" ]
}

# autoprobe 1: seven VFs, each with its own IOMMU group, each probed by the PF's driver.
k_sriov_enable_autoprobe() {
	local i a groups="" probed=0
	enable_vfs 7 || return 1
	note "enable 7 with autoprobe 1: $ENABLE_MS ms"
	for i in 1 2 3 4 5 6 7; do
		a=$(vf_addr "$i")
		[ "$(basename "$(readlink "$PF/virtfn$((i - 1))")")" = "$a" ] || { note "virtfn$((i - 1)) is not $a"; return 1; }
		[ "$(basename "$(readlink "/sys/bus/pci/devices/$a/physfn")")" = "$PF_ADDR" ] || return 1
		groups="$groups $(vf_group "$a")"
		[ "$(nvme_probes "$a")" -ge 1 ] && probed=$((probed + 1))
	done
	note "VF groups:$groups; nvme probed $probed of 7 (drivers now: $(for i in 1 2 3 4 5 6 7; do vf_driver "$(vf_addr "$i")"; done | tr '\n' ' '))"
	[ "$(echo $groups | tr ' ' '\n' | sort -u | wc -l)" = 7 ] && [ "$probed" = 7 ] && [ "$(cat "$PF/sriov_numvfs")" = 7 ]
}

k_sriov_raw_claim() {
	local a g
	a=$(vf_addr 1)
	raw_claim "$a" || { note "claim of $a: driver $(vf_driver "$a")"; return 1; }
	g=$(vf_group "$a")
	RAW_VF_GROUP=$g
	note "claim of $a (override, unbind, drivers_probe): $CLAIM_MS ms; group $g, /dev/vfio/$g $(node_numbers "/dev/vfio/$g"), class $(cat "/sys/class/vfio/$g/dev")"
	vfio-probe "$g" "$a" >/tmp/vf-probe.out 2>&1
	sed 's/^/# /' /tmp/vf-probe.out
	[ "$(node_numbers "/dev/vfio/$g")" = "$(cat "/sys/class/vfio/$g/dev")" ] &&
		grep -q "^vfio-probe: GROUP_GET_DEVICE_FD $a ok" /tmp/vf-probe.out && grep -q '^vfio-probe: all ok' /tmp/vf-probe.out
}

# Unbinding a held VF from vfio-pci blocks, with the device lock held: the driver link is gone
# at once, the group node and vfio-dev stay, and a driver_override read waits too.
k_sriov_raw_held() {
	local a=$(vf_addr 1) g=$RAW_VF_GROUP holder unbinder reader r=0 t0
	vfio-probe --hold 4 "$g" "$a" >/tmp/vf-hold.out 2>&1 &
	holder=$!
	i=0
	while ! grep -q holding /tmp/vf-hold.out && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	t0=$(vmtime now)
	(echo "$a" >"$PCI_DRIVERS/vfio-pci/unbind" && echo "unbind ok after $(ms_since "$t0") ms" >/tmp/vf-unbind.out) &
	unbinder=$!
	sleep 1
	(cat "/sys/bus/pci/devices/$a/driver_override" >/tmp/vf-override.out) &
	reader=$!
	sleep 0.5
	note "while held: unbind $(kill -0 $unbinder 2>/dev/null && echo blocked || echo returned), driver $(vf_driver "$a")," \
		"/dev/vfio: $(ls /dev/vfio | tr '\n' ' ')vfio-dev: $(ls "/sys/bus/pci/devices/$a/vfio-dev" 2>&1)," \
		"driver_override read $(kill -0 $reader 2>/dev/null && echo waits || echo returned)"
	kill -0 "$unbinder" 2>/dev/null && kill -0 "$reader" 2>/dev/null || r=1
	[ "$(vf_driver "$a")" = none ] && [ -c "/dev/vfio/$g" ] && [ -d "/sys/bus/pci/devices/$a/vfio-dev" ] || r=1
	wait "$holder"
	wait "$unbinder"
	wait "$reader"
	note "after the holder exits: $(cat /tmp/vf-unbind.out), driver_override $(cat /tmp/vf-override.out), /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
	dmesg | grep -i 'vfio-pci.*\(blocked\|released\)' | tail -2 | sed 's/^/# dmesg: /'
	[ "$r" = 0 ] && [ ! -e "/dev/vfio/$g" ] && [ ! -e "/sys/class/vfio/$g" ] && grep -q 'unbind ok' /tmp/vf-unbind.out
}

# Given back: driver_override cleared, drivers_probe hands it to nvme again (which lets it go soon
# after: QEMU's VFs stay offline, so nvme's probe gives up; its "pci function" line proves it bound).
k_sriov_raw_giveback() {
	local a=$(vf_addr 1) before t0
	before=$(nvme_probes "$a")
	t0=$(vmtime now)
	echo >"/sys/bus/pci/devices/$a/driver_override" && echo "$a" >/sys/bus/pci/drivers_probe || return 1
	note "give back: $(ms_since "$t0") ms; driver_override $(cat "/sys/bus/pci/devices/$a/driver_override"), driver $(vf_driver "$a"), nvme probes $before -> $(nvme_probes "$a")"
	[ "$(cat "/sys/bus/pci/devices/$a/driver_override")" = "(null)" ] && [ "$(nvme_probes "$a")" = $((before + 1)) ]
}

k_sriov_disable() {
	disable_vfs || return 1
	note "disable: $DISABLE_MS ms; PCI functions left: $(ls /sys/bus/pci/devices | tr '\n' ' ')"
	[ "$(vfs_present)" = 0 ] && [ ! -e "/sys/bus/pci/devices/$(vf_addr 1)" ] && [ "$(cat "$PF/sriov_numvfs")" = 0 ]
}

# autoprobe 0: no driver takes the new VFs; a claim needs no unbind; a given-back VF stays unbound.
k_sriov_enable_noautoprobe() {
	local a=$(vf_addr 2) i before drivers
	echo 0 >"$PF/sriov_drivers_autoprobe" || return 1
	before=$(dmesg | grep -c 'nvme.*: pci function')
	enable_vfs 7 || return 1
	drivers=$(for i in 1 2 3 4 5 6 7; do vf_driver "$(vf_addr "$i")"; done | sort -u)
	note "enable 7 with autoprobe 0: $ENABLE_MS ms; drivers: $drivers; nvme probes $before -> $(dmesg | grep -c 'nvme.*: pci function')"
	[ "$drivers" = none ] && [ "$(dmesg | grep -c 'nvme.*: pci function')" = "$before" ] || return 1
	raw_claim "$a" || return 1
	note "claim of $a with autoprobe 0: $CLAIM_MS ms"
	echo "$a" >"$PCI_DRIVERS/vfio-pci/unbind" && echo >"/sys/bus/pci/devices/$a/driver_override" &&
		echo "$a" >/sys/bus/pci/drivers_probe || return 1
	note "given back with autoprobe 0: driver $(vf_driver "$a"), driver_override $(cat "/sys/bus/pci/devices/$a/driver_override")"
	[ "$(vf_driver "$a")" = none ] || return 1
	disable_vfs || return 1
	note "disable: $DISABLE_MS ms"
	echo 1 >"$PF/sriov_drivers_autoprobe"
	[ "$(vfs_present)" = 0 ]
}

# ---- part 2: the project's binaries ----

# parent type count, one a line, from mdevctl-types text on stdin.
types_triples() {
	awk '/^[^ ]/ { p = $1 } /^  [^ ]/ { t = $1 } /^    Available instances:/ { print p, t, $3 }' | sort
}
sysfs_triples() {
	for t in "$MDEV_BUS"/*/mdev_supported_types/*; do
		p=${t%/mdev_supported_types/*}
		echo "${p##*/} ${t##*/} $(cat "$t/available_instances")"
	done | sort
}

# Both JSON layouts: mdevctl's [{PARENT: [{TYPE: {...}}]}] and [{parent, types: [{type, ...}]}].
TYPES_JQ='.[] | if has("parent") then .parent as $p | .types[] | "\($p) \(.type) \(.available_instances)"
    else to_entries[] | .key as $p | .value[] | to_entries[] | "\($p) \(.key) \(.value.available_instances)" end'

c1_types() {
	have vgpuctl || return 1
	sysfs_triples >/tmp/types.sysfs
	vgpuctl types >/tmp/types.out 2>&1 || { sed 's/^/# /' /tmp/types.out; return 1; }
	types_triples </tmp/types.out >/tmp/types.vgpuctl
	mdevctl types 2>/dev/null | types_triples >/tmp/types.mdevctl
	vgpuctl types --json 2>/dev/null | jq -r "$TYPES_JQ" 2>/dev/null | sort >/tmp/types.json
	sed 's/^/# vgpuctl types: /' /tmp/types.out | head -12
	r=0
	for w in vgpuctl mdevctl json; do
		if cmp -s /tmp/types.sysfs "/tmp/types.$w"; then
			note "types: $w agrees with sysfs ($(wc -l </tmp/types.sysfs) types)"
		else
			note "types: $w differs from sysfs:"
			diff /tmp/types.sysfs "/tmp/types.$w" | sed 's/^/#   /'
			[ "$w" = mdevctl ] || r=1
		fi
	done
	grep -qx 'mtty mtty-1 24' /tmp/types.vgpuctl && grep -qx 'mtty mtty-2 12' /tmp/types.vgpuctl &&
		grep -qx 'mdpy mdpy-vga 4' /tmp/types.vgpuctl && [ "$r" = 0 ]
}

# A container with the hook in config.json; `$2` extra hook args for createRuntime.
hook_bundle() {
	ctr_bundle "$1" ".hooks = {
	    createRuntime: [{path: \"/usr/bin/vgpu-hook\", args: [\"vgpu-hook\", \"createRuntime\", \"--type\", \"mtty-2\" $2]}],
	    poststop: [{path: \"/usr/bin/vgpu-hook\", args: [\"vgpu-hook\", \"poststop\"]}]} $3"
}

c2_hook_container() {
	have vgpu-hook || return 1
	hook_bundle /tmp/b-hook || return 1
	echo 'echo "container sees:"; ls -l /dev/vfio; exec vfio-probe auto $(cat /uuid)' >"$CTR_ROOTFS/job.sh"
	ctr_create hooked /tmp/b-hook || { sed 's/^/# hooked: /' /tmp/b-hook/out; ctr_hooks_out /tmp/b-hook; return 1; }
	HOOK_UUID=$(mdevs)
	[ "$(echo "$HOOK_UUID" | wc -w)" = 1 ] || { note "expected one mdev after createRuntime, have: $HOOK_UUID"; return 1; }
	HOOK_GROUP=$(group_of "$HOOK_UUID")
	show_group "$HOOK_GROUP"
	have vgpuctl && vgpuctl list 2>&1 | sed 's/^/# vgpuctl list: /'
	echo "$HOOK_UUID" >"$CTR_ROOTFS/uuid"
	ctr_start_wait hooked
	sed 's/^/# hooked: /' /tmp/b-hook/out
	grep -q '^vfio-probe: all ok' /tmp/b-hook/out
}

# After `crun delete` (poststop): no mdev, node or iommu group; the counts are back.
c3_poststop() {
	[ -n "$HOOK_UUID" ] || { note "no hooked container to delete: its createRuntime failed"; return 1; }
	ctr_delete hooked | sed 's/^/# delete: /'
	ctr_hooks_out /tmp/b-hook
	note "after delete: $(counts), mdevs: $(mdevs)"
	gone "$HOOK_UUID" "$HOOK_GROUP" && [ "$(counts)" = "$CLEAN" ]
}

# Control: the hook without its cgroup step; /dev/vfio/vfio allowed by config, so the group
# node is what fails, with EPERM.
c2_hook_control() {
	have vgpu-hook || return 1
	hook_bundle /tmp/b-ctl ', "--no-cgroup"' \
		'| .linux.resources.devices += [{allow: true, type: "c", major: 10, minor: 196, access: "rwm"}]' || return 1
	echo 'ls -l /dev/vfio; exec vfio-probe auto $(cat /uuid)' >"$CTR_ROOTFS/job.sh"
	ctr_create control /tmp/b-ctl || { sed 's/^/# control: /' /tmp/b-ctl/out; ctr_hooks_out /tmp/b-ctl; return 1; }
	u=$(mdevs)
	echo "$u" >"$CTR_ROOTFS/uuid"
	g=$(group_of "$u")
	ctr_start_wait control
	ctr_delete control | sed 's/^/# delete: /'
	sed 's/^/# control: /' /tmp/b-ctl/out
	grep -q "^vfio-probe: open /dev/vfio/$g: EPERM" /tmp/b-ctl/out && gone "$u" "$g"
}

# allocate_until OWNER-PREFIX TYPE: allocations made, last error in /tmp/alloc.err.
allocate_until() {
	local i=0
	while [ "$i" -lt 40 ] && vgpuctl allocate --owner "$1-$i" --type "$2" >/dev/null 2>/tmp/alloc.err; do
		i=$((i + 1))
	done
	echo "$i"
}

# The kernel agrees: a raw create now fails with ERRNO's text.
raw_refused() {
	local out
	out=$(sh -c "echo $(uuidgen) > $MDEV_BUS/$1/mdev_supported_types/$2/create" 2>&1)
	note "raw create of $2 now: $out"
	case $out in *"$3"*) return 0 ;; esac
	return 1
}

release_prefix() {
	local i=0
	while [ "$i" -lt "$2" ]; do
		vgpuctl release --owner "$1-$i" || note "release --owner $1-$i failed"
		i=$((i + 1))
	done
}

c4_exhaustion() {
	have vgpuctl || return 1
	r=0
	n=$(allocate_until ex mtty-2)
	note "mtty-2: $n allocations, then: $(cat /tmp/alloc.err)"
	[ "$n" = 12 ] || r=1
	grep -Eq 'no instance of mtty-2 left on (mtty|any parent) \(0 available\)' /tmp/alloc.err || r=1
	vgpuctl allocate --owner ex-p --type mtty-2 --parent mtty >/dev/null 2>/tmp/alloc.err && r=1
	note "mtty-2 --parent mtty: $(cat /tmp/alloc.err)"
	grep -q 'no instance of mtty-2 left on mtty (0 available)' /tmp/alloc.err || r=1
	raw_refused mtty mtty-2 'No space left on device' || r=1
	m=$(allocate_until ey mdpy-vga)
	note "mdpy-vga: $m allocations, then: $(cat /tmp/alloc.err)"
	[ "$m" = 4 ] || r=1
	grep -Eq 'no instance of mdpy-vga left on (mdpy|any parent) \(0 available\)' /tmp/alloc.err || r=1
	vgpuctl allocate --owner ey-p --type mdpy-vga --parent mdpy >/dev/null 2>/tmp/alloc.err && r=1
	note "mdpy-vga --parent mdpy: $(cat /tmp/alloc.err)"
	grep -q 'no instance of mdpy-vga left on mdpy (0 available)' /tmp/alloc.err || r=1
	raw_refused mdpy mdpy-vga 'Too many users' || r=1
	release_prefix ex "$n"
	release_prefix ey "$m"
	left=$(vgpuctl list 2>&1)
	note "after release: $(counts), mdevs: $(mdevs), vgpuctl list: $left"
	[ "$(counts)" = "$CLEAN" ] && [ -z "$(mdevs)" ] && [ "$r" = 0 ]
}

# Release while a process holds the device fd: bounded, non-zero, marked releasing; gc
# finishes it once the holder is gone. busy_* share BUSY_UUID/BUSY_GROUP/BUSY_HOLDER.
# busy_start OWNER [precreate]: an mtty-2 for OWNER (a vgpuctl owner, or with precreate a
# container's, as podman's precreate makes it) whose device fd a holder keeps open.
busy_start() {
	have vgpuctl || return 1
	if [ "${2:-}" = precreate ]; then
		printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"annotations":{"intel.com/vgpu":"mtty-2"},"linux":{"cgroupsPath":"/%s"}}' "$1" |
			vgpu-hook precreate >/tmp/pre.json || return 1
		BUSY_UUID=$(jq -r '.process.env[] | select(startswith("VGPU_MDEV_UUID=")) | sub("VGPU_MDEV_UUID="; "")' /tmp/pre.json)
	else
		BUSY_UUID=$(vgpuctl allocate --owner "$1" --type mtty-2) || return 1
	fi
	BUSY_GROUP=$(group_of "$BUSY_UUID")
	vfio-probe --hold 8 "$BUSY_GROUP" "$BUSY_UUID" >/tmp/holder.out 2>&1 &
	BUSY_HOLDER=$!
	i=0
	until grep -q holding /tmp/holder.out || [ "$i" -gt 150 ]; do sleep 0.1; i=$((i + 1)); done
	sed 's/^/# holder: /' /tmp/holder.out
	note "holder ready after $i polls of 0.1 s"
	grep -q holding /tmp/holder.out
}

# busy_release CMD...: the release must give up within 1000 ms + slack, fail, and say releasing.
busy_release() {
	[ -n "$BUSY_UUID" ] || return 1
	t0=$(vmtime now)
	"$@" >/tmp/rel.out 2>&1
	rc=$?
	ms=$(awk -v a="$t0" -v b="$(vmtime now)" 'BEGIN { printf "%d", b - a }')
	note "release while held: exit $rc after $ms ms: $(cat /tmp/rel.out)"
	note "meanwhile the kernel has: $DEVICES/$BUSY_UUID $(test -e "$DEVICES/$BUSY_UUID" && echo present || echo gone)," \
		"device dir $(ls -d /sys/devices/virtual/mtty/mtty/"$BUSY_UUID" 2>/dev/null || echo gone), /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')"
	[ "$rc" = 1 ] && [ "$ms" -lt 3000 ] && grep -qi releasing /tmp/rel.out
}

busy_listed() {
	[ -n "$BUSY_UUID" ] || return 1
	vgpuctl list >/tmp/list.out 2>&1
	sed 's/^/# vgpuctl list: /' /tmp/list.out
	note "ledger: $(ls "$VGPU_STATE_DIR/ledger" 2>&1 | tr '\n' ' ')"
	grep "$BUSY_UUID" /tmp/list.out | grep -qi releasing
}

# gc while the holder still has the fd: the kernel has dropped the bus link already, but the
# remove is pending, so the record must stay releasing (and the holder keeps its device).
# gc may say it could not reclaim it (exit 1); what matters is that it forgets nothing.
busy_gc_early() {
	[ -n "$BUSY_UUID" ] || return 1
	vgpuctl gc >/tmp/gc.out 2>&1
	note "gc while held (exit $?): $(cat /tmp/gc.out)"
	vgpuctl list >/tmp/list.out 2>&1
	sed 's/^/# vgpuctl list: /' /tmp/list.out
	grep "$BUSY_UUID" /tmp/list.out | grep -qi releasing && kill -0 "$BUSY_HOLDER" &&
		[ -e "/sys/devices/virtual/mtty/mtty/$BUSY_UUID" ]
}

busy_gc() {
	[ -n "$BUSY_UUID" ] || return 1
	wait "$BUSY_HOLDER"
	sed 's/^/# holder: /' /tmp/holder.out | tail -2
	vgpuctl gc >/tmp/gc.out 2>&1
	rc=$?
	sed 's/^/# gc: /' /tmp/gc.out
	note "after gc (exit $rc): $(counts), mdevs: $(mdevs), list: $(vgpuctl list 2>&1)"
	[ "$rc" = 0 ] && gone "$BUSY_UUID" "$BUSY_GROUP" && [ "$(counts)" = "$CLEAN" ] &&
		! vgpuctl list 2>/dev/null | grep -q "$BUSY_UUID"
}

hook_poststop_busyhook() {
	have vgpu-hook || return 1
	echo '{"ociVersion":"1.0","id":"busyhook","pid":0,"status":"stopped","bundle":"/tmp"}' |
		vgpu-hook --release-timeout-ms 1000 poststop
}

# A running container's vGPU goes only by force, and then its node and its device cgroup
# access go first: the group number the next allocation gets gives the old tenant EPERM.
c8_forced() {
	have vgpu-hook && have vgpuctl || return 1
	hook_bundle /tmp/b-force || return 1
	rm -f "$CTR_ROOTFS/tmp/go"
	echo 'while [ ! -e /tmp/go ]; do sleep 0.1; done; cat /dev/vfio/$(cat /tmp/group) 2>&1 | head -1' >"$CTR_ROOTFS/job.sh"
	ctr_create tenant /tmp/b-force || { sed 's/^/# tenant: /' /tmp/b-force/out; ctr_hooks_out /tmp/b-force; return 1; }
	$CRUN start tenant || return 1
	u=$(mdevs)
	g=$(group_of "$u")
	pid=$(ctr_pid tenant)
	vgpuctl release --owner tenant >/tmp/force.out 2>&1
	rc=$?
	note "release without --force: exit $rc: $(cat /tmp/force.out)"
	[ "$rc" = 1 ] && grep -q "tenant is running (pid $pid) and holds mdev $u" /tmp/force.out || return 1
	vgpuctl release --owner tenant --force >/tmp/force.out 2>&1 || { note "forced: $(cat /tmp/force.out)"; return 1; }
	note "after the forced release: mdevs $(mdevs | tr '\n' ' '), the tenant's /dev/vfio: $(ls "/proc/$pid/root/dev/vfio" | tr '\n' ' ')"
	[ ! -e "/proc/$pid/root/dev/vfio/$g" ] || { note "the tenant's node is still there"; return 1; }
	u2=$(vgpuctl allocate --owner next --type mtty-2) || return 1
	g2=$(group_of "$u2")
	note "the next allocation got group $g2 (the tenant had $g), $(cat "/sys/class/vfio/$g2/dev")"
	majmin=$(cat "/sys/class/vfio/$g2/dev")
	mknod -m 666 "/proc/$pid/root/dev/vfio/$g2" c "${majmin%:*}" "${majmin#*:}"
	echo "$g2" >"$CTR_ROOTFS/tmp/group"
	touch "$CTR_ROOTFS/tmp/go"
	i=0
	while [ "$(ctr_status tenant)" != stopped ] && [ "$i" -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
	ctr_delete tenant | sed 's/^/# delete: /'
	sed 's/^/# tenant: /' /tmp/b-force/out
	vgpuctl release --owner next >/dev/null 2>&1
	rm -f "$CTR_ROOTFS/tmp/go" "$CTR_ROOTFS/tmp/group"
	[ "$g2" = "$g" ] && grep -q "can't open '/dev/vfio/$g2': Operation not permitted" /tmp/b-force/out
}

# Side by side with mdevctl: an mdev vgpu-toolkit did not create is listed unowned and never
# touched by gc or by releases; mdevctl sees vgpuctl's allocation as an ordinary mdev.
c7_foreign() {
	have vgpuctl || return 1
	f=$(uuidgen)
	mdevctl start -u "$f" -p mtty --type mtty-1 || return 1
	u=$(vgpuctl allocate --owner side --type mtty-2) || return 1
	vgpuctl list 2>&1 | sed 's/^/# vgpuctl list: /'
	mdevctl list 2>&1 | sed 's/^/# mdevctl list: /'
	r=0
	vgpuctl list 2>/dev/null | grep "$f" | grep -q unowned || r=1
	mdevctl list 2>/dev/null | grep -q "$u" || r=1
	vgpuctl gc >/dev/null 2>&1 || r=1
	vgpuctl release --owner side || r=1
	vgpuctl release --uuid "$f" >/tmp/foreign.err 2>&1 && r=1
	note "release --uuid of the foreign mdev: $(cat /tmp/foreign.err)"
	[ -d "$DEVICES/$f" ] || r=1
	[ ! -e "$DEVICES/$u" ] || r=1
	mdevctl stop -u "$f" || r=1
	[ "$r" = 0 ] && [ "$(counts)" = "$CLEAN" ]
}

# The contract's form; the pool form vgpu-cdi itself documents (--pool TYPE=N) is the fallback
# for the node check below, so a spelling difference does not hide what the spec contains.
c6_cdi_contract() {
	have vgpu-cdi || return 1
	vgpu-cdi generate --pool 2 --type mtty-2 --output - >/tmp/cdi.json 2>/tmp/cdi.err
	rc=$?
	note "vgpu-cdi generate --pool 2 --type mtty-2: exit $rc $(head -2 /tmp/cdi.err)"
	[ "$rc" = 0 ]
}

c6_cdi() {
	have vgpu-cdi || return 1
	if [ ! -s /tmp/cdi.json ]; then
		reset_state
		vgpu-cdi generate --pool mtty-2=2 --output - >/tmp/cdi.json 2>/tmp/cdi.err ||
			{ sed 's/^/# /' /tmp/cdi.err; return 1; }
		note "used vgpu-cdi generate --pool mtty-2=2"
	fi
	jq -c '.devices[] | {name, nodes: [.containerEdits.deviceNodes[]? | "\(.path) \(.major):\(.minor)"]}' /tmp/cdi.json 2>&1 |
		sed 's/^/# cdi: /'
	jq -r '.devices[].containerEdits.deviceNodes[]? | select(.path | test("^/dev/vfio/[0-9]+$"))
	    | "\(.path) \(.major):\(.minor)"' /tmp/cdi.json 2>/dev/null | sort -u >/tmp/cdi.nodes
	n=0
	r=0
	while read -r path majmin; do
		real=$(cat "/sys/class/vfio/${path##*/}/dev" 2>/dev/null)
		note "cdi node $path $majmin, kernel $real"
		[ "$majmin" = "$real" ] || r=1
		n=$((n + 1))
	done </tmp/cdi.nodes
	note "mdevs now: $(mdevs | tr '\n' ' ')"
	[ "$n" -ge 2 ] && [ "$r" = 0 ]
}

c6_cleanup() {
	have vgpu-cdi || return 1
	for u in $(vgpuctl list --json 2>/dev/null | jq -r '.. | .uuid? // empty' 2>/dev/null); do
		vgpuctl release --uuid "$u" >/dev/null 2>&1
	done
	reset_state
	[ "$(counts)" = "$CLEAN" ]
}

# ---- part 3: the SR-IOV backend (the hook, vgpuctl, gc) on the NVMe PF ----
# sriov.json names the PF (no GPU: discovery takes Intel display PFs only) and nvme as the
# driver a given-back VF goes to.

vf_backend_setup() {
	have vgpuctl || return 1
	mkdir -p /etc/vgpu-toolkit
	printf '{"pfs": [{"address": "%s", "return_driver": "nvme"}]}\n' "$PF_ADDR" >/etc/vgpu-toolkit/sriov.json
	t0=$(vmtime now)
	vgpuctl sriov enable "$PF_ADDR" 7 || return 1
	note "vgpuctl sriov enable $PF_ADDR 7 (autoprobe 1): $(ms_since "$t0") ms"
	vgpuctl types >/tmp/types.out 2>&1
	sed -n "/^$PF_ADDR/,/^\$/p" /tmp/types.out | sed 's/^/# vgpuctl types: /'
	[ "$(vfs_present)" = 7 ] && grep -q "^$PF_ADDR\$" /tmp/types.out &&
		sed -n "/^$PF_ADDR/,/^\$/p" /tmp/types.out | grep -q 'Available instances: 7'
}

# A crun container with the hook asking for a VF; inside, vfio-probe by the VF's PCI address.
c_vf_hook() {
	have vgpu-hook || return 1
	ctr_bundle /tmp/b-vf ".hooks = {
	    createRuntime: [{path: \"/usr/bin/vgpu-hook\", args: [\"vgpu-hook\", \"createRuntime\", \"--type\", \"vf\"]}],
	    poststop: [{path: \"/usr/bin/vgpu-hook\", args: [\"vgpu-hook\", \"poststop\"]}]}" || return 1
	echo 'echo "container sees:"; ls -l /dev/vfio; exec vfio-probe auto $(cat /addr)' >"$CTR_ROOTFS/job.sh"
	t0=$(vmtime now)
	ctr_create vfctr /tmp/b-vf || { sed 's/^/# vfctr: /' /tmp/b-vf/out; ctr_hooks_out /tmp/b-vf; return 1; }
	note "crun create with the VF hook: $(ms_since "$t0") ms"
	VF_ADDR=$(vgpuctl list | awk -v pf="$PF_ADDR" '$2 == pf { print $1 }')
	[ "$(echo "$VF_ADDR" | wc -w)" = 1 ] || { note "expected one VF under vfio-pci, have: $VF_ADDR"; return 1; }
	VF_GROUP=$(vf_group "$VF_ADDR")
	show_group "$VF_GROUP"
	vgpuctl list 2>&1 | sed 's/^/# vgpuctl list: /'
	echo "$VF_ADDR" >"$CTR_ROOTFS/addr"
	ctr_start_wait vfctr
	sed 's/^/# vfctr: /' /tmp/b-vf/out
	[ "$(vf_driver "$VF_ADDR")" = vfio-pci ] &&
		[ "$(node_numbers "/dev/vfio/$VF_GROUP")" = "$(cat "/sys/class/vfio/$VF_GROUP/dev")" ] &&
		grep -q "^vfio-probe: GROUP_GET_DEVICE_FD $VF_ADDR ok" /tmp/b-vf/out && grep -q '^vfio-probe: all ok' /tmp/b-vf/out
}

# crun delete runs poststop: the VF leaves vfio-pci, driver_override is empty, nvme probes it.
c_vf_poststop() {
	[ -n "$VF_ADDR" ] || { note "no VF container to delete: its createRuntime failed"; return 1; }
	before=$(nvme_probes "$VF_ADDR")
	t0=$(vmtime now)
	ctr_delete vfctr | sed 's/^/# delete: /'
	note "crun delete (poststop gives the VF back): $(ms_since "$t0") ms"
	ctr_hooks_out /tmp/b-vf
	note "after delete: $VF_ADDR driver $(vf_driver "$VF_ADDR"), driver_override $(cat "/sys/bus/pci/devices/$VF_ADDR/driver_override")," \
		"nvme probes $before -> $(nvme_probes "$VF_ADDR"), /dev/vfio: $(ls /dev/vfio | tr '\n' ' '), ledger: $(ls "$VGPU_STATE_DIR/ledger" | wc -l)"
	[ "$(cat "/sys/bus/pci/devices/$VF_ADDR/driver_override")" = "(null)" ] && [ "$(nvme_probes "$VF_ADDR")" = $((before + 1)) ] &&
		[ ! -e "/dev/vfio/$VF_GROUP" ] && [ "$(ls "$VGPU_STATE_DIR/ledger" | wc -l)" = 0 ]
}

# Seven allocations take the seven VFs; the eighth gets the clear line; disable is refused meanwhile.
c_vf_exhaust() {
	have vgpuctl || return 1
	n=$(allocate_until vfx vf)
	note "vf: $n allocations, then: $(cat /tmp/alloc.err)"
	r=0
	[ "$n" = 7 ] || r=1
	grep -q "no VF left on $PF_ADDR (0 available)" /tmp/alloc.err || r=1
	vgpuctl sriov disable "$PF_ADDR" >/tmp/dis.err 2>&1 && r=1
	note "sriov disable while held: $(cat /tmp/dis.err)"
	grep -q "^vgpuctl: PF $PF_ADDR: VF .* is held by vfx-" /tmp/dis.err && [ "$(vfs_present)" = 7 ] || r=1
	t0=$(vmtime now)
	release_prefix vfx "$n"
	note "7 releases: $(ms_since "$t0") ms; under vfio-pci now: $(ls /sys/bus/pci/drivers/vfio-pci | grep -c '^0000')"
	[ "$r" = 0 ] && [ "$(ls /sys/bus/pci/drivers/vfio-pci | grep -c '^0000')" = 0 ] && [ "$(ls "$VGPU_STATE_DIR/ledger" | wc -l)" = 0 ]
}

# claim+release cycles through vgpuctl, timed (not a check of speed: a note).
c_vf_timing() {
	have vgpuctl || return 1
	vmtime run 7 sh -c 'vgpuctl allocate --owner "t$VMTIME_I" --type vf >/dev/null' >/tmp/t.alloc 2>&1
	rc=$?
	vmtime run 7 sh -c 'vgpuctl release --owner "t$VMTIME_I"' >/tmp/t.rel 2>&1
	note "vgpuctl allocate --type vf (claim), 7 runs: $(tail -1 /tmp/t.alloc)"
	note "vgpuctl release (give back to nvme), 7 runs: $(tail -1 /tmp/t.rel)"
	[ "$rc" = 0 ] && [ "$(ls "$VGPU_STATE_DIR/ledger" | wc -l)" = 0 ]
}

vf_busy_start() {
	VF_BUSY=$(vgpuctl allocate --owner vfbusy --type vf) || return 1
	VF_BUSY_GROUP=$(vf_group "$VF_BUSY")
	vfio-probe --hold 8 "$VF_BUSY_GROUP" "$VF_BUSY" >/tmp/vfholder.out 2>&1 &
	VF_HOLDER=$!
	i=0
	until grep -q holding /tmp/vfholder.out || [ "$i" -gt 150 ]; do sleep 0.1; i=$((i + 1)); done
	sed 's/^/# holder: /' /tmp/vfholder.out
	grep -q holding /tmp/vfholder.out
}

vf_busy_release() {
	[ -n "$VF_BUSY" ] || return 1
	t0=$(vmtime now)
	vgpuctl release --owner vfbusy --timeout-ms 1000 >/tmp/rel.out 2>&1
	rc=$?
	ms=$(ms_since "$t0")
	note "release while held: exit $rc after $ms ms: $(cat /tmp/rel.out)"
	vgpuctl list >/tmp/list.out 2>&1
	sed 's/^/# vgpuctl list: /' /tmp/list.out
	vgpuctl gc >/tmp/gc.out 2>&1
	note "gc while held (exit $?): $(cat /tmp/gc.out)"
	note "meanwhile: driver $(vf_driver "$VF_BUSY"), /dev/vfio: $(ls /dev/vfio | tr '\n' ' ')holder $(kill -0 "$VF_HOLDER" 2>/dev/null && echo alive || echo gone)"
	[ "$rc" = 1 ] && [ "$ms" -lt 3000 ] && grep -q "VF $VF_BUSY of vfbusy is still open after 1000 ms: marked releasing" /tmp/rel.out &&
		grep "^$VF_BUSY " /tmp/list.out | grep -q 'state=releasing' && grep -q "^kept .* of vfbusy (release pending)" /tmp/gc.out &&
		[ -c "/dev/vfio/$VF_BUSY_GROUP" ] && kill -0 "$VF_HOLDER"
}

vf_busy_gc() {
	[ -n "$VF_BUSY" ] || return 1
	wait "$VF_HOLDER"
	before=$(nvme_probes "$VF_BUSY")
	i=0
	while [ "$(vf_driver "$VF_BUSY")" != none ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	t0=$(vmtime now)
	vgpuctl gc >/tmp/gc.out 2>&1
	rc=$?
	note "gc after the holder exited (exit $rc, $(ms_since "$t0") ms): $(cat /tmp/gc.out)"
	note "$VF_BUSY: driver_override $(cat "/sys/bus/pci/devices/$VF_BUSY/driver_override"), nvme probes $before -> $(nvme_probes "$VF_BUSY"), ledger $(ls "$VGPU_STATE_DIR/ledger" | wc -l)"
	[ "$rc" = 0 ] && [ "$(cat "/sys/bus/pci/devices/$VF_BUSY/driver_override")" = "(null)" ] &&
		[ "$(nvme_probes "$VF_BUSY")" = $((before + 1)) ] && [ ! -e "/dev/vfio/$VF_BUSY_GROUP" ] &&
		[ "$(ls "$VGPU_STATE_DIR/ledger" | wc -l)" = 0 ]
}

c_vf_disable() {
	have vgpuctl || return 1
	t0=$(vmtime now)
	vgpuctl sriov disable "$PF_ADDR" || return 1
	note "vgpuctl sriov disable $PF_ADDR with nothing held: $(ms_since "$t0") ms"
	[ "$(vfs_present)" = 0 ]
}

# autoprobe 0 and no return_driver in the config: a VF given back stays unbound.
c_vf_noautoprobe() {
	have vgpuctl || return 1
	printf '{"pfs": [{"address": "%s"}]}\n' "$PF_ADDR" >/etc/vgpu-toolkit/sriov.json
	echo 0 >"$PF/sriov_drivers_autoprobe"
	vgpuctl sriov enable "$PF_ADDR" 7 || return 1
	before=$(dmesg | grep -c 'nvme.*: pci function')
	a=$(vgpuctl allocate --owner ap0 --type vf) || return 1
	d=$(vf_driver "$a")
	vgpuctl release --owner ap0 || return 1
	note "autoprobe 0: claimed $a ($d), given back: driver $(vf_driver "$a"), driver_override $(cat "/sys/bus/pci/devices/$a/driver_override"), nvme probes $before -> $(dmesg | grep -c 'nvme.*: pci function')"
	r=0
	[ "$d" = vfio-pci ] && [ "$(vf_driver "$a")" = none ] && [ "$(cat "/sys/bus/pci/devices/$a/driver_override")" = "(null)" ] &&
		[ "$(dmesg | grep -c 'nvme.*: pci function')" = "$before" ] || r=1
	vgpuctl sriov disable "$PF_ADDR" || r=1
	echo 1 >"$PF/sriov_drivers_autoprobe"
	rm -f /etc/vgpu-toolkit/sriov.json
	[ "$r" = 0 ]
}

vm_setup
check "modules vfio vfio_iommu_type1 mdev mtty mdpy mbochs nvme vfio_pci load" k_modules
check "parents mtty mdpy mbochs appear with their types ($CLEAN)" k_parents
check "raw sysfs create of mtty-2 gives a group node matching /sys/class/vfio/N/dev" k_raw_create
check "crun runs a busybox container (cgroup2, --no-pivot)" k_crun_hello
check "VFIO ioctls from a container given the nodes by config.json" k_probe_allowed
check "a node mknod'ed into a container without a cgroup allow: open EPERM" k_probe_denied
check "raw sysfs remove: mdev, node and iommu group gone, counts back" k_raw_remove
check "SR-IOV PF $PF_ADDR under nvme: sriov_totalvfs 7, none enabled, autoprobe 1, vfio-pci loaded" k_sriov_pf
check "enable 7 VFs with autoprobe 1: virtfn/physfn links, one IOMMU group each, nvme probed each" k_sriov_enable_autoprobe
check "raw claim of a VF (driver_override, unbind, drivers_probe): vfio-pci, node matches sysfs, ioctls by PCI address" \
	k_sriov_raw_claim
check "unbind of a held VF blocks with the device lock: driver link gone, node stays, driver_override read waits" \
	k_sriov_raw_held
check "give back: driver_override cleared, drivers_probe hands the VF to nvme again" k_sriov_raw_giveback
check "disable: every VF gone" k_sriov_disable
check "enable 7 with autoprobe 0: no driver; claim without unbind; a given-back VF stays unbound; disable" \
	k_sriov_enable_noautoprobe
reset_state
check "vgpuctl types matches sysfs (and mdevctl types)" c1_types
check "hook createRuntime --type mtty-2: the container opens its group and the VFIO ioctls work" c2_hook_container
check "crun delete (poststop): mdev, node and iommu group gone, counts back" c3_poststop
reset_state
check "hook --no-cgroup control: the group node is there but open gives EPERM" c2_hook_control
reset_state
check "exhaustion: mtty-2 12 then ENOSPC, mdpy-vga 4 then EUSERS, clear message, nothing left" c4_exhaustion
reset_state
check "a foreign mdev (mdevctl start) is listed unowned, survives gc and release --uuid" c7_foreign
reset_state
check "release --force of a running crun container: its node and cgroup access go first; recycled group gives EPERM" c8_forced
reset_state
BUSY_UUID=
check "a holder keeps an allocated mtty-2's device fd open" busy_start busy
check "vgpuctl release --timeout-ms 1000 of the held device: exit 1 within bound, says releasing" \
	busy_release vgpuctl release --owner busy --timeout-ms 1000
check "vgpuctl list shows the held device releasing" busy_listed
check "vgpuctl gc while the fd is still held keeps the releasing record" busy_gc_early
check "after the holder exits, vgpuctl gc removes it; counts back" busy_gc
reset_state
BUSY_UUID=
check "a holder keeps an allocated mtty-2's device fd open (for the hook)" busy_start busyhook precreate
check "vgpu-hook --release-timeout-ms 1000 poststop of the held device: exit 1 within bound, says releasing" \
	busy_release hook_poststop_busyhook
check "vgpuctl list shows it releasing" busy_listed
check "after the holder exits, vgpuctl gc removes it; counts back" busy_gc
reset_state
rm -f /tmp/cdi.json
check "vgpu-cdi generate --pool 2 --type mtty-2 --output - is accepted" c6_cdi_contract
check "vgpu-cdi pool of 2 mtty-2: its /dev/vfio/N nodes carry the kernel's group major:minor" c6_cdi
check "pool released, counts back" c6_cleanup
reset_state
check "sriov.json names the NVMe PF; vgpuctl sriov enable 7: type vf with 7 available" vf_backend_setup
check "hook createRuntime --type vf: crun container gets a VF, node matches sysfs, ioctls by PCI address" c_vf_hook
check "crun delete (poststop): the VF given back, driver_override empty, back to nvme (return_driver)" c_vf_poststop
check "seven VFs by vgpuctl, the eighth gets \"no VF left\"; sriov disable refused while held" c_vf_exhaust
check "claim and give-back timed (7 vgpuctl allocate, 7 release)" c_vf_timing
VF_BUSY=
check "a holder keeps an allocated VF's device fd open" vf_busy_start
check "release of the held VF: exit 1 within bound, releasing; gc while held keeps it" vf_busy_release
check "after the holder exits, gc gives the VF back: driver_override empty, back to nvme" vf_busy_gc
check "vgpuctl sriov disable with nothing held works" c_vf_disable
check "autoprobe 0, no return_driver: the VF is claimed without unbind and given back unbound" c_vf_noautoprobe
reset_state
tap_done
