#!/bin/bash
# Pool mode: the plugin makes its pool (ledger owners vgpu-device-plugin.*),
# ListAndWatch offers one device per mdev with its UUID as id (vgpuctl
# list); Allocate answers the VFIO nodes as device specs and the env, which
# runc runs as containerd 1.6 (no CDI) builds them: the container gets the
# vGPU, and the mdev outlives it.  With --adopt it also offers vgpu-cdi's
# pool (answering its CDI name too, which podman resolves) and mdevs with an
# mdevctl definition.  Run as: tests/sim/with-sim tests/kubelet/test-kubelet-pool.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/../cdi/lib-cdi.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup_engines "$@"
T=i915-GVTg_V5_4

# answer_field ANSWER EXPR: a field of the first container's answer
af() { jget "$1" "(lambda c: $2)(r['container_responses'][0])"; }

# run_with_answer ANSWER: a busybox container run by runc with the device
# specs and env of an Allocate answer, as containerd's CRI turns them into
# config.json (node numbers from the host path, a cgroup rule with the
# permissions); prints what PROBE saw.
run_with_answer() {
	local b id
	b=$(mktemp -d)
	id=kb-pool-$$-$RANDOM
	rt_track runc "$id" "$b"
	make_bundle "$b" sh -c "$PROBE" >/dev/null
	bundle_edit "$b" "
import os, stat
a = json.loads('''$1''')['container_responses'][0]
c['linux']['cgroupsPath'] = '/$id'
for d in a.get('devices', []):
    st = os.stat(d['host_path'])
    major, minor = os.major(st.st_rdev), os.minor(st.st_rdev)
    c['linux'].setdefault('devices', []).append({'path': d['container_path'], 'type': 'c', 'major': major, 'minor': minor, 'fileMode': 0o666, 'uid': 0, 'gid': 0})
    c['linux']['resources']['devices'].append({'allow': True, 'type': 'c', 'major': major, 'minor': minor, 'access': d['permissions']})
c['process']['env'] += ['%s=%s' % kv for kv in a.get('envs', {}).items()]"
	(cd "$b" && runc run "$id" 2>&1)
}

# --- the plugin's own pool
plugin_start --mode pool --pool-size 2
kubelet_start
wait_for 10 kcount_above list 0
check "pool-size 2: two mdevs made, logged" 2 "$(plugin_lines "pool: made mdev [0-9a-f-]{36} \($T on 0000:00:02.0\) for ${OWNER_PREFIX}[01]$")"
check "ListAndWatch: one device per mdev, its UUID the id (vgpuctl list)" "$(pool_expected)" "$(last_list)"
check "two devices, in the ledger as owners ${OWNER_PREFIX}0 and 1" "2 2" \
	"$(last_list | grep -c Healthy) $("$VGPUCTL" list | grep -cE "owner=${OWNER_PREFIX}[01] state=active")"
u0=$(last_list | head -1 | cut -d: -f1)
u1=$(last_list | sed -n 2p | cut -d: -f1)
g0=$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$u0/iommu_group")")
ans=$(allocate "$u0")
check "Allocate: /dev/vfio/vfio and the group node, host paths under the dev root, rw" \
	"[('/dev/vfio/vfio', '$VGPU_DEV_ROOT/vfio/vfio', 'rw'), ('/dev/vfio/$g0', '$VGPU_DEV_ROOT/vfio/$g0', 'rw')]" \
	"$(af "$ans" '[(d["container_path"], d["host_path"], d["permissions"]) for d in c["devices"]]')"
check "Allocate: the env names the mdev (KubeVirt's variable too)" "$u0 $T 0000:00:02.0 $g0 $u0" \
	"$(af "$ans" '" ".join(c["envs"][k] for k in ("VGPU_MDEV_UUID", "VGPU_MDEV_TYPE", "VGPU_MDEV_PARENT", "VGPU_IOMMU_GROUP", "MDEV_PCI_RESOURCE_INTEL_COM_VGPU"))')"
check "Allocate: no CDI name, as no spec names this mdev" "[]" "$(af "$ans" 'c.get("cdi_devices", [])')"

