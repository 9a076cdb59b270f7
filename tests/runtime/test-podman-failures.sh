#!/bin/bash
# podman 4.3.1 with the packaged precreate hooks.d file on the simulator,
# when the runtime's create fails: the allocation precreate made is bound to
# the container's pid by the file's prestart stage when there is a
# container, and reclaimed within its bound when there never is one; a GPU
# that failed creates filled is reclaimed when the next good container asks.
# A failing hook's reason reaches the hook's log, where podman shows only
# "exit status 1".  Run as: tests/sim/with-sim tests/runtime/test-podman-failures.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
T=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR" "$T")
trap 'podman_cleanup; rt_cleanup' EXIT
command -v podman >/dev/null || { echo "Bail out! podman is not installed"; exit 1; }
pm() {
	podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc --hooks-dir "$T/hooks" "$@"
}
podman_cleanup() { pm rm -af -t 0 >/dev/null 2>&1; umount -R "$T/root" "$T/run" 2>/dev/null; }
UNBOUND=3

# The packaged precreate file, pointing at this build and the test roots; the
# hook's own settings as its arguments.
mkdir -p "$T/hooks"
python3 - "$REPO/packaging/hooks.d/vgpu-toolkit-precreate.json.in" "$VGPU_HOOK" "$T/hook.log" "$UNBOUND" \
	>"$T/hooks/vgpu-toolkit-precreate.json" <<'PY'
import json, os, sys
h = json.loads(open(sys.argv[1]).read().replace("@HOOK@", sys.argv[2]))
h["hook"]["args"] += ["--log", sys.argv[3], "--unbound-after", sys.argv[4]]
h["hook"]["env"] = [f"{k}={os.environ[k]}" for k in ("VGPU_SYSFS_ROOT", "VGPU_DEV_ROOT", "VGPU_STATE_DIR")]
print(json.dumps(h, indent=1))
PY
check "the packaged precreate file also runs a stage that binds the pid" yes \
	"$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["stages"]; print("yes" if "precreate" in s and ("prestart" in s or "createRuntime" in s) and "poststop" in s else s)' "$T/hooks/vgpu-toolkit-precreate.json")"
make_bundle "$T/b"
# run [PODMAN-RUN-OPTIONS...] -- CMD...: a container on the busybox rootfs.
run() {
	local opts=()
	while [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	pm run --net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "${opts[@]}" --rootfs "$T/b/rootfs" "$@"
}
pid_of() { "$VGPUCTL" list --json | python3 -c 'import json,sys; print(*[m["pid"] for m in json.load(sys.stdin)])'; }

# --- a good container: precreate allocates, prestart binds its pid
cid=$(run -d --annotation intel.com/vgpu=i915-GVTg_V5_8 -- sh -c 'sleep 300' 2>&1)
check "running: one vGPU, bound to the container's pid" "1 $(pm inspect -f '{{.State.Pid}}' "$cid")" "$(mdev_count) $(pid_of)"
check "running: gc leaves it" "nothing to reclaim" "$("$VGPUCTL" gc --unbound-after 1)"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "running: podman rm released it" "0 0" "$(mdev_count) $(ledger_count)"

# --- the runtime's create fails after the container's init exists (an rlimit
# it may not raise): the prestart stage had bound the pid, gc reclaims at once
run --rm --annotation intel.com/vgpu=auto --ulimit nofile=99999999:99999999 -- true >/dev/null 2>&1
check "rlimit failure: the vGPU was bound to the dead container's pid" "1 yes" \
	"$(mdev_count) $([ "$(pid_of)" -gt 0 ] && echo yes)"
check "rlimit failure: gc reclaims it, container gone" 1 "$("$VGPUCTL" gc | grep -c '(container gone)$')"
check "rlimit failure: nothing left" "0 0" "$(mdev_count) $(ledger_count)"

# --- the runtime's create fails before any container exists (a runtime that
# refuses the config): nothing ever binds precreate's allocation
cat >"$T/runtime" <<'SH'
#!/bin/sh
for a in "$@"; do [ "$a" = create ] && { echo "refused by the test's runtime" >&2; exit 1; }; done
exec runc "$@"
SH
chmod +x "$T/runtime"
for i in 1 2 3 4 5 6 7; do
	run --rm --runtime "$T/runtime" --annotation intel.com/vgpu=i915-GVTg_V5_8 -- true >/dev/null 2>&1
done
check "failed creates: precreate allocated each time, the V5_8 budget is used up" \
	"7 0" "$(mdev_count) $(cat "$VGPU_SYSFS_ROOT/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_8/available_instances")"
check "failed creates: no pid was ever bound" "0 0 0 0 0 0 0" "$(pid_of)"
check "failed creates: gc keeps them within the bound" "nothing to reclaim" "$("$VGPUCTL" gc --unbound-after 600)"
sleep $((UNBOUND + 1))
out=$(run --rm --annotation intel.com/vgpu=i915-GVTg_V5_8 -- sh -c 'ls /dev/vfio | grep -c "^[0-9]"' 2>&1)
check "past the bound, the next good container gets a vGPU: the hook reclaimed the failed ones" 1 "$out"
check "and nothing is left after it" "0 0" "$(mdev_count) $(ledger_count)"

run --rm --runtime "$T/runtime" --annotation intel.com/vgpu=auto -- true >/dev/null 2>&1
check "one more failed create: its vGPU is unbound" "1 0" "$(mdev_count) $(pid_of)"
sleep $((UNBOUND + 1))
out=$("$VGPUCTL" gc --unbound-after "$UNBOUND")
check "vgpuctl gc --unbound-after reclaims it past the bound" 1 \
	"$(printf '%s\n' "$out" | grep -c "^released .*(no stage bound it to a container: the runtime's create failed)$")"
check "nothing left" "0 0" "$(mdev_count) $(ledger_count)"

# --- the container exists but its command does not: the pid was bound, gc reclaims once it is gone
run --rm --annotation intel.com/vgpu=auto -- /no/such/command >/dev/null 2>&1
"$VGPUCTL" gc >/dev/null
check "a missing command: nothing left once gc ran (no unbound bound needed)" "0 0" "$(mdev_count) $(ledger_count)"

# --- a failing hook: podman says "exit status 1", the log says why
out=$(run --rm --annotation intel.com/vgpu=i915-GVTg_V9_9 -- true 2>&1)
check "a refused request: podman fails the container, saying no more than exit status 1" yes \
	"$(printf '%s\n' "$out" | grep -q 'exit status 1' && ! printf '%s\n' "$out" | grep -q 'unknown type' && echo yes)"
check "the hook's log has the reason and the container's id" 1 \
	"$(grep -cE 'vgpu-hook\[[0-9]+\]: container [0-9a-f]{64}: unknown type i915-GVTg_V9_9' "$T/hook.log")"
check "a refused request: nothing left" "0 0" "$(mdev_count) $(ledger_count)"
finish
