#!/bin/bash
# vgpu-device-plugin runs confined (plugin/sandbox.h, profile device-plugin):
# /proc/PID/task/*/status of every thread of the running, registered
# plugin — gRPC's too — shows no capability in any set, NoNewPrivs 1 and
# Seccomp 2.  A stand-in for an exploited parser (sandbox-evil.c, wrapped
# around json-c's parser in vgpu-device-plugin-evil, linked like the plugin)
# then shows the filter: execve and socketpair kill it
# (SIGSYS) before it serves; a TCP socket gets EPERM and it goes on; a unix
# socket, which gRPC needs, works.  --no-sandbox keeps everything.
# Run as: tests/sim/with-sim tests/kubelet/test-kubelet-sandbox.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup

# CapEff CapPrm CapBnd CapInh CapAmb NoNewPrivs Seccomp of one task.
confinement() {
	awk '/^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs|Seccomp):/ { v[$1] = $2 }
	     END { print v["CapEff:"], v["CapPrm:"], v["CapBnd:"], v["CapInh:"], v["CapAmb:"], v["NoNewPrivs:"], v["Seccomp:"] }' "$1"
}
NONE=0000000000000000
CONFINED="$NONE $NONE $NONE $NONE $NONE 1 2"

plugin_start
kubelet_start
wait_for 10 kcount_above list 0
tasks=$(ls "/proc/$PLUGIN_PID/task" | wc -l)
check "registered and serving with gRPC's threads" yes "$([ "$tasks" -gt 1 ] && echo yes)"
echo "# $tasks threads"
bad=$(for t in /proc/"$PLUGIN_PID"/task/*; do
	[ "$(confinement "$t/status")" = "$CONFINED" ] || echo "$(basename "$t"): $(confinement "$t/status")"
done)
check "every thread: no capability in any set, NoNewPrivs 1, Seccomp 2" "" "$bad"
plugin_stop TERM

mine=$(awk '/^CapEff:/ {print $2}' /proc/self/status)
plugin_start --no-sandbox
wait_for 10 kcount_above list 1
check "--no-sandbox: every capability, no filter" "$mine 0 0" \
	"$(confinement "/proc/$PLUGIN_PID/status" | awk '{print $1, $6, $7}')"
plugin_stop TERM

# --- forbidden syscalls from inside the running plugin
EVIL=$BUILD/tests/kubelet/vgpu-device-plugin-evil
echo '{"scan-interval-ms": 1000}' >"$KB_T/config.json"
# evil WHAT [ARGS]: the plugin with the stand-in; its exit status once it
# stopped by itself within 5 s, or "running" (then stopped).
evil() {
	local what=$1 pid
	shift
	: >"$KB_T/evil.err"
	VGPU_TEST_EVIL=$what "$EVIL" --plugin-dir "$PLUGIN_DIR" \
		--config "$KB_T/config.json" "$@" >"$KB_T/evil.out" 2>"$KB_T/evil.err" &
	pid=$!
	KB_PIDS+=("$pid")
	if wait_for 5 grep -q "serving intel.com/vgpu" "$KB_T/evil.err"; then
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null
		echo running
	else
		wait "$pid" 2>/dev/null
		echo $?
	fi
}
check "execve from inside the plugin: killed by SIGSYS (exit 159) before it serves" 159 "$(evil execve)"
check "execve: the program never ran, no socket left" "0 0" \
	"$(grep -c EXECUTED "$KB_T/evil.out") $(ls "$PLUGIN_DIR" | grep -c vgpu-toolkit)"
check "socketpair: killed by SIGSYS" 159 "$(evil socketpair)"
check "a TCP socket: EPERM, the plugin goes on and serves" "running evil: socket(AF_INET): Operation not permitted" \
	"$(evil inet) $(grep '^evil' "$KB_T/evil.err")"
check "a unix socket: allowed (gRPC's own)" "running evil: socket(AF_UNIX): opened" \
	"$(evil unix) $(grep '^evil' "$KB_T/evil.err")"
check "--no-sandbox: the same execve runs" "0 EXECUTED" "$(evil execve --no-sandbox) $(cat "$KB_T/evil.out")"
finish
