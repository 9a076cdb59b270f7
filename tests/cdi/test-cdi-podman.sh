#!/bin/bash
# podman 4.3.1 resolves the specs vgpu-cdi writes: the dynamic devices
# (auto, a type: vgpu-hook makes the mdev, `podman rm` removes it) and the pool
# devices by index and by UUID (fixed nodes and env; the mdev outlives the
# container).  `list`, `check` (stale when a type or a pool mdev is gone) and
# `remove`.  Run as: tests/sim/with-sim tests/cdi/test-cdi-podman.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/lib-cdi.sh"
cdi_private_ns "$@"
cdi_setup
POOL_SPEC=$CDI_DIR/intel.com-vgpu-pool.json

# --- dynamic spec
ok "generate the dynamic spec" cdi generate --hook-path "$VGPU_HOOK"
check "it is mode 0644, no temp file beside it" "644 intel.com-vgpu.json" "$(stat -c %a "$CDI_SPEC") $(ls -A "$CDI_DIR")"
check "no field podman 4.3.1 rejects, cdiVersion <= 0.5.0" "" "$(spec_fields "$CDI_SPEC")"
check "cdiVersion is the lowest the fields need (names start with a letter)" 0.3.0 \
	"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cdiVersion"])' "$CDI_SPEC")"
check "list: a device per type and auto" \
	"intel.com/vgpu=i915-GVTg_V5_1 intel.com/vgpu=i915-GVTg_V5_2 intel.com/vgpu=i915-GVTg_V5_4 intel.com/vgpu=i915-GVTg_V5_8 intel.com/vgpu=auto" \
	"$(cdi list | tr '\n' ' ' | sed 's/ $//')"
ok "check: fresh" cdi check

# Resolvable: podman says "unresolvable CDI devices" for any spec it refuses.
out=$(pm_run --rm --device intel.com/vgpu=auto -- sh -c "$PROBE" 2>&1)
rc=$?
check "podman resolves intel.com/vgpu=auto (exit 0, not unresolvable)" "0 0" "$rc $(printf '%s\n' "$out" | grep -c unresolvable)"
check "auto: the container sees the VFIO node and one group node" "VFIO /dev/vfio/vfio 1" \
	"$(printf '%s\n' "$out" | grep '^VFIO') $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
check "auto: open() of the group node gives ENXIO (allowed, no driver)" "OPEN No such device or address" "$(opens "$out")"
check "auto: podman run --rm released the mdev and its record" "0 0" "$(mdev_count) $(ledger_count)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'

# A type by name, in a container that stays up: its mdev exists until `podman rm`.
cid=$(pm_run -d --device intel.com/vgpu=i915-GVTg_V5_4 -- sh -c 'sleep 300' 2>&1)
check "V5_4: podman run -d resolves the device" 0 "$?"
uuid=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" 2>/dev/null)
check "V5_4: one mdev of that type, owned by the container" "1 i915-GVTg_V5_4 $cid" \
	"$(mdev_count) $(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/mdev_type")") $(ledger_owner "$uuid")"
out=$(pm exec "$cid" sh -c "$PROBE" 2>&1)
check "V5_4: the container sees its group node" \
	"NODE /dev/vfio/$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/iommu_group")")" "$(nodes "$out")"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "V5_4: after podman rm the mdev and its record are gone" "0 0" "$(mdev_count) $(ledger_count)"

# --- pool spec beside it (same kind, other file, other names)
ok "generate a pool of two V5_4" cdi generate --pool i915-GVTg_V5_4=2 --output "$POOL_SPEC"
check "pool: no field podman rejects; cdiVersion 0.5.0 (names start with a digit)" "|0.5.0" \
	"$(spec_fields "$POOL_SPEC")|$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cdiVersion"])' "$POOL_SPEC")"
u0=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | while read -r u; do [ "$(ledger_owner "$u")" = cdi-pool.0 ] && echo "$u"; done)
u1=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | while read -r u; do [ "$(ledger_owner "$u")" = cdi-pool.1 ] && echo "$u"; done)
check "pool: two mdevs, ledger owners cdi-pool.0 and cdi-pool.1" "2 1 1" \
	"$(mdev_count) $(echo -n "$u0" | grep -c .) $(echo -n "$u1" | grep -c .)"
check "pool: list names each by index and by UUID" \
	"intel.com/vgpu=0 intel.com/vgpu=$u0 intel.com/vgpu=1 intel.com/vgpu=$u1" \
	"$(cdi list --output "$POOL_SPEC" | tr '\n' ' ' | sed 's/ $//')"
ok "pool: check is fresh" cdi check --output "$POOL_SPEC"

