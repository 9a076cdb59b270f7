# guest-lib.sh — shared by the guest scripts of the VM tier (busybox sh, sourced).
#
# Owns: mounting the guest's filesystems, loading the modules in /vm/modules.order, the
# results port, TAP-ish reporting, and the crun container helpers. The results port is the
# second serial line (ttyS1): the host reads it from a file, free of kernel messages.

RESULTS=/dev/ttyS1
tap_n=0
tap_failed=0
CRUN="crun --cgroup-manager=cgroupfs"
CTR_ROOTFS=/ctr/rootfs

# A line for both the console log and the results file.
report() {
	echo "$*"
	echo "$*" >>"$RESULTS"
}
note() { report "# $*"; }
ok() {
	tap_n=$((tap_n + 1))
	report "ok $tap_n - $*"
}
not_ok() {
	tap_n=$((tap_n + 1))
	tap_failed=$((tap_failed + 1))
	report "not ok $tap_n - $*"
}
# check DESC CMD [ARG...]: ok when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}
tap_done() {
	report "1..$tap_n"
	note "$tap_failed of $tap_n failed; guest uptime $(cut -d' ' -f1 /proc/uptime) s"
	return "$((tap_failed > 0))"
}

mounted() { grep -q " $1 " /proc/mounts 2>/dev/null; }

vm_mount() {
	mkdir -p /proc /sys /dev /run /tmp
	mounted /proc || mount -t proc proc /proc
	mounted /sys || mount -t sysfs sysfs /sys
	mounted /dev || mount -t devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm /dev/mqueue
	mounted /dev/pts || mount -t devpts devpts /dev/pts
	# cgroup2 only, and only here: crun refuses hybrid setups.
	mounted /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
	mounted /run || mount -t tmpfs -o mode=755 tmpfs /run
	mounted /tmp || mount -t tmpfs tmpfs /tmp
	exec 2>&1
	stty -F "$RESULTS" raw -echo clocal 2>/dev/null || true
}

# Every module of /vm/modules.order, in that order (dependencies first).
vm_load_modules() {
	local m failed=
	for m in $(cat /vm/modules.order); do
		insmod "/lib/modules/vm/$m" 2>/tmp/insmod.err || failed="$failed $m($(cat /tmp/insmod.err))"
	done
	[ -z "$failed" ] || note "insmod failed:$failed"
	[ -z "$failed" ]
}

vm_setup() {
	vm_mount
	note "cmdline: $(cat /proc/cmdline)"
	note "guest kernel $(uname -r), /init at $(cut -d' ' -f1 /proc/uptime) s, cgroup2 controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
}

# The container rootfs: busybox, the probe, and an entry that runs /job.sh, which the test
# writes between `crun create` (hooks ran, the mdev is known) and `crun start`.
ctr_rootfs() {
	mkdir -p "$CTR_ROOTFS/bin" "$CTR_ROOTFS/usr/bin" "$CTR_ROOTFS/proc" "$CTR_ROOTFS/dev" \
		"$CTR_ROOTFS/sys" "$CTR_ROOTFS/tmp"
	cp /bin/busybox "$CTR_ROOTFS/bin/"
	for a in sh ls cat echo stat; do ln -sf busybox "$CTR_ROOTFS/bin/$a"; done
	cp /usr/bin/vfio-probe "$CTR_ROOTFS/usr/bin/"
	printf '#!/bin/sh\nexec /bin/sh /job.sh\n' >"$CTR_ROOTFS/entry.sh"
	: >"$CTR_ROOTFS/job.sh"
}

# ctr_bundle DIR [JQ-FILTER]: crun's default spec with our rootfs and entry, plus the filter.
ctr_bundle() {
	rm -rf "$1"
	mkdir -p "$1"
	(cd "$1" && crun spec) || return 1
	# crun sends hook output to /dev/null unless these annotations name files.
	jq ".process.terminal = false | .process.args = [\"/bin/sh\", \"/entry.sh\"]
	    | .root.path = \"$CTR_ROOTFS\"
	    | .annotations[\"run.oci.hooks.stdout\"] = \"$1/hooks.out\"
	    | .annotations[\"run.oci.hooks.stderr\"] = \"$1/hooks.out\" | ${2:-.}" "$1/config.json" >"$1/config.new" &&
		mv "$1/config.new" "$1/config.json"
}

ctr_create() { $CRUN create --no-pivot --bundle "$2" "$1" >"$2/out" 2>&1; }
# What the hooks of bundle $1 printed, as notes.
ctr_hooks_out() { [ -s "$1/hooks.out" ] && sed 's/^/# hook: /' "$1/hooks.out"; }
ctr_pid() { $CRUN state "$1" 2>/dev/null | jq -r .pid; }
ctr_status() { $CRUN state "$1" 2>/dev/null | jq -r .status; }

# ctr_start_wait ID: start and wait (30 s at most) for the process to exit.
ctr_start_wait() {
	local i=0
	$CRUN start "$1" || return 1
	while [ "$(ctr_status "$1")" != stopped ]; do
		i=$((i + 1))
		[ "$i" -le 300 ] || return 1
		sleep 0.1
	done
}
ctr_delete() { $CRUN delete "$@" 2>&1; }
