#!/bin/bash
# podman 4.3.1 with CDI on a host with both backends (gvt-sriov.conf: the
# seed GVT-g GPU at 0000:00:02.0, a Flex 170 PF at 0000:03:00.0 with seven
# VFs, autoprobe off so nothing holds them).  The dynamic spec has a device
# vf beside the GVT-g types; intel.com/vgpu=vf and =auto (most instances
# left: the VFs) give a container a VF and `podman rm` gives it back; a pool
# of VFs names them by index and by their ledger id with VGPU_VF_* env and
# survives its containers; a claim of two VFs carries both; `vgpu-cdi check`
# tells a pool VF gone; nothing is left at the end.
# Run as: VGPU_SIM_CONFIG=tests/sim/gvt-sriov.conf tests/sim/with-sim tests/cdi/test-cdi-sriov.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/lib-cdi.sh"
cdi_private_ns "$@"
cdi_setup
PF=0000:03:00.0
PCI=$VGPU_SYSFS_ROOT/bus/pci
POOL_SPEC=$CDI_DIR/intel.com-vgpu-pool.json
vf() { echo "0000:03:00.$1"; }
group_of() { basename "$(readlink "$PCI/devices/$1/iommu_group")"; }
# Each VF's driver and driver_override; autoprobe is off, so a given-back VF is unbound.
states() { for i in 1 2 3 4 5 6 7; do printf '%s:%s ' "$(pci_driver "$(vf "$i")")" "$(cat "$PCI/devices/$(vf "$i")/driver_override")"; done; }
FREE=$(for i in 1 2 3 4 5 6 7; do printf 'none:(null) '; done)
vf_owner() { "$VGPUCTL" list | awk -v d="$1" '$1 == d { sub("owner=", "", $4); print $4 }'; }

ok "generate the dynamic spec" cdi generate --hook-path "$VGPU_HOOK"
check "list: vf beside the GVT-g types, and auto" \
	"intel.com/vgpu=i915-GVTg_V5_1 intel.com/vgpu=i915-GVTg_V5_2 intel.com/vgpu=i915-GVTg_V5_4 intel.com/vgpu=i915-GVTg_V5_8 intel.com/vgpu=vf intel.com/vgpu=auto" \
	"$(cdi list | tr '\n' ' ' | sed 's/ $//')"
check "no field podman 4.3.1 rejects" "" "$(spec_fields "$CDI_SPEC")"
ok "check: fresh" cdi check

out=$(pm_run --rm --device intel.com/vgpu=vf -- sh -c "$PROBE" 2>&1)
rc=$?
g=$(group_of "$(vf 1)")
check "vf: podman resolves it and runs" "0 0" "$rc $(printf '%s\n' "$out" | grep -c unresolvable)"
check "vf: the container sees the VFIO node and the first VF's group node" "VFIO /dev/vfio/vfio NODE /dev/vfio/$g" \
	"$(printf '%s\n' "$out" | grep '^VFIO') $(nodes "$out")"
check "vf: open() gives ENXIO (allowed, no driver)" "OPEN No such device or address" "$(opens "$out")"
check "vf: podman run --rm gave it back: no record, no VF held, driver_override empty" "0 0 $FREE" \
	"$(ledger_count) $(vfio_pci_count) $(states)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'

cid=$(pm_run -d --device intel.com/vgpu=auto -- sh -c 'sleep 300' 2>&1)
check "auto: podman run -d resolves it" 0 "$?"
check "auto takes a VF here (seven left, V5_4 has five): owned by the container" "vfio-pci $cid" \
	"$(pci_driver "$(vf 1)") $(vf_owner "$(vf 1)")"
check "auto: the GVT-g GPU is untouched" "0 5" "$(mdev_count) $(avail i915-GVTg_V5_4)"
out=$(pm exec "$cid" sh -c "$PROBE" 2>&1)
check "auto: the container sees the VF's group node" "NODE /dev/vfio/$g" "$(nodes "$out")"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "auto: after podman rm nothing is left" "0 0 $FREE" "$(ledger_count) $(vfio_pci_count) $(states)"