g0=$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$u0/iommu_group")")
out=$(pm_run --rm --device intel.com/vgpu=0 -- sh -c "$PROBE" 2>&1)
check "pool by index: resolved, the container sees the node of slot 0" "0 NODE /dev/vfio/$g0" \
	"$(printf '%s\n' "$out" | grep -c unresolvable) $(nodes "$out")"
check "pool by index: open() gives ENXIO (the runtime allowed it)" "OPEN No such device or address" "$(opens "$out")"
check "pool by index: env names the mdev" "$u0 i915-GVTg_V5_4 0000:00:02.0 $g0 $u0" \
	"$(envof "$out" VGPU_MDEV_UUID) $(envof "$out" VGPU_MDEV_TYPE) $(envof "$out" VGPU_MDEV_PARENT) $(envof "$out" VGPU_IOMMU_GROUP) $(envof "$out" MDEV_PCI_RESOURCE_INTEL_COM_VGPU)"
check "pool by index: after podman rm the pool mdev is still there, still the pool's" "2 cdi-pool.0" \
	"$(mdev_count) $(ledger_owner "$u0")"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'

g1=$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$u1/iommu_group")")
out=$(pm_run --rm --device "intel.com/vgpu=$u1" -- sh -c "$PROBE" 2>&1)
check "pool by UUID: the container sees slot 1's node and env" "NODE /dev/vfio/$g1 $u1" \
	"$(nodes "$out") $(envof "$out" VGPU_MDEV_UUID)"
check "pool by UUID: after podman rm the mdev still exists" "yes 2" "$(mdev_exists "$u1" && echo yes) $(mdev_count)"

# --- regenerate: members keep their index; shrink and grow touch only the rest
ok "generate again: same pool" cdi generate --pool i915-GVTg_V5_4=2 --output "$POOL_SPEC"
check "same UUIDs under the same names" "intel.com/vgpu=0 intel.com/vgpu=$u0 intel.com/vgpu=1 intel.com/vgpu=$u1" \
	"$(cdi list --output "$POOL_SPEC" | tr '\n' ' ' | sed 's/ $//')"
ok "shrink to one" cdi generate --pool i915-GVTg_V5_4=1 --output "$POOL_SPEC"
check "slot 0 kept, slot 1 released" "1 yes intel.com/vgpu=0 intel.com/vgpu=$u0" \
	"$(mdev_count) $(mdev_exists "$u0" && echo yes) $(cdi list --output "$POOL_SPEC" | tr '\n' ' ' | sed 's/ $//')"

# --- check: stale when a pool mdev or a type is gone
"$VGPUCTL" release --uuid "$u0" >/dev/null
out=$(cdi check --output "$POOL_SPEC" 2>&1)
check "check: exit 1 when a pool mdev is gone" 1 "$?"
check "check: names the mdev" 2 "$(printf '%s\n' "$out" | grep -c "stale: device .*: mdev $u0 is gone")"
python3 - "$CDI_SPEC" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
for d in s["devices"]:
    if d["name"] == "i915-GVTg_V5_8":
        d["name"] = "i915-GVTg_V9_9"
        d["containerEdits"]["hooks"][0]["args"][-2] = "i915-GVTg_V9_9"
json.dump(s, open(sys.argv[1], "w"))
PY
out=$(cdi check 2>"$PM_T/err")
check "check: exit 1 when a type is gone" 1 "$?"
check "check: the gone type and the type without a device, one line each" \
	"stale: device i915-GVTg_V9_9: type i915-GVTg_V9_9 is gone|stale: type i915-GVTg_V5_8 on 0000:00:02.0 has no device" \
	"$(printf '%s\n' "$out" | paste -sd'|')"
check "check: one stderr line" "vgpu-cdi: spec $CDI_SPEC is stale (2 findings above)" "$(cat "$PM_T/err")"
ok "generate fixes it" cdi generate --hook-path "$VGPU_HOOK"
ok "check: fresh again" cdi check

# --- remove: the pool spec and the pool mdevs it names
ok "generate the pool again" cdi generate --pool i915-GVTg_V5_4=2 --output "$POOL_SPEC"
ok "remove the pool spec" cdi remove --output "$POOL_SPEC"
check "remove: spec gone, pool mdevs and records gone" "no 0 0" \
	"$([ -e "$POOL_SPEC" ] && echo yes || echo no) $(mdev_count) $(ledger_count)"
ok "remove twice is fine" cdi remove --output "$POOL_SPEC"
out=$(pm_run --rm --device intel.com/vgpu=auto -- sh -c "$PROBE" 2>&1)
check "the dynamic spec still resolves after the pool spec went" "0 1" \
	"$(printf '%s\n' "$out" | grep -c unresolvable) $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
check "and left nothing" "0 0" "$(mdev_count) $(ledger_count)"
finish
