# tests/lib.sh — shared helpers for the shell tests (TAP output).
# Source it; call `ok NAME CMD...`, `expect_fail NAME PATTERN CMD...`, and
# `finish` at the end (exit 1 if anything failed).  BUILD names the build dir.
set -u
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$REPO/build}
VGPUCTL=$BUILD/plugin/vgpuctl
VGPU_HOOK=$BUILD/oci-hook/vgpu-hook
VGPU_CDI=$BUILD/cdi/vgpu-cdi
_n=0
_failed=0

_report() { # status name [detail]
	_n=$((_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $_n - $2"
	else
		echo "not ok $_n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
		_failed=$((_failed + 1))
	fi
}

# ok NAME CMD...: CMD must succeed.
ok() {
	local name=$1 out
	shift
	out=$("$@" 2>&1)
	_report $? "$name" "$out"
}

# expect_fail NAME ERE CMD...: CMD must fail (exit 1 unless EXPECT_RC is set)
# with exactly one stderr line that matches ERE.
expect_fail() {
	local name=$1 re=$2 rc err
	shift 2
	err=$("$@" 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" != "${EXPECT_RC:-1}" ]; then
		_report 1 "$name" "exit $rc, wanted ${EXPECT_RC:-1}; stderr: $err"
	elif [ "$(printf '%s\n' "$err" | wc -l)" != 1 ]; then
		_report 1 "$name" "stderr is not one line: $err"
	elif ! printf '%s\n' "$err" | grep -Eq -- "$re"; then
		_report 1 "$name" "stderr does not match /$re/: $err"
	else
		_report 0 "$name"
	fi
}

# check NAME EXPECTED ACTUAL
check() {
	if [ "$2" = "$3" ]; then
		_report 0 "$1"
	else
		_report 1 "$1" "expected: $2
actual:   $3"
	fi
}

skip() { _n=$((_n + 1)); echo "ok $_n - $1 # SKIP $2"; }

finish() {
	echo "1..$_n"
	[ "$_failed" = 0 ] || { echo "# $_failed of $_n failed"; exit 1; }
	exit 0
}

# Number of mdevs in the simulated (or real) sysfs.
mdev_count() { ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" 2>/dev/null | wc -l; }
ledger_count() { ls "$VGPU_STATE_DIR/ledger" 2>/dev/null | grep -c '\.json$'; }
avail() { cat "$VGPU_SYSFS_ROOT/class/mdev_bus/${2:-0000:00:02.0}/mdev_supported_types/$1/available_instances"; }

# A stand-in for a container's init, for states written by hand: a process
# in a mount namespace of its own (the hook refuses a pid that shares its
# namespace: that is no container), where the same files are visible.
# start_stub sets STUB_PID once the process is in its namespace.
start_stub() {
	(exec unshare -m --propagation private sleep 1000) &
	STUB_PID=$!
	while [ "$(readlink "/proc/$STUB_PID/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]; do sleep 0.01; done
}

# record_file UUID: the ledger file of an mdev's record (its name carries the
# owner: <kind>.<id>.<uuid>.json).
record_file() { ls -d "$VGPU_STATE_DIR"/ledger/*"$1".json 2>/dev/null | head -1; }

# SR-IOV on the simulator's sriov.conf (the PF 0000:00:02.0, VFs 00:02.1-7).
# pci_driver ADDR: the driver that has a PCI function, "none" when unbound;
# vf_states: each VF as ADDR:DRIVER:DRIVER_OVERRIDE (never while a VF is
# leaving vfio-pci: reading its driver_override waits on the device lock);
# VF_ALL_I915: what vf_states says of seven VFs given back to i915.
pci_driver() {
	local l
	l=$(readlink "$VGPU_SYSFS_ROOT/bus/pci/devices/$1/driver") && basename "$l" || echo none
}
vf_states() {
	local i a
	for i in 1 2 3 4 5 6 7; do
		a=0000:00:02.$i
		printf '%s:%s:%s ' "$a" "$(pci_driver "$a")" "$(cat "$VGPU_SYSFS_ROOT/bus/pci/devices/$a/driver_override")"
	done
}
VF_ALL_I915=$(for i in 1 2 3 4 5 6 7; do printf '0000:00:02.%s:i915:(null) ' "$i"; done)
vfio_pci_count() { ls "$VGPU_SYSFS_ROOT/bus/pci/drivers/vfio-pci" 2>/dev/null | grep -c '^0000'; }
