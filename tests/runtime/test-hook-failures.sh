#!/bin/bash
# vgpu-hook failures leave nothing behind: bad state, bad config, unknown
# type, a traversal container id, a simulator create failure, a device
# without IOMMU group, a hook SIGKILLed after create (vgpuctl gc reclaims
# it), and a release that blocks because the device is open.  No process
# outlives a poststop but the one still blocked in a remove past its bound.
# Run as: tests/sim/with-sim tests/runtime/test-hook-failures.sh
. "$(dirname "$0")/../lib.sh"
export VGPU_STATE_DIR=$(mktemp -d)
B=$(mktemp -d)
start_stub
CPID=$STUB_PID
trap 'kill $CPID 2>/dev/null; rm -rf "$VGPU_STATE_DIR" "$B"' EXIT
mkdir -p "$B/rootfs/dev"
cat > "$B/config.json" <<JSON
{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"linux":{}}
JSON

state() { # ID [STATUS] [ANNOTATION-VALUE]
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"%s","annotations":{"intel.com/vgpu":"%s"}}' \
		"$1" "${2:-creating}" "$CPID" "$B" "${3:-auto}"
}
hook() { "$VGPU_HOOK" --no-cgroup "$@"; }
# The stand-in container ends, as before a runtime's poststop, and a new one starts.
next_container() {
	kill "$CPID"
	wait "$CPID" 2>/dev/null
	start_stub
	CPID=$STUB_PID
}
nothing_left() { check "$1: nothing left" "0 0 0" "$(mdev_count) $(ledger_count) $(ls "$B/rootfs/dev" | wc -l)"; }
# left_behind CMD...: as a child subreaper, run CMD (stdin passed on); print
# its exit status and how many processes it left behind (orphans come to
# us).  With UNBLOCK=1 then unblock the simulator's removes and print how
# many of those are still there 10 s later.
left_behind() {
	python3 -c '
import ctypes, os, subprocess, sys, time
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
rc = subprocess.call(sys.argv[1:])
def alive():
    n = 0
    for p in os.listdir("/proc"):
        try:
            if p.isdigit() and open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1] == str(os.getpid()):
                n += 1
        except OSError:
            pass
    return n
out = [rc, alive()]
if os.environ.get("UNBLOCK") == "1":
    open(os.environ["VGPU_SIM_CONTROL"], "w").write("unblock-remove all\n")
    end = time.time() + 10
    while alive() and time.time() < end:
        try:
            os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    out.append(alive())
print(*out)
' "$@"
}

expect_fail "bad state JSON: one clear line" '^vgpu-hook: OCI state is not valid JSON.* at byte [0-9]+' \
	hook createRuntime <<< '{"id": "x", "pid": '
nothing_left "bad state JSON"
expect_fail "pid as a string" 'field "pid" must be an integer' hook createRuntime <<< '{"ociVersion":"1","id":"x","pid":"12","bundle":"/tmp"}'
expect_fail "traversal container id refused" 'id.*\.\./\.\./etc/x' hook createRuntime < <(state ../../etc/x)
nothing_left "traversal container id"
check "traversal id: nothing written outside the state dir" "" "$(find "$VGPU_STATE_DIR" /etc -newer "$B/config.json" -name 'x*' 2>/dev/null | head -1)"
expect_fail "unknown type" '^vgpu-hook: unknown type i915-GVTg_V9_9$' hook createRuntime < <(state c1 creating i915-GVTg_V9_9)
nothing_left "unknown type"
cp "$B/config.json" "$B/config.good"
printf '{"root": {"path": 7}}' > "$B/config.json"
expect_fail "bad config.json" 'root.*path.*must be a string' hook createRuntime < <(state c1)
cp "$B/config.good" "$B/config.json"
nothing_left "bad config"

echo "fail-create EIO" > "$VGPU_SIM_CONTROL"
expect_fail "simulator create failure" '^vgpu-hook: creating mdev [0-9a-f-]{36} of type i915-GVTg_V5_4 on 0000:00:02.0: Input/output error$' \
	hook createRuntime < <(state c1)
nothing_left "create failure"
echo "hide-iommu-group on" > "$VGPU_SIM_CONTROL"
expect_fail "hidden iommu_group" 'mdev [0-9a-f-]{36} of type i915-GVTg_V5_4 on 0000:00:02.0 got no IOMMU group within' \
	hook createRuntime < <(state c1)
echo reset > "$VGPU_SIM_CONTROL"
nothing_left "hidden iommu_group"

# --- a working createRuntime, twice (idempotent), then poststop twice
ok "createRuntime allocates and makes the nodes" hook createRuntime < <(state c2)
check "node made in the rootfs" "vfio" "$(ls "$B/rootfs/dev")"
ok "createRuntime again finds the same allocation" hook createRuntime < <(state c2)
check "still one mdev" "1 1" "$(mdev_count) $(ledger_count)"
ok "poststop while the container still runs: exit 0" hook poststop < <(state c2 stopped)
check "poststop while the container still runs leaves its vGPU" "1 1" "$(mdev_count) $(ledger_count)"
next_container
ok "poststop releases" hook poststop < <(state c2 stopped)
ok "poststop again is a no-op" hook poststop < <(state c2 stopped)
check "poststop: nothing in sysfs or ledger" "0 0" "$(mdev_count) $(ledger_count)"
rm -rf "$B/rootfs/dev/vfio"
ok "poststop of a container that never asked is exit 0" hook poststop < <(state never stopped)
ok "poststop with no stage argument (hooks.d) works" hook < <(state never stopped)

