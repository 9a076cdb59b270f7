#!/bin/bash
# Claim mode (the Kubernetes DRA pattern) with podman 4.3.1: `prepare` makes
# the mdevs and a transient spec with the real nodes, podman runs the
# container with the printed name and no hook at all; a second prepare gives
# the same device; `unprepare` removes spec and mdevs; both are idempotent.
# Run as: tests/sim/with-sim tests/cdi/test-cdi-claim.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/lib-cdi.sh"
cdi_private_ns "$@"
cdi_setup
SPEC1=$CDI_DIR/intel.com-vgpu_c1.json

name=$(cdi prepare --claim c1 --type auto)
check "prepare prints the fully qualified name" "0 intel.com/vgpu=claim-c1" "$? $name"
uuid=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices")
g=$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/iommu_group")")
check "one mdev (auto: V5_4), owned by cdi-claim.c1" "1 i915-GVTg_V5_4 cdi-claim.c1" \
	"$(mdev_count) $(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/mdev_type")") $(ledger_owner "$uuid")"
check "the transient spec is <vendor>-<class>_<claim>.json, mode 0644" "644" "$(stat -c %a "$SPEC1")"
check "no field podman 4.3.1 rejects" "" "$(spec_fields "$SPEC1")"
check "no hooks in the spec: the runtime makes the nodes" 0 "$(grep -c hookName "$SPEC1")"
check "the group node has the numbers sysfs gives" "$(cat "$VGPU_SYSFS_ROOT/class/vfio/$g/dev")" \
	"$(python3 -c 'import json,sys; n=[n for n in json.load(open(sys.argv[1]))["devices"][0]["containerEdits"]["deviceNodes"] if n["path"]==sys.argv[2]][0]; print(n["major"], n["minor"], sep=":")' "$SPEC1" "/dev/vfio/$g")"
check "list --claim" "intel.com/vgpu=claim-c1" "$(cdi list --claim c1)"
ok "check --claim: fresh" cdi check --claim c1

# The hook cannot run: its path is nowhere in the spec, and no hooks.d is given.
out=$(pm_run --rm --device "$name" -- sh -c "$PROBE" 2>&1)
check "podman resolves the claim device" "0" "$(printf '%s\n' "$out" | grep -c unresolvable)"
check "the container sees its group node, open() gives ENXIO (runtime allowed it)" \
	"NODE /dev/vfio/$g|OPEN No such device or address" "$(nodes "$out")|$(opens "$out")"
check "and the env names the mdev" "$uuid i915-GVTg_V5_4 $g $uuid" \
	"$(envof "$out" VGPU_MDEV_UUID) $(envof "$out" VGPU_MDEV_TYPE) $(envof "$out" VGPU_IOMMU_GROUP) $(envof "$out" MDEV_PCI_RESOURCE_INTEL_COM_VGPU)"
check "after podman rm the claim's mdev stays (the claim owns it)" "1 cdi-claim.c1" "$(mdev_count) $(ledger_owner "$uuid")"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'

before=$(cat "$SPEC1")
check "a second prepare returns the same device" "intel.com/vgpu=claim-c1" "$(cdi prepare --claim c1 --type auto)"
check "same mdev, same spec, nothing new" "1 1 $uuid same" \
	"$(mdev_count) $(ledger_count) $(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices") $([ "$before" = "$(cat "$SPEC1")" ] && echo same)"
expect_fail "prepare with another type: refused, names the claim" \
	"^vgpu-cdi: claim c1 already holds mdev $uuid of type i915-GVTg_V5_4 on 0000:00:02.0; unprepare it first\$" \
	cdi prepare --claim c1 --type i915-GVTg_V5_8
check "the refusal changed nothing" "1 1" "$(mdev_count) $(ledger_count)"

# Two mdevs in one claim: one device, the env aggregated (CDI lets the last env edit win).
name2=$(cdi prepare --claim c2 --type i915-GVTg_V5_8 --count 2)
out=$(pm_run --rm --device "$name2" -- sh -c "$PROBE" 2>&1)
u2=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | while read -r u; do [ "$(ledger_owner "$u")" = cdi-claim.c2 ] && echo "$u"; done | sort)
check "count 2: the container sees two group nodes" 2 "$(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
check "count 2: VGPU_MDEV_UUID lists both, comma-separated" "$(echo $u2 | tr ' ' ',')" \
	"$(envof "$out" VGPU_MDEV_UUID | tr ',' '\n' | sort | paste -sd,)"
check "count 2: MDEV_PCI_RESOURCE_INTEL_COM_VGPU too" "$(envof "$out" VGPU_MDEV_UUID)" "$(envof "$out" MDEV_PCI_RESOURCE_INTEL_COM_VGPU)"
expect_fail "count 2 claim asked again for 1: refused" '^vgpu-cdi: claim c2 already holds 2 mdevs, not 1; unprepare it first$' \
	cdi prepare --claim c2 --type i915-GVTg_V5_8

ok "unprepare c1" cdi unprepare --claim c1
check "unprepare: spec gone, mdev gone, c2 untouched" "no no 2" \
	"$([ -e "$SPEC1" ] && echo yes || echo no) $(mdev_exists "$uuid" && echo yes || echo no) $(mdev_count)"
ok "unprepare twice is fine" cdi unprepare --claim c1
out=$(pm_run --rm --device intel.com/vgpu=claim-c1 -- true 2>&1)
check "podman no longer resolves the unprepared claim" 1 "$(printf '%s\n' "$out" | grep -c 'unresolvable CDI devices intel.com/vgpu=claim-c1')"
expect_fail "check --claim of an unprepared claim: exit 1" "^vgpu-cdi: no spec file $CDI_DIR/intel.com-vgpu_c1.json\$" cdi check --claim c1
ok "unprepare c2" cdi unprepare --claim c2
check "nothing left: no spec, mdev or record" "0 0 0" "$(ls -A "$CDI_DIR" | wc -l) $(mdev_count) $(ledger_count)"

# A container that asked for a claim never releases it: the hook is not involved.
ok "prepare c3" cdi prepare --claim c3 --type i915-GVTg_V5_4
pm_run --name c3ctr --device intel.com/vgpu=claim-c3 -- true >/dev/null 2>&1
pm rm -f c3ctr >/dev/null 2>&1
check "after the container is gone the claim still holds its mdev" "1 1" "$(mdev_count) $(ledger_count)"
ok "unprepare c3" cdi unprepare --claim c3
check "nothing left" "0 0" "$(mdev_count) $(ledger_count)"
finish