out=$(run_with_answer "$ans")
check "runc with the device specs: the container sees its group node" "NODE /dev/vfio/$g0" "$(nodes "$out")"
check "runc: open() gives ENXIO (the cgroup rule allows it, no driver)" "OPEN No such device or address" "$(opens "$out")"
check "runc: the env reached the container" "$u0" "$(envof "$out" VGPU_MDEV_UUID)"
check "after the container the pool mdev is still there, still the plugin's" "2 $OWNER_PREFIX" \
	"$(mdev_count) $(ledger_owner "$u0" | sed 's/[0-9]*$//')"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   runc: /'
ans=$(allocate "$u0" "$u1")
check "Allocate of two for one container: three nodes, the env as lists" "3 $u0,$u1" \
	"$(af "$ans" 'len(c["devices"])') $(af "$ans" 'c["envs"]["VGPU_MDEV_UUID"]')"
g1=$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$u1/iommu_group")")
node=$(stat -c '%t %T' "$VGPU_DEV_ROOT/vfio/$g1")
rm "$VGPU_DEV_ROOT/vfio/$g1"
err=$(allocate "$u1" 2>&1 >/dev/null)
check "its group node missing on the host: refused, naming it" \
	"FAILED_PRECONDITION: device node $VGPU_DEV_ROOT/vfio/$g1: No such file or directory" "$err"
mknod -m 0600 "$VGPU_DEV_ROOT/vfio/$g1" c $((0x${node% *})) $((0x${node#* }))
err=$(allocate "$u0" "$u0" 2>&1 >/dev/null)
check "the same id twice: refused" "INVALID_ARGUMENT: device $u0 is asked for twice" "$err"
plugin_stop TERM
check "SIGTERM leaves the pool for the next start" "0 2" "$PLUGIN_RC $(mdev_count)"

# --- adopted: vgpu-cdi's pool and an mdevctl definition, beside the plugin's own
POOL_SPEC=$CDI_DIR/intel.com-vgpu-pool.json
ok "vgpu-cdi makes a pool of two with its spec" cdi generate --pool $T=2 --output "$POOL_SPEC"
c0=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | while read -r u; do [ "$(ledger_owner "$u")" = cdi-pool.0 ] && echo "$u"; done)
m0=$(uuidgen)
mkdir -p "$KB_T/mdevctl/0000:00:02.0"
printf '{"mdev_type": "%s", "start": "auto", "attrs": []}\n' $T >"$KB_T/mdevctl/0000:00:02.0/$m0"
echo "$m0" >"$VGPU_SYSFS_ROOT/class/mdev_bus/0000:00:02.0/mdev_supported_types/$T/create"
check "the GPU is full now: 2 + 2 + 1 mdevs" "5 0" "$(mdev_count) $(avail $T)"
n=$(kcount list)
plugin_start --mode pool --adopt --mdevctl-dir "$KB_T/mdevctl"
wait_for 10 kcount_above list "$n"
want=$("$VGPUCTL" list --json | python3 -c 'import json, sys; print("\n".join(sorted(m["uuid"] + ":Healthy" for m in json.load(sys.stdin))))')
check "--adopt: its own two, vgpu-cdi's two and the mdevctl one, all Healthy" "$want" "$(last_list)"
check "--adopt made nothing" 5 "$(mdev_count)"
ans=$(allocate "$c0")
check "a vgpu-cdi pool mdev: its CDI name and the device specs" "['intel.com/vgpu=$c0'] 2" \
	"$(af "$ans" '[d["name"] for d in c["cdi_devices"]]') $(af "$ans" 'len(c["devices"])')"
out=$(pm_run --rm --device "intel.com/vgpu=$c0" -- sh -c "$PROBE" 2>&1)
check "podman resolves the answered CDI name: the mdev's node and env" \
	"NODE /dev/vfio/$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$c0/iommu_group")") $c0" \
	"$(nodes "$out") $(envof "$out" VGPU_MDEV_UUID)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
ans=$(allocate "$m0")
check "the mdevctl one: device specs, no CDI name" "2 []" "$(af "$ans" 'len(c["devices"])') $(af "$ans" 'c.get("cdi_devices", [])')"
plugin_stop TERM
check "adopted mdevs are left as they were" "5 cdi-pool.0 unowned" "$(mdev_count) $(ledger_owner "$c0") $(ledger_owner "$m0")"
finish
