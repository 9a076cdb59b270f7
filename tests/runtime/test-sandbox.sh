#!/bin/bash
# The hook runs confined (plugin/sandbox.h): /proc/PID/status of the real
# vgpu-hook shows only its stage's capabilities in the effective, permitted
# and bounding sets, none inheritable or ambient, NoNewPrivs 1 and Seccomp 2:
# run by runc at createRuntime while the simulator holds it inside the mdev
# create (delay-create) and at poststop inside the remove (delay-remove), the
# container getting its node all the same; and for every stage, the hooks.d
# form (no stage) and vgpuctl allocate, already before it has read a byte of
# its input (stdin is a fifo the test holds).  --no-sandbox keeps everything.
#
# A stand-in for an exploited parser (sandbox-evil.c, wrapped around json-c's
# parser in vgpu-hook-evil, linked like vgpu-hook: static or not) then makes
# forbidden syscalls: execve and socket kill the hook (SIGSYS) before it
# allocates anything, also when runc runs it; a syscall no profile lists gets
# EPERM and the hook goes on.
#
# Run as: tests/sim/with-sim tests/runtime/test-sandbox.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "1..0 # SKIP needs root, runc and busybox-static"
	exit 0
fi

export VGPU_STATE_DIR=$(mktemp -d)
T=$(mktemp -d /tmp/vgpu-test-sandbox.XXXXXX)
RT_DIRS+=("$VGPU_STATE_DIR" "$T")
cleanup() {
	local p
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done # our own children still running
	echo "delay-create 0" > "$VGPU_SIM_CONTROL" 2>/dev/null
	echo "delay-remove 0" > "$VGPU_SIM_CONTROL" 2>/dev/null
	rt_cleanup
}
trap cleanup EXIT

# CapEff CapPrm CapBnd CapInh CapAmb NoNewPrivs Seccomp of a process.
confinement() {
	awk '/^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):/ { v[$1] = $2 }
	     END { print v["CapEff:"], v["CapPrm:"], v["CapBnd:"], v["CapInh:"], v["CapAmb:"], v["NoNewPrivs:"], v["Seccomp:"] }' \
		"/proc/$1/status" 2>/dev/null
}
NONE=0000000000000000
# CAP_NET_ADMIN (12), CAP_SYS_PTRACE (19), CAP_SYS_ADMIN (21), CAP_MKNOD (27), CAP_BPF (39)
ATTACH=0000008008281000
confined() { echo "$1 $1 $1 $NONE $NONE 1 2"; }

