# tests/cdi/lib-cdi.sh — podman 4.3.1 with vgpu-cdi specs on the simulator.
# Source after lib.sh and lib-runtime.sh.
#
# podman 4.3.1 reads specs from /etc/cdi and /var/run/cdi only (containers.conf
# cdi_spec_dirs came later), so cdi_private_ns re-executes the test in a
# private mount namespace with a fresh tmpfs over /var/run/cdi: the specs a
# test writes are seen by its own podman only and vanish with it, and the
# host's /var/run/cdi is never touched (an empty mount point is made if the
# host has none).
VGPU_CDI=${VGPU_CDI:-$BUILD/cdi/vgpu-cdi}
CDI_DIR=/var/run/cdi
CDI_SPEC=$CDI_DIR/intel.com-vgpu.json

cdi_private_ns() {
	if [ -z "${VGPU_CDI_NS:-}" ]; then
		mkdir -p /run/cdi || exit 1
		exec unshare -m --propagation private env VGPU_CDI_NS=1 "$0" "$@"
	fi
	mount -t tmpfs -o mode=0755 vgpu-cdi-test /run/cdi || { echo "Bail out! no tmpfs over /run/cdi"; exit 1; }
}

cdi() { "$VGPU_CDI" "$@"; }

# In the namespace: a ledger, podman's state dir PM_T with a busybox bundle,
# and the cleanup trap (containers first, then directories).
cdi_setup() {
	command -v podman >/dev/null || { echo "Bail out! podman is not installed"; exit 1; }
	PM_T=$(mktemp -d)
	VGPU_STATE_DIR=$(mktemp -d)
	export VGPU_STATE_DIR
	RT_DIRS+=("$PM_T" "$VGPU_STATE_DIR")
	trap 'pm_cleanup; rt_cleanup' EXIT
	make_bundle "$PM_T/b" >/dev/null
}

# podman as tests/runtime/test-hook-podman.sh runs it here.
pm() {
	podman --root "$PM_T/root" --runroot "$PM_T/run" --tmpdir "$PM_T/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
# pm_run [PODMAN-RUN-OPTIONS...] -- CMD...: a container on the busybox rootfs.
pm_run() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		opts+=("$1")
		shift
	done
	shift
	pm run --net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 "${opts[@]}" \
		--rootfs "$PM_T/b/rootfs" "$@"
}
pm_cleanup() { pm rm -af -t 0 >/dev/null 2>&1; umount -R "$PM_T/root" "$PM_T/run" 2>/dev/null; }

# What the container sees: group nodes (and what open() gives), the VFIO
# container node, and the vGPU env.
PROBE='for n in /dev/vfio/*; do case $n in */vfio) echo "VFIO $n";; *) echo "NODE $n"; cat $n 2>&1 | sed "s/^.*: /OPEN /";; esac; done; env | grep -E "^(VGPU_|MDEV_|PCI_)" | sort'

# nodes OUT: the group node lines; opens OUT: what open() gave
nodes() { printf '%s\n' "$1" | grep '^NODE ' | sort | tr '\n' ' ' | sed 's/ $//'; }
opens() { printf '%s\n' "$1" | grep '^OPEN ' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
envof() { printf '%s\n' "$1" | sed -n "s/^$2=//p"; }

# ledger_owner UUID: owner of an mdev in the ledger ("" when none)
ledger_owner() { "$VGPUCTL" list | awk -v u="$1" '$1 == u { sub("owner=", "", $4); print $4 }'; }
mdev_exists() { [ -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$1" ]; }

# spec_fields FILE: every key path of the spec that the CDI 0.5.0 reference
# parser (strict) does not know, one a line; empty when podman 4.3.1 can read it.
spec_fields() {
	python3 - "$1" <<'PY'
import json, sys
known = {
    "": {"cdiVersion", "kind", "devices", "containerEdits"},
    "devices[]": {"name", "containerEdits"},
    "edits": {"env", "deviceNodes", "hooks", "mounts"},
    "deviceNodes[]": {"path", "hostPath", "type", "major", "minor", "fileMode", "permissions", "uid", "gid"},
    "hooks[]": {"hookName", "path", "args", "env", "timeout"},
    "mounts[]": {"hostPath", "containerPath", "options", "type"},
}
bad = []
def edits(e, where):
    for k in e:
        if k not in known["edits"]: bad.append(f"{where}.{k}")
    for sub in ("deviceNodes", "hooks", "mounts"):
        for i, o in enumerate(e.get(sub, [])):
            for k in o:
                if k not in known[sub + "[]"]: bad.append(f"{where}.{sub}[{i}].{k}")
s = json.load(open(sys.argv[1]))
for k in s:
    if k not in known[""]: bad.append(k)
if s.get("cdiVersion") not in ("0.3.0", "0.4.0", "0.5.0"): bad.append("cdiVersion=" + str(s.get("cdiVersion")))
edits(s.get("containerEdits", {}), "containerEdits")
for i, d in enumerate(s.get("devices", [])):
    for k in d:
        if k not in known["devices[]"]: bad.append(f"devices[{i}].{k}")
    edits(d.get("containerEdits", {}), f"devices[{i}].containerEdits")
print("\n".join(bad))
PY
}
