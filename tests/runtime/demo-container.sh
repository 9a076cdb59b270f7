#!/bin/bash
# The README's main job: a busybox container gets a vGPU through vgpu-hook
# (precreate edits its config, runc runs it, poststop releases the mdev).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=${VGPU_STATE_DIR:-$(mktemp -d)}
work=$(mktemp -d)
id=vgpu-demo-$$
trap 'runc delete -f "$id" >/dev/null 2>&1; rm -rf "$work"' EXIT

VGPU_MDEV_PARENT_DEMO=$(ls "$VGPU_SYSFS_ROOT/class/mdev_bus" | head -1)
echo "== vgpuctl types"
"$VGPUCTL" types
make_bundle "$work" sh -c 'echo "-- inside the container:"; ls -l /dev/vfio; env | grep -E "^(VGPU|MDEV)_" | sort; cat /dev/vfio/[0-9]* 2>&1 | head -1'
bundle_edit "$work" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$id'"
add_hooks "$work" createRuntime
echo "== vgpu-hook precreate: allocate and edit config.json"
"$VGPU_HOOK" precreate < "$work/config.json" > "$work/config.new"
mv "$work/config.new" "$work/config.json"
"$VGPUCTL" list
echo "== runc run $id (runc deletes the container when it exits; its poststop hook releases the vGPU)"
(cd "$work" && runc run "$id")
echo "== after the container: $(mdev_count) mdevs, $(ledger_count) ledger records, i915-GVTg_V5_4 available: $(avail i915-GVTg_V5_4 "$VGPU_MDEV_PARENT_DEMO")"