# --- a pool of VFs
ok "generate a pool of two VFs" cdi generate --pool vf=2 --output "$POOL_SPEC"
id0=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print([d["uuid"] for d in json.load(sys.stdin) if d["owner"]=="cdi-pool.0"][0])')
id1=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print([d["uuid"] for d in json.load(sys.stdin) if d["owner"]=="cdi-pool.1"][0])')
check "pool: two VFs, owners cdi-pool.0 and .1" "cdi-pool.0 cdi-pool.1 2" "$(vf_owner "$(vf 1)") $(vf_owner "$(vf 2)") $(vfio_pci_count)"
check "pool: list names each by index and by ledger id" \
	"intel.com/vgpu=0 intel.com/vgpu=$id0 intel.com/vgpu=1 intel.com/vgpu=$id1" \
	"$(cdi list --output "$POOL_SPEC" | tr '\n' ' ' | sed 's/ $//')"
ok "pool: check is fresh" cdi check --output "$POOL_SPEC"
out=$(pm_run --rm --device intel.com/vgpu=0 -- sh -c "$PROBE" 2>&1)
check "pool by index: the VF's node and its env" "NODE /dev/vfio/$g $(vf 1) $PF $g $(vf 1)" \
	"$(nodes "$out") $(envof "$out" VGPU_VF_ADDRESS) $(envof "$out" VGPU_VF_PF) $(envof "$out" VGPU_IOMMU_GROUP) $(envof "$out" PCI_RESOURCE_INTEL_COM_VGPU)"
check "pool by index: no mdev env for a VF" "" "$(envof "$out" VGPU_MDEV_UUID)"
check "pool: after the container the VF is still the pool's" "vfio-pci cdi-pool.0" "$(pci_driver "$(vf 1)") $(vf_owner "$(vf 1)")"
out=$(pm_run --rm --device "intel.com/vgpu=$id1" -- sh -c "$PROBE" 2>&1)
check "pool by id: slot 1's VF" "NODE /dev/vfio/$(group_of "$(vf 2)") $(vf 2)" "$(nodes "$out") $(envof "$out" VGPU_VF_ADDRESS)"
"$VGPUCTL" release --uuid "$(vf 2)" >/dev/null
out=$(cdi check --output "$POOL_SPEC" 2>&1)
check "check: a pool VF given back is stale, named by address" "1 2" \
	"$? $(printf '%s\n' "$out" | grep -c "stale: device .*: VF $(vf 2) is gone")"
ok "remove the pool spec" cdi remove --output "$POOL_SPEC"
check "remove: the pool's VFs given back" "0 0 $FREE" "$(ledger_count) $(vfio_pci_count) $(states)"
ok "generate --pool vf=1 --persist: no mdevctl definition for a VF" \
	cdi generate --pool vf=1 --persist --mdevctl-dir "$PM_T/mdevctl" --output "$POOL_SPEC"
check "... the directory holds nothing" "" "$(ls -A "$PM_T/mdevctl" 2>/dev/null)"
ok "remove it" cdi remove --output "$POOL_SPEC" --mdevctl-dir "$PM_T/mdevctl"

# --- a claim of two VFs (no hook: the spec names the nodes)
name=$(cdi prepare --claim c1 --type vf --count 2)
out=$(pm_run --rm --device "$name" -- sh -c "$PROBE" 2>&1)
check "claim: both VFs' nodes and their addresses in one env" \
	"NODE /dev/vfio/$g NODE /dev/vfio/$(group_of "$(vf 2)") $(vf 1),$(vf 2)" \
	"$(nodes "$out") $(envof "$out" VGPU_VF_ADDRESS)"
ok "unprepare" cdi unprepare --claim c1
check "nothing left at the end" "0 0 0 $FREE" "$(mdev_count) $(ledger_count) $(vfio_pci_count) $(states)"
finish
