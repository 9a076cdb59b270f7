#!/bin/bash
# podman 4.3.1 with --hooks-dir: the packaged precreate file and prestart file
# (packaging/hooks.d) each give a container its vGPU when it is annotated
# intel.com/vgpu=auto; `podman run --rm` releases it.
# Run as: tests/sim/with-sim tests/runtime/test-hook-podman.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
T=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR" "$T")
trap 'podman_cleanup; rt_cleanup' EXIT
command -v podman >/dev/null || { echo "podman is not installed"; exit 1; }

pm() {
	podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --storage-driver vfs \
		--cgroup-manager cgroupfs --events-backend file --runtime runc --hooks-dir "$T/hooks" "$@"
}
podman_cleanup() { pm rm -af >/dev/null 2>&1; umount -R "$T/root" "$T/run" 2>/dev/null; }

# hooks.d file from the packaged template, pointing at this build and the test roots
install_hook() {
	rm -rf "$T/hooks"
	mkdir -p "$T/hooks"
	python3 - "$REPO/packaging/hooks.d/$1.in" "$VGPU_HOOK" > "$T/hooks/$1" <<'PY'
import json, os, sys
h = json.loads(open(sys.argv[1]).read().replace("@HOOK@", sys.argv[2]))
h["hook"]["env"] = [f"{k}={os.environ[k]}" for k in ("VGPU_SYSFS_ROOT", "VGPU_DEV_ROOT", "VGPU_STATE_DIR")]
print(json.dumps(h, indent=1))
PY
}

make_bundle "$T/b"
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n"; cat $n 2>&1 | sed "s/^/OPEN /";; esac; done; env | grep ^VGPU_MDEV_UUID= || echo "NOENV"'

for file in vgpu-toolkit-precreate.json vgpu-toolkit-prestart.json; do
	install_hook "$file"
	out=$(pm run --rm --net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
		--annotation intel.com/vgpu=auto --rootfs "$T/b/rootfs" sh -c "$probe" 2>&1)
	check "$file: one group node in the container" 1 "$(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
	check "$file: open() gives ENXIO (allowed)" 1 "$(printf '%s\n' "$out" | grep -c "^OPEN .*No such device or address")"
	if [ "$file" = vgpu-toolkit-precreate.json ]; then
		check "$file: env VGPU_MDEV_UUID set" 1 "$(printf '%s\n' "$out" | grep -cE '^VGPU_MDEV_UUID=[0-9a-f-]{36}$')"
	else
		check "$file: prestart cannot set env (documented)" NOENV "$(printf '%s\n' "$out" | tail -1)"
	fi
	check "$file: podman rm released the mdev and the record" "0 0" "$(mdev_count) $(ledger_count)"
	[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
done

install_hook vgpu-toolkit-precreate.json
out=$(pm run --rm --net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --rootfs "$T/b/rootfs" sh -c 'ls /dev/vfio 2>&1' 2>&1)
check "no annotation: the hook is not run, nothing allocated" "ls: /dev/vfio: No such file or directory|0" "$out|$(mdev_count)"

# Without --hooks-dir: podman finds the precreate file through the packaged
# containers.conf drop-in (packaging/hooks.d/50-vgpu-toolkit.conf.in, here
# naming $T/hooks), laid over /etc/containers in a private mount namespace.
mkdir -p "$T/etc/containers.conf.d"
sed "s|@PODMAN_HOOKS_DIR@|$T/hooks|" "$REPO/packaging/hooks.d/50-vgpu-toolkit.conf.in" >"$T/etc/containers.conf.d/50-vgpu-toolkit.conf"
out=$(unshare -m --propagation private bash -c 'mount -t overlay overlay -o "lowerdir=$1:/etc/containers" /etc/containers || exit 99
	shift
	exec "$@"' _ "$T/etc" podman --root "$T/root" --runroot "$T/run" --tmpdir "$T/tmp" --storage-driver vfs \
	--cgroup-manager cgroupfs --events-backend file --runtime runc run --rm --net none --ulimit nofile=20000:20000 \
	--ulimit nproc=32768:32768 --annotation intel.com/vgpu=auto --rootfs "$T/b/rootfs" sh -c "$probe" 2>&1)
check "through the drop-in: one group node and VGPU_MDEV_UUID in the container" "1 1" \
	"$(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]') $(printf '%s\n' "$out" | grep -cE '^VGPU_MDEV_UUID=[0-9a-f-]{36}$')"
check "through the drop-in: podman rm released it" "0 0" "$(mdev_count) $(ledger_count)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
finish
