#!/bin/bash
# Dynamic mode on two simulated GPUs: ListAndWatch offers a device per
# instance each GPU holds of the type `auto` picks there (vgpuctl types);
# Allocate answers the CDI name of vgpu-cdi's dynamic device (and refuses
# while no spec has it), which podman 4.3.1 resolves as a runtime with CDI
# would: the container gets its vGPU, made when it is created and gone
# with it; one vGPU per container; GetPreferredAllocation spreads over the
# GPUs.  Run as:
#   VGPU_SIM_CONFIG=tests/sim/two-gpus.conf tests/sim/with-sim tests/kubelet/test-kubelet-dynamic.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/../cdi/lib-cdi.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup_engines "$@"
T=i915-GVTg_V5_4
A=0000:00:02.0
B=0000:03:00.0

plugin_start
kubelet_start
wait_for 10 kcount_above list 0
check "two GPUs: a device per instance each holds of the type auto picks, as vgpuctl types says" \
	"$(dynamic_expected $T)" "$(last_list)"
check "12 devices: 5 on the seed GPU, 7 on the second" "5 7" \
	"$(last_list | grep -c "^$A-") $(last_list | grep -c "^$B-")"
check "the plugin logged the type of each GPU" 2 "$(plugin_lines "GPU 0000:0[03]:0[02].0: offering type $T")"

# --- no spec yet: refused, as the runtime could not resolve the name
err=$(allocate "$A-0" 2>&1 >/dev/null)
check "Allocate without a CDI spec: refused, saying what to run" \
	"FAILED_PRECONDITION: no CDI spec in /var/run/cdi names intel.com/vgpu=$T, so the runtime could not resolve it: run \`vgpu-cdi generate\` (its systemd unit does at boot)" \
	"$err"
ok "vgpu-cdi generate writes the dynamic spec" cdi generate --hook-path "$VGPU_HOOK"
allocates() { allocate "$1" >/dev/null 2>&1; }
wait_for 5 allocates "$A-0" # the next scan reads the spec directory again
ans=$(allocate "$A-0")
check "Allocate: the CDI name of the dynamic device, and nothing else" \
	"['intel.com/vgpu=$T'] [] {}" \
	"$(jget "$ans" '[c["name"] for c in r["container_responses"][0].get("cdi_devices", [])]') $(jget "$ans" 'r["container_responses"][0].get("devices", [])') $(jget "$ans" 'r["container_responses"][0].get("envs", {})')"
check "Allocate logged with its answer" "vgpu-device-plugin: Allocate $A-0: CDI intel.com/vgpu=$T" \
	"$(grep "Allocate $A-0: " "$PLOG" | tail -1)"
name=$(jget "$ans" 'r["container_responses"][0]["cdi_devices"][0]["name"]')

# --- the answer used as a runtime with CDI uses it
out=$(pm_run --rm --device "$name" -- sh -c "$PROBE" 2>&1)
check "podman resolves the answered name: the container sees its VFIO nodes" "0 VFIO /dev/vfio/vfio 1" \
	"$(printf '%s\n' "$out" | grep -c unresolvable) $(printf '%s\n' "$out" | grep '^VFIO') $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
check "open() of its group node gives ENXIO (allowed, no driver)" "OPEN No such device or address" "$(opens "$out")"
check "after the container the mdev and its record are gone" "0 0" "$(mdev_count) $(ledger_count)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
cid=$(pm_run -d --device "$name" -- sh -c 'sleep 300' 2>&1)
check "a container that stays holds one mdev of the type" "1 $T" \
	"$(mdev_count) $(basename "$(readlink "$VGPU_SYSFS_ROOT"/bus/mdev/devices/*/mdev_type)")"
sleep 1.2
check "an mdev made by the hook changes nothing the kubelet sees (available - 1, active + 1)" \
	"$(dynamic_expected $T)" "$(last_list)"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "podman rm: the mdev is gone" "0 0" "$(mdev_count) $(ledger_count)"

# --- one vGPU per container
err=$(allocate "$A-0" "$A-1" 2>&1 >/dev/null)
check "two devices for one container: refused, saying why" \
	"INVALID_ARGUMENT: 2 devices for one container: dynamic mode gives a container one vGPU (the hook makes one mdev); ask for 1 intel.com/vgpu, or run the plugin in pool mode" \
	"$err"

# --- GetPreferredAllocation spreads over the GPUs
ids=$(last_list | sed 's/:[A-Za-z]*$//' | tr '\n' ' ')
req=$(python3 -c 'import json, sys; print(json.dumps({"container_requests": [{"available_deviceIDs": sys.argv[2:], "allocation_size": int(sys.argv[1])}]}))' 4 $ids)
pref=$(kcall GetPreferredAllocation "$req")
check "4 of 12: two on each GPU" "2 2" \
	"$(jget "$pref" 'sum(i.startswith("'$A'") for i in r["container_responses"][0]["deviceIDs"])') $(jget "$pref" 'sum(i.startswith("'$B'") for i in r["container_responses"][0]["deviceIDs"])')"
req=$(python3 -c 'import json, sys; print(json.dumps({"container_requests": [{"available_deviceIDs": sys.argv[3:], "must_include_deviceIDs": [sys.argv[2]], "allocation_size": int(sys.argv[1])}]}))' 2 "$A-3" $ids)
pref=$(kcall GetPreferredAllocation "$req")
check "2 with one that must be in: that one, then one on the other GPU" "$A-3 $B" \
	"$(jget "$pref" 'r["container_responses"][0]["deviceIDs"][0] + " " + r["container_responses"][0]["deviceIDs"][1][:12]')"
finish
