# tests/kubelet/lib-kubelet.sh — vgpu-device-plugin and the fake kubelet on
# the simulator.  Source after lib.sh.  kb_setup makes a private directory
# KB_T (the device-plugin directory, a ledger) and the EXIT trap that stops
# every process started here, runs the functions in KB_AT_EXIT (podman,
# runc) and removes the directories, also when a test fails half-way.
VGPU_DEVICE_PLUGIN=${VGPU_DEVICE_PLUGIN:-$BUILD/plugin/kubelet/vgpu-device-plugin}
FAKE_KUBELET=("/usr/bin/python3" "$REPO/tests/kubelet/fake-kubelet.py")
RESOURCE=intel.com/vgpu
OWNER_PREFIX=vgpu-device-plugin.intel.com_vgpu.
KB_PIDS=()
KB_AT_EXIT=()

kb_setup() {
	[ -x "$VGPU_DEVICE_PLUGIN" ] || {
		echo "Bail out! $VGPU_DEVICE_PLUGIN is not built (meson -Dkubelet=enabled)"
		exit 1
	}
	/usr/bin/python3 -c 'import grpc, google.protobuf' 2>/dev/null || {
		echo "Bail out! /usr/bin/python3 lacks grpc or protobuf (python3-grpcio, python3-protobuf: scripts/deps.sh)"
		exit 1
	}
	command -v protoc >/dev/null && [ -x /usr/bin/grpc_python_plugin ] || {
		echo "Bail out! protoc or grpc_python_plugin missing (protobuf-compiler, protobuf-compiler-grpc)"
		exit 1
	}
	KB_T=$(mktemp -d /tmp/vgpu-kubelet.XXXXXX)
	PLUGIN_DIR=$KB_T/device-plugins
	mkdir -p "$PLUGIN_DIR"
	VGPU_STATE_DIR=$KB_T/state
	export VGPU_STATE_DIR
	SOCK=$PLUGIN_DIR/vgpu-toolkit-intel-com-vgpu.sock
	KLOG=$KB_T/kubelet.log
	PLOG=$KB_T/plugin.log
	: >"$KLOG"
	: >"$PLOG"
	trap kb_cleanup EXIT
}

# kb_setup_engines ARGS...: for the tests that run containers (podman with
# CDI, runc; source lib-runtime.sh and lib-cdi.sh first): a private
# /var/run/cdi (cdi_private_ns runs the test again with ARGS), kb_setup,
# cdi_setup, and kb_cleanup as the EXIT trap again (cdi_setup sets its own)
# with podman's and runc's cleanup in it.
kb_setup_engines() {
	cdi_private_ns "$@"
	kb_setup
	cdi_setup
	KB_AT_EXIT+=(pm_cleanup rt_cleanup)
	trap kb_cleanup EXIT
}

kb_cleanup() {
	local p f
	for p in "${KB_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${KB_PIDS[@]}"; do
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ "$_failed" = 0 ] || sed 's/^/#   plugin: /' "$PLOG" | tail -40
	for f in "${KB_AT_EXIT[@]}"; do "$f"; done
	rm -rf "$KB_T"
}