# --- precreate allocates without a pid; createRuntime records the pid; gc
# reclaims the allocation once that container process is gone
pc=precreated0123456789
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["annotations"]={"intel.com/vgpu":"auto"}; c["linux"]["cgroupsPath"]="/libpod_parent/libpod-"+sys.argv[2]; print(json.dumps(c))' \
	"$B/config.json" "$pc" > "$B/precreate-in.json"
ok "precreate allocates" hook precreate < "$B/precreate-in.json"
check "precreate record has no pid" 0 "$("$VGPUCTL" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')"
ok "createRuntime after precreate reuses it" hook createRuntime < <(state $pc)
check "still one mdev, now with the container pid" "1 $CPID" "$(mdev_count) $("$VGPUCTL" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')"
kill "$CPID"; wait "$CPID" 2>/dev/null
check "gc reclaims it once the container is gone" "released" "$("$VGPUCTL" gc | awk '{print $1}')"
check "nothing left" "0 0" "$(mdev_count) $(ledger_count)"
rm -rf "$B/rootfs/dev/vfio"
start_stub
CPID=$STUB_PID

# --- SIGKILL at each step of allocation; gc makes it consistent
for step in after-lock after-record after-create after-ledger after-node; do
	rc=$({ VGPU_CRASH_AT=$step "$BUILD/oci-hook/vgpu-hook-crash" --no-cgroup createRuntime < <(state crash-$step) >/dev/null 2>&1; echo $?; } 2>/dev/null)
	check "SIGKILL $step: the hook died by SIGKILL" 137 "$rc"
	kill "$CPID"; wait "$CPID" 2>/dev/null # the container is gone too
	ok "SIGKILL $step: vgpuctl gc" "$VGPUCTL" gc
	check "SIGKILL $step: gc left nothing" "0 0" "$(mdev_count) $(ledger_count)"
	rm -rf "$B/rootfs/dev/vfio"
	start_stub
	CPID=$STUB_PID
done

# --- nothing outlives poststop; a remove still blocked at the bound is the
# one process left, and it finishes the remove once the holder lets go
ok "createRuntime (orphan check)" hook createRuntime < <(state orphan)
next_container
check "poststop: exit 0, no process left behind" "0 0" "$(left_behind "$VGPU_HOOK" --no-cgroup poststop < <(state orphan stopped))"
check "poststop released it" "0 0" "$(mdev_count) $(ledger_count)"
rm -rf "$B/rootfs/dev/vfio"
ok "createRuntime (blocked orphan check)" hook createRuntime < <(state orphan2)
echo "block-remove all" > "$VGPU_SIM_CONTROL"
next_container
check "poststop past its bound: exit 1, its blocked remove left behind, which ends once unblocked" "1 1 0" \
	"$(UNBLOCK=1 left_behind "$VGPU_HOOK" --no-cgroup --release-timeout-ms 300 poststop < <(state orphan2 stopped) 2>/dev/null)"
check "the remove it finished took the device away" 0 "$(mdev_count)"
ok "gc drops the releasing record" "$VGPUCTL" gc
rm -rf "$B/rootfs/dev/vfio"
nothing_left "orphan checks"

# --- a release that blocks: bounded, marked releasing, finished by gc
for view in whole kernel; do
	echo "blocked-view $view" > "$VGPU_SIM_CONTROL"
	ok "[$view] createRuntime" hook createRuntime < <(state hold)
	echo "block-remove all" > "$VGPU_SIM_CONTROL"
	next_container
	t0=$(date +%s%N)
	expect_fail "[$view] blocked release: bounded, says it is marked releasing" \
		'still open after 300 ms: marked releasing, `vgpuctl gc` removes it once the holder closes it' \
		hook --release-timeout-ms 300 poststop < <(state hold stopped)
	ms=$((($(date +%s%N) - t0) / 1000000))
	check "[$view] poststop returned within its bound (+2 s slack)" yes "$([ $ms -lt 2300 ] && echo yes || echo "no: $ms ms")"
	check "[$view] list shows it releasing" 1 "$("$VGPUCTL" list | grep -c 'owner=hold state=releasing')"
	EXPECT_RC=1 expect_fail "[$view] gc while still held keeps it" 'gc could not reclaim every allocation' "$VGPUCTL" gc --timeout-ms 200
	echo "unblock-remove all" > "$VGPU_SIM_CONTROL"
	sleep 0.5
	ok "[$view] gc after the holder is gone" "$VGPUCTL" gc
	check "[$view] nothing left" "0 0" "$(mdev_count) $(ledger_count)"
	rm -rf "$B/rootfs/dev/vfio"
done
finish
