#!/bin/bash
# vgpu-runtime with SR-IOV VFs on the simulator (sriov.conf: the PF
# 0000:00:02.0 under i915, seven VFs), by hand in front of runc as the
# engines run it: env INTEL_VGPU=vf (and auto, which takes a VF here) gets
# the container a VF — its group node (ENXIO on open), VGPU_VF_ADDRESS and
# KubeVirt's PCI_RESOURCE_INTEL_COM_VGPU in its env — and delete gives it
# back: driver_override empty, back under i915, no record.  A created
# container holds its VF until deleted.
# Run as: VGPU_SIM_CONFIG=tests/sim/sriov.conf tests/sim/with-sim tests/engines/test-shim-sriov.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
SHIM=$BUILD/oci-hook/vgpu-runtime
T=$(mktemp -d)
RT_DIRS+=("$T")
export VGPU_STATE_DIR=$T/state
trap rt_cleanup EXIT
PF=0000:00:02.0
group_of() { basename "$(readlink "$VGPU_SYSFS_ROOT/bus/pci/devices/$1/iommu_group")"; }
shim_config "$T/shim.json"
shim() { "$SHIM" --runtime-config "$T/shim.json" "$@"; }
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n"; cat $n 2>&1 | sed "s/^.*: /OPEN /";; esac; done; env | grep -E "^(VGPU_|PCI_)" | sort'

g=$(group_of 0000:00:02.1)
for req in vf auto; do
	rt_bundle "t-$req-$$" sh -c "$probe"
	bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=$req')"
	out=$(cd "$b" && shim run "t-$req-$$" 2>&1)
	check "INTEL_VGPU=$req: the container sees the first VF's node, open() gives ENXIO" \
		"NODE /dev/vfio/$g|OPEN No such device or address" \
		"$(printf '%s\n' "$out" | grep '^NODE')|$(printf '%s\n' "$out" | grep '^OPEN' | sort -u)"
	check "INTEL_VGPU=$req: the env names the VF" "PCI_RESOURCE_INTEL_COM_VGPU=0000:00:02.1 VGPU_VF_ADDRESS=0000:00:02.1 VGPU_VF_PF=$PF" \
		"$(printf '%s\n' "$out" | grep -E '^(VGPU_VF_ADDRESS|VGPU_VF_PF|PCI_RESOURCE)' | sort | paste -sd' ')"
	check "INTEL_VGPU=$req: after the run the VF is given back, nothing left" "0 0 $VF_ALL_I915" \
		"$(ledger_count) $(vfio_pci_count) $(vf_states)"
	[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'
done

rt_bundle "t-held-$$" sleep 600
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=vf')"
(cd "$b" && shim create "t-held-$$" </dev/null >/dev/null 2>&1)
check "a created container holds its VF" "0000:00:02.1 $PF vf owner=t-held-$$ state=active" "$("$VGPUCTL" list)"
shim delete -f "t-held-$$"
check "delete gives it back" "0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"
finish
