#!/bin/bash
# The main job on a fresh Debian 12 machine, as root: build, then give a real
# busybox container a vGPU through vgpu-hook with runc, show what it sees,
# delete it and show the mdev gone.  On the GVT-g simulator when this host
# has no mdev parent (no Intel GPU with GVT-g).
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
deps_install "${BUILD_DEPS[@]}" runc busybox-static python3
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null

if [ -z "${VGPU_SYSFS_ROOT:-}" ] && [ -n "$(ls /sys/class/mdev_bus 2>/dev/null)" ]; then
	echo "== real mdev parents found: using /sys"
	exec tests/runtime/demo-container.sh
fi
echo "== no mdev parent on this host: starting the GVT-g simulator"
exec tests/sim/with-sim tests/runtime/demo-container.sh