# start_held CMD...: run CMD with stdin from a fifo held open on fd 3; HELD
# is its pid once it has exec'd and sits in its first read(0, ...).
start_held() {
	rm -f "$T/in"
	mkfifo "$T/in"
	"$@" < "$T/in" > "$T/out" 2> "$T/err" &
	HELD=$!
	exec 3> "$T/in"
	for _ in $(seq 200); do
		[ "$(readlink "/proc/$HELD/exe")" = "$(readlink -f "$1")" ] &&
			[ "$(cut -d' ' -f1,2 "/proc/$HELD/syscall" 2>/dev/null)" = "0 0x0" ] && return
		sleep 0.02
	done
}
# feed TEXT: give the held process its input and close it.
feed() {
	printf '%s' "$1" >&3
	exec 3>&-
}
# finish_held: wait for it; RC is its exit status.
finish_held() {
	wait "$HELD"
	RC=$?
}
state() { # ID STATUS PID BUNDLE
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"%s","annotations":{"intel.com/vgpu":"auto"}}' "$@"
}
# wait_record STATE: until a ledger record is in STATE: the process is inside
# the create ("creating") or the remove ("releasing") that the simulator holds.
wait_record() {
	for _ in $(seq 250); do
		grep -qs "\"$1\"" "$VGPU_STATE_DIR"/ledger/*.json && return
		sleep 0.02
	done
}

# find_hook STAGE: pid of our vgpu-hook at STAGE (its exe, its argument, our
# state dir in its environment), waiting up to 5 s for it.
find_hook() {
	local exe p
	exe=$(readlink -f "$VGPU_HOOK")
	for _ in $(seq 250); do
		for p in /proc/[0-9]*; do
			[ "$(readlink "$p/exe" 2>/dev/null)" = "$exe" ] || continue
			tr '\0' '\n' < "$p/cmdline" 2>/dev/null | grep -qx "$1" || continue
			tr '\0' '\n' < "$p/environ" 2>/dev/null | grep -qx "VGPU_STATE_DIR=$VGPU_STATE_DIR" || continue
			echo "${p#/proc/}"
			return
		done
		sleep 0.02
	done
}

# --- runc runs the hook: looked at while the simulator holds it in the create
# and, at delete, in the remove
b=$(mktemp -d)
id="t-sbx-$$"
rt_track runc "$id" "$b"
make_bundle "$b" sh -c 'ls /dev/vfio'
bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$id'"
add_hooks "$b" createRuntime
echo "delay-create 1000" > "$VGPU_SIM_CONTROL"
echo "delay-remove 1000" > "$VGPU_SIM_CONTROL"
(cd "$b" && runc run "$id" > "$T/container.out" 2>&1) &
rpid=$!
hpid=$(find_hook createRuntime)
wait_record creating
check "createRuntime under runc: confined, inside the mdev create" "$(confined $ATTACH)" "$(confinement "$hpid")"
hpid=$(find_hook poststop)
wait_record releasing
check "poststop under runc: confined, no capability, inside the remove" "$(confined $NONE)" "$(confinement "$hpid")"
wait "$rpid"
check "runc run succeeds" 0 "$?"
echo "delay-create 0" > "$VGPU_SIM_CONTROL"
echo "delay-remove 0" > "$VGPU_SIM_CONTROL"
check "the container saw its group node" 1 "$(grep -cE '^[0-9]+$' "$T/container.out")"
check "after delete no mdev and no ledger record" "0 0" "$(mdev_count) $(ledger_count)"

# --- before a byte of input: each stage, hooks.d without a stage, --no-sandbox
for stage in createRuntime:$ATTACH prestart:$ATTACH precreate:$NONE poststop:$NONE; do
	start_held "$VGPU_HOOK" "${stage%%:*}"
	check "${stage%%:*}: confined before reading its input" "$(confined "${stage#*:}")" "$(confinement "$HELD")"
	feed '{}'
	finish_held
done
start_held "$VGPU_HOOK"
check "hooks.d (the input tells the stage): confined to the stages' union" "$(confined $ATTACH)" "$(confinement "$HELD")"
feed "$(state nothing-here stopped 0 "$b")"
finish_held
check "hooks.d: poststop of an unknown container is fine" 0 "$RC"
mine=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
start_held "$VGPU_HOOK" --no-sandbox poststop
check "--no-sandbox: every capability, no filter" "$mine 0 0" "$(confinement "$HELD" | awk '{print $1, $6, $7}')"
feed "$(state nothing-here stopped 0 "$b")"
finish_held

echo "delay-create 1000" > "$VGPU_SIM_CONTROL"
"$VGPUCTL" allocate --owner sbx --type auto > /dev/null &
vpid=$!
wait_record creating
check "vgpuctl allocate: confined, no capability, inside the create" "$(confined $NONE)" "$(confinement "$vpid")"
wait "$vpid"
echo "delay-create 0" > "$VGPU_SIM_CONTROL"
"$VGPUCTL" release --owner sbx

# --- forbidden syscalls from inside the hook
EVIL=$BUILD/tests/runtime/vgpu-hook-evil
interp() { readelf -l "$1" | grep -c 'program interpreter'; }
check "vgpu-hook-evil is linked as vgpu-hook is (1: dynamic, 0: static)" "$(interp "$VGPU_HOOK")" "$(interp "$EVIL")"
b2=$(mktemp -d)
RT_DIRS+=("$b2")
mkdir -p "$b2/rootfs/dev"
start_stub
spid=$STUB_PID
cp "$b/config.json" "$b2/config.json"
evil() { # WHAT HOOK-ARGS...
	local what=$1
	shift
	VGPU_TEST_EVIL=$what "$EVIL" "$@" > "$T/out" 2> "$T/err"
	echo $?
}
check "execve from inside the hook: killed by SIGSYS (exit 159)" 159 "$(evil execve --no-cgroup createRuntime < <(state e1 creating "$spid" "$b2"))"
check "execve: the program never ran, nothing allocated" "0 0 0" "$(grep -c EXECUTED "$T/out") $(mdev_count) $(ledger_count)"
check "socket from inside the hook: killed by SIGSYS" 159 "$(evil socket poststop < <(state e1 stopped 0 "$b2"))"
check "an unlisted syscall: EPERM, the hook goes on (exit 0)" "0 evil: uname: Operation not permitted" \
	"$(evil uname poststop < <(state e1 stopped 0 "$b2")) $(cat "$T/err")"
check "--no-sandbox: the same execve runs" "0 EXECUTED" \
	"$(evil execve --no-sandbox poststop < <(state e1 stopped 0 "$b2")) $(cat "$T/out")"

b3=$(mktemp -d)
id3="t-sbx-evil-$$"
rt_track runc "$id3" "$b3"
make_bundle "$b3" sh -c 'ls /dev/vfio'
entry=$(VGPU_HOOK=$EVIL hook_json createRuntime | python3 -c 'import json, sys; h = json.load(sys.stdin); h["env"] += sys.argv[1:]; print(json.dumps(h))' \
	VGPU_TEST_EVIL=execve)
bundle_edit "$b3" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$id3'; c['hooks'] = {'createRuntime': [$entry]}"
out=$(cd "$b3" && runc run "$id3" 2>&1)
check "runc: the killed hook fails the container" 1 "$(printf '%s\n' "$out" | grep -c 'bad system call')"
check "runc: no node, no mdev, no record" "0 0 0" "$(printf '%s\n' "$out" | grep -cE '^[0-9]+$') $(mdev_count) $(ledger_count)"
finish
