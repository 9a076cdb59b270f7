# tests/runtime/lib-runtime.sh — busybox bundles and runtimes for the tests.
# Needs lib.sh sourced first.  Every container and directory made here is
# registered and removed by rt_cleanup (call it from an EXIT trap).
RT_DIRS=()
RT_CONTAINERS=()

# make_bundle DIR [ARGS...]: busybox-static rootfs and a runc spec running ARGS.
make_bundle() {
	local b=$1
	shift
	mkdir -p "$b/rootfs/bin" "$b/rootfs/dev" "$b/rootfs/proc" "$b/rootfs/sys" "$b/rootfs/tmp"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	for c in sh ls cat stat env echo sleep head; do ln -sf busybox "$b/rootfs/bin/$c"; done
	(cd "$b" && runc spec)
	python3 - "$b/config.json" "$@" <<'PY'
import json, sys
path, args = sys.argv[1], sys.argv[2:] or ["sh", "-c", "true"]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["root"]["readonly"] = False
json.dump(c, open(path, "w"), indent=1)
PY
}

# bundle_edit BUNDLE PYTHON-EXPR-ON-c: edit config.json in place.
bundle_edit() {
	python3 - "$1/config.json" "$2" <<'PY'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(expr)
json.dump(c, open(path, "w"), indent=1)
PY
}

# hook_json STAGE [ARGS...]: one OCI hook entry running vgpu-hook with the test roots.
hook_json() {
	python3 - "$VGPU_HOOK" "$@" <<'PY'
import json, os, sys
hook, args = sys.argv[1], sys.argv[2:]
env = [f"{k}={os.environ[k]}" for k in ("VGPU_SYSFS_ROOT", "VGPU_DEV_ROOT", "VGPU_STATE_DIR") if k in os.environ]
print(json.dumps({"path": hook, "args": ["vgpu-hook"] + args, "env": env, "timeout": 30}))
PY
}

# add_hooks BUNDLE STAGE [HOOK-ARGS...]: vgpu-hook at STAGE and at poststop.
add_hooks() {
	local b=$1 stage=$2
	shift 2
	bundle_edit "$b" "c.setdefault('hooks', {}).setdefault('$stage', []).append($(hook_json "$stage" "$@")); c['hooks'].setdefault('poststop', []).append($(hook_json poststop))"
}

# crun cannot run on this hybrid cgroup host as is: hide the unified
# hierarchy's controllers in a private mount namespace (shared/facts/runtimes.md).
crun_wrapped() {
	local empty
	empty=$(mktemp)
	RT_DIRS+=("$empty")
	if grep -q ' /sys/fs/cgroup/unified cgroup2' /proc/self/mounts; then
		unshare -m --propagation private sh -c 'mount --bind "$0" /sys/fs/cgroup/unified/cgroup.controllers && exec crun "$@"' "$empty" "$@"
	else
		crun "$@"
	fi
}

# rt RUNTIME ARGS...: runc or crun (wrapped).
rt() {
	local runtime=$1
	shift
	case $runtime in
	runc) runc "$@" ;;
	crun) crun_wrapped "$@" ;;
	esac
}

rt_track() { RT_CONTAINERS+=("$1:$2"); RT_DIRS+=("$3"); }

# rt_bundle ID [ARGS...]: $b, a new busybox bundle running ARGS in cgroup
# /ID, tracked as runc's container ID for cleanup.
rt_bundle() {
	local id=$1
	shift
	b=$(mktemp -d)
	rt_track runc "$id" "$b"
	make_bundle "$b" "$@"
	bundle_edit "$b" "c['linux']['cgroupsPath'] = '/$id'"
}

# shim_config FILE [JSON-KEYS]: a vgpu-runtime config with the test's hook
# and roots ($VGPU_HOOK, $VGPU_SYSFS_ROOT, $VGPU_DEV_ROOT, $VGPU_STATE_DIR),
# plus KEYS ('"accept_env": false').
shim_config() {
	printf '{ "hook": "%s", "roots": { "sysfs": "%s", "dev": "%s", "state": "%s" }%s }\n' \
		"$VGPU_HOOK" "$VGPU_SYSFS_ROOT" "$VGPU_DEV_ROOT" "$VGPU_STATE_DIR" "${2:+, $2}" >"$1"
}

rt_cleanup() {
	local c
	for c in "${RT_CONTAINERS[@]}"; do
		rt "${c%%:*}" delete -f "${c#*:}" >/dev/null 2>&1
	done
	for c in "${RT_DIRS[@]}"; do rm -rf "$c"; done
}
