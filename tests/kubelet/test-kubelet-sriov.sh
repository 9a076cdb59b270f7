#!/bin/bash
# The device plugin with SR-IOV VFs (sriov.conf: the PF 0000:00:02.0 under
# i915, seven VFs): dynamic mode offers a device per VF the PF holds and
# answers vgpu-cdi's dynamic name intel.com/vgpu=vf, which podman resolves:
# the container gets a VF and gives it back.  Pool mode claims its VFs
# (ledger owners vgpu-device-plugin.*), offers each by its ledger id,
# answers the nodes and the VF's env (KubeVirt's PCI_RESOURCE_ variable for
# the resource), which runc runs; a VF taken from vfio-pci behind its back is
# claimed again; released, nothing is left.
# Run as: VGPU_SIM_CONFIG=tests/sim/sriov.conf tests/sim/with-sim tests/kubelet/test-kubelet-sriov.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/../cdi/lib-cdi.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup_engines "$@"
PF=0000:00:02.0
PCI=$VGPU_SYSFS_ROOT/bus/pci
group_of() { basename "$(readlink "$PCI/devices/$1/iommu_group")"; }
af() { jget "$1" "(lambda c: $2)(r['container_responses'][0])"; }

# --- dynamic
plugin_start --mode dynamic --scan-interval-ms 200
kubelet_start
wait_for 10 kcount_above list 0
check "dynamic: a device per VF the PF holds (auto takes vf here)" "$(dynamic_expected vf)" "$(last_list)"
check "dynamic: seven" 7 "$(last_list | grep -c "^$PF-[0-6]:Healthy$")"
check "dynamic: the plugin logged the type" 1 "$(plugin_lines "GPU $PF: offering type vf")"
ok "vgpu-cdi generate writes the dynamic spec (with device vf)" cdi generate --hook-path "$VGPU_HOOK"
allocates() { allocate "$1" >/dev/null 2>&1; }
wait_for 5 allocates "$PF-0"
ans=$(allocate "$PF-0")
check "Allocate: the CDI name of the dynamic device vf" "['intel.com/vgpu=vf']" \
	"$(jget "$ans" '[c["name"] for c in r["container_responses"][0].get("cdi_devices", [])]')"
out=$(pm_run --rm --device intel.com/vgpu=vf -- sh -c "$PROBE" 2>&1)
check "podman with the answered name: the first VF's group node, ENXIO" \
	"NODE /dev/vfio/$(group_of 0000:00:02.1)|OPEN No such device or address" "$(nodes "$out")|$(opens "$out")"
check "after the container: the VF given back, nothing left" "0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
plugin_stop
kubelet_stop

# --- pool
plugin_start --mode pool --pool-size 2 --scan-interval-ms 200
kubelet_start
wait_for 10 kcount_above list 0
check "pool-size 2: two VFs claimed, logged" 2 \
	"$(plugin_lines "pool: made VF 0000:00:02.[12] \(vf on $PF\) for ${OWNER_PREFIX}[01]$")"
check "ListAndWatch: one device per VF, its ledger id the id (vgpuctl list)" "$(pool_expected)" "$(last_list)"
check "the two VFs are under vfio-pci, the plugin's" "2 2" \
	"$(vfio_pci_count) $("$VGPUCTL" list | grep -cE "^0000:00:02.[12] $PF vf owner=${OWNER_PREFIX}[01] state=active$")"
id0=$("$VGPUCTL" list --json | python3 -c 'import json,sys; print([d["uuid"] for d in json.load(sys.stdin) if d["device"]=="0000:00:02.1"][0])')
g=$(group_of 0000:00:02.1)
ans=$(allocate "$id0")
check "Allocate: /dev/vfio/vfio and the VF's group node" "['/dev/vfio/vfio', '/dev/vfio/$g']" \
	"$(af "$ans" '[d["container_path"] for d in c["devices"]]')"
check "Allocate: the VF's env, KubeVirt's PCI variable for the resource" "0000:00:02.1 $PF $g 0000:00:02.1 False" \
	"$(af "$ans" '" ".join(c["envs"][k] for k in ("VGPU_VF_ADDRESS", "VGPU_VF_PF", "VGPU_IOMMU_GROUP", "PCI_RESOURCE_INTEL_COM_VGPU"))') $(af "$ans" '"VGPU_MDEV_UUID" in c["envs"]')"
b=$(mktemp -d); id=kb-vf-$$; rt_track runc "$id" "$b"
make_bundle "$b" sh -c "$PROBE" >/dev/null
bundle_edit "$b" "
import os
a = json.loads('''$ans''')['container_responses'][0]
c['linux']['cgroupsPath'] = '/$id'
for d in a.get('devices', []):
    st = os.stat(d['host_path'])
    c['linux'].setdefault('devices', []).append({'path': d['container_path'], 'type': 'c', 'major': os.major(st.st_rdev), 'minor': os.minor(st.st_rdev), 'fileMode': 0o666, 'uid': 0, 'gid': 0})
    c['linux']['resources']['devices'].append({'allow': True, 'type': 'c', 'major': os.major(st.st_rdev), 'minor': os.minor(st.st_rdev), 'access': d['permissions']})
c['process']['env'] += ['%s=%s' % kv for kv in a.get('envs', {}).items()]"
out=$(cd "$b" && runc run "$id" 2>&1)
check "runc with the answer: the container sees the VF's node, ENXIO, its address" \
	"NODE /dev/vfio/$g|OPEN No such device or address|0000:00:02.1" "$(nodes "$out")|$(opens "$out")|$(envof "$out" VGPU_VF_ADDRESS)"
check "after the container the VF is still the pool's" "vfio-pci" "$(pci_driver 0000:00:02.1)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   runc: /'

# A VF taken from vfio-pci behind the plugin's back: the next scan claims it again.
printf 0000:00:02.1 >"$PCI/drivers/vfio-pci/unbind"
printf '\n' >"$PCI/devices/0000:00:02.1/driver_override"
printf 0000:00:02.1 >"$PCI/drivers_probe"
wait_for 10 plugin_logged "pool: made VF 0000:00:02.1 \(vf on $PF\) again for ${OWNER_PREFIX}0$"
check "a VF lost from vfio-pci is claimed again, logged" "vfio-pci 1" \
	"$(pci_driver 0000:00:02.1) $(plugin_lines "made VF 0000:00:02.1 .* again")"
plugin_stop
for i in 0 1; do "$VGPUCTL" release --owner "${OWNER_PREFIX}$i"; done
check "released: nothing left, every VF back under i915" "0 0 $VF_ALL_I915" "$(ledger_count) $(vfio_pci_count) $(vf_states)"
finish