# wait_for SECONDS CMD...: run CMD every 50 ms until it succeeds; 1 if it
# never did in time.
wait_for() {
	local end=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
now() { date +%s.%N; }
# ms FROM TO: milliseconds between two now()/"t" values
ms() { python3 -c 'import sys; print(round((float(sys.argv[2]) - float(sys.argv[1])) * 1000))' "$1" "$2"; }

# plugin_start ARGS...: the plugin in the background (PLUGIN_PID), its
# stderr appended to PLOG.
plugin_start() {
	"$VGPU_DEVICE_PLUGIN" --plugin-dir "$PLUGIN_DIR" "$@" 2>>"$PLOG" &
	PLUGIN_PID=$!
	KB_PIDS+=("$PLUGIN_PID")
}
# plugin_stop [SIGNAL]: PLUGIN_RC is its exit status.
plugin_stop() {
	kill "-${1:-TERM}" "$PLUGIN_PID"
	wait "$PLUGIN_PID" 2>/dev/null
	PLUGIN_RC=$?
}
plugin_logged() { grep -qE -- "$1" "$PLOG"; }
plugin_lines() { grep -cE -- "$1" "$PLOG"; }

# kubelet_start [ARGS...]: the fake kubelet (KUBELET_PID), back once its
# kubelet.sock serves.
kubelet_start() {
	local before
	before=$(kcount serving)
	"${FAKE_KUBELET[@]}" serve "$PLUGIN_DIR" --log "$KLOG" "$@" &
	KUBELET_PID=$!
	KB_PIDS+=("$KUBELET_PID")
	wait_for 20 kcount_above serving "$before"
}
kubelet_stop() {
	kill "-${1:-TERM}" "$KUBELET_PID"
	wait "$KUBELET_PID" 2>/dev/null
}
# kubelet_restart_in_place: SIGHUP, back once it serves again.
kubelet_restart_in_place() {
	local before
	before=$(kcount serving)
	kill -HUP "$KUBELET_PID"
	wait_for 20 kcount_above serving "$before"
}

# kcount EVENT: how many EVENT lines the fake kubelet wrote.
kcount() { grep -c "\"event\": \"$1\"" "$KLOG"; }
kcount_above() { [ "$(kcount "$1")" -gt "$2" ]; }
# klast EVENT FIELD: FIELD of the last EVENT line.
klast() {
	python3 -c '
import json, sys
last = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == sys.argv[2]:
        last = e
print("" if last is None else last.get(sys.argv[3], ""))' "$KLOG" "$1" "$2"
}
# last_list: the last list ListAndWatch sent, "ID:Health" a line, sorted.
last_list() {
	python3 -c '
import json, sys
last = []
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "list":
        last = e["devices"]
print("\n".join(sorted(d["id"] + ":" + d["health"] for d in last)))' "$KLOG"
}
# list_is EXPECTED: the last list is EXPECTED (for wait_for).
list_is() { [ "$(last_list)" = "$1" ]; }
# first_list_time_with PATTERN AFTER: t of the first list after time AFTER
# whose "ID:Health" lines match PATTERN (a Python regex), "" if none.
list_time() {
	python3 -c '
import json, re, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "list" and e["t"] > float(sys.argv[3]):
        if re.search(sys.argv[2], "\n".join(sorted(d["id"] + ":" + d["health"] for d in e["devices"])), re.M):
            print(e["t"]); break' "$KLOG" "$1" "$2"
}

# kcall METHOD [JSON]: a DevicePlugin call on the plugin's socket.
kcall() { "${FAKE_KUBELET[@]}" call "$SOCK" "$@"; }
# allocate ID...: Allocate for one container.
allocate() {
	kcall Allocate "$(python3 -c 'import json, sys; print(json.dumps({"container_requests": [{"devices_ids": sys.argv[1:]}]}))' "$@")"
}
# jget JSON PYTHON-EXPR-ON-r: a field of a JSON answer.
jget() { python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }

# Expected lists, from vgpuctl.
# dynamic_expected TYPE: "<parent>-<n>:Healthy" for every instance each
# parent holds of TYPE (available + active), sorted like last_list.
dynamic_expected() {
	"$VGPUCTL" types --json | python3 -c '
import json, sys
out = []
for p in json.load(sys.stdin):
    for t in p["types"]:
        if t["type"] == sys.argv[1]:
            out += ["%s-%d:Healthy" % (p["parent"], i) for i in range(t["available_instances"] + t["active"])]
print("\n".join(sorted(out)))' "$1"
}
# pool_expected: "<uuid>:Healthy" for each mdev the plugin owns in the ledger.
pool_expected() {
	"$VGPUCTL" list --json | python3 -c '
import json, sys
print("\n".join(sorted(m["uuid"] + ":Healthy" for m in json.load(sys.stdin)
                       if (m.get("owner") or "").startswith(sys.argv[1]))))' "$OWNER_PREFIX"
}
# open_fds PID: how many fds the process has open.
open_fds() { ls "/proc/$1/fd" | wc -l; }
