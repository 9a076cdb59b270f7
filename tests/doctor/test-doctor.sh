#!/bin/bash
# vgpuctl doctor on the simulator: a host set up right is ok in every check
# (kernel and iommu say "simulated"), and each fault set up below is named
# on its own line with its fix: no GPU, no instance left, no /dev/vfio/vfio,
# a stale CDI spec, a hooks.d file whose hook is gone, a precreate file where
# CRI-O reads, nothing wired, ledger records gone bad.  The kernel checks of
# a real host run on a plain directory laid out like sysfs.  The hook's and
# vgpu-cdi's "nothing to offer" errors point at the doctor.
# Run as: tests/sim/with-sim tests/doctor/test-doctor.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
SPEC=$T/cdi/intel.com-vgpu.json
mkdir -p "$T/hooks" "$T/cdi"
sed "s|@HOOK@|$VGPU_HOOK|" "$REPO/packaging/hooks.d/vgpu-toolkit-precreate.json.in" >"$T/hooks/vgpu-toolkit-precreate.json"
"$VGPU_CDI" generate --hook-path "$VGPU_HOOK" --output "$SPEC" >/dev/null || echo "Bail out! vgpu-cdi generate failed"

doc() { "$VGPUCTL" doctor --hooks-dir "$T/hooks" --vgpu-cdi "$VGPU_CDI" --cdi-spec "$SPEC" "$@"; }
# line CHECK: the doctor's line for CHECK (the first one)
line() { doc 2>/dev/null | grep -m1 -F "  $1: "; }
# expect_line NAME CHECK STATUS ERE: that line has STATUS and matches ERE
expect_line() {
	local l
	l=$(line "$2")
	if [ "${l%% *}" = "$3" ] && printf '%s\n' "$l" | grep -Eq -- "$4"; then
		_report 0 "$1"
	else
		_report 1 "$1" "wanted $3 matching /$4/, got: ${l:-no line for $2}"
	fi
}

# --- a host set up right
out=$(doc)
check "clean: exit 0" 0 "$?"
check "clean: every line is ok" "" "$(printf '%s\n' "$out" | grep -v '^ok  ')"
check "clean: the checks in order" \
	"kernel|iommu|mdev parents|/dev/vfio/vfio|type i915-GVTg_V5_1 on 0000:00:02.0|type i915-GVTg_V5_2 on 0000:00:02.0|type i915-GVTg_V5_4 on 0000:00:02.0|type i915-GVTg_V5_8 on 0000:00:02.0|cgroup|hooks.d $T/hooks/vgpu-toolkit-precreate.json|CDI spec|ledger" \
	"$(printf '%s\n' "$out" | sed 's/^ok    //; s/: .*//' | paste -sd'|')"
expect_line "clean: the kernel modules are simulated" kernel ok '^ok    kernel: simulated '
expect_line "clean: the IOMMU is simulated" iommu ok 'iommu: simulated '
expect_line "clean: the parent" "mdev parents" ok 'mdev parents: 1 \(0000:00:02\.0\)$'
expect_line "clean: the seed's V5_4 count" "type i915-GVTg_V5_4 on 0000:00:02.0" ok ': 5 available, 0 active$'
expect_line "clean: the hooks.d file runs this build's hook" "hooks.d $T/hooks/vgpu-toolkit-precreate.json" ok \
	"runs $VGPU_HOOK \(precreate\)\$"
expect_line "clean: vgpu-cdi check says the spec matches" "CDI spec" ok "$SPEC matches the host \(5 devices\)\$"
check "clean: --json is an array of ok findings, fix null" "12 ok True" \
	"$(doc --json | python3 -c 'import json,sys; a=json.load(sys.stdin); print(len(a), *{f["status"] for f in a}, all(f["fix"] is None for f in a))')"
check "clean: the doctor left the state directory unmade" "no" "$([ -e "$VGPU_STATE_DIR" ] && echo yes || echo no)"

# --- no instance left: a warning with the seed's advice, exit 0
for i in 1 2 3 4 5 6 7; do "$VGPUCTL" allocate --owner full$i --type i915-GVTg_V5_8 >/dev/null; done
expect_line "exhausted V5_8: warned with the aperture advice" "type i915-GVTg_V5_8 on 0000:00:02.0" warn \
	'no instance left \(7 active\); fix: release mdevs no one uses .*a larger GPU aperture set in the BIOS/UEFI gives more instances$'
doc >/dev/null 2>&1
check "exhausted: a warning is exit 0" 0 "$?"
expect_line "exhausted: the ledger is fine" ledger ok ': 7 allocations in .*, each with its mdev$'
for i in 1 2 3 4 5 6 7; do "$VGPUCTL" release --owner full$i; done

# --- no /dev/vfio/vfio
mv "$VGPU_DEV_ROOT/vfio/vfio" "$T/vfio-node"
expect_line "no /dev/vfio/vfio: fail, load vfio" /dev/vfio/vfio fail 'No such file or directory; fix: modprobe vfio'
EXPECT_RC=1 expect_fail "a failed check is exit 1 and one line on stderr" '^vgpuctl: 1 of 12 checks failed \(see above\)$' doc
mv "$T/vfio-node" "$VGPU_DEV_ROOT/vfio/vfio"

# --- the CDI spec: stale, vgpu-cdi missing, none at all
cp "$VGPU_HOOK" "$T/hook-copy"
"$VGPU_CDI" generate --hook-path "$T/hook-copy" --output "$SPEC" >/dev/null
rm "$T/hook-copy"
expect_line "stale spec: vgpu-cdi check's finding and the fix" "CDI spec" fail \
	"CDI spec: stale: hook $T/hook-copy is not executable; vgpu-cdi: spec $SPEC is stale \(1 finding above\); fix: run \`vgpu-cdi generate\` again"
"$VGPU_CDI" generate --hook-path "$VGPU_HOOK" --output "$SPEC" >/dev/null
l=$("$VGPUCTL" doctor --hooks-dir "$T/hooks" --vgpu-cdi "$T/no-vgpu-cdi" --cdi-spec "$SPEC" | grep '  CDI spec: ')
check "vgpu-cdi missing: warned, not checked" "warn  CDI spec: not checked: cannot run $T/no-vgpu-cdi: No such file or directory; fix: install vgpu-cdi, or name it with --vgpu-cdi PATH" "$l"
rm "$SPEC"
expect_line "no spec: CDI is not in use" "CDI spec" ok "none at $SPEC \(CDI not in use\)$"
check "no spec, but a hooks.d file: no wiring warning" "" "$(doc | grep '  wiring: ')"

# --- hooks.d: the hook gone; nothing wired at all
sed "s|@HOOK@|$T/gone/vgpu-hook|" "$REPO/packaging/hooks.d/vgpu-toolkit-prestart.json.in" >"$T/hooks/vgpu-toolkit-prestart.json"
expect_line "hooks.d file whose hook is gone: fail" "hooks.d $T/hooks/vgpu-toolkit-prestart.json" fail \
	"runs $T/gone/vgpu-hook, which is not an executable file; fix: install vgpu-hook there, or correct hook.path\$"
printf '{"hook": {"path": "%s"' "$VGPU_HOOK" >"$T/hooks/vgpu-toolkit-prestart.json"
expect_line "hooks.d file that is not JSON: fail" "hooks.d $T/hooks/vgpu-toolkit-prestart.json" fail 'not valid JSON'
rm "$T/hooks/"*
expect_line "neither hooks.d nor CDI: containers cannot ask" wiring warn \
	'containers cannot ask for a vGPU; fix: write a CDI spec \(`vgpu-cdi generate`\) or install the hooks.d files'

# --- a precreate file where CRI-O reads (the default directories, in a private mount namespace)
out=$(unshare -m --propagation private bash -c '
	mount -t tmpfs doctor-test /usr/share/containers || exit 1
	mkdir -p /usr/share/containers/oci/hooks.d
	sed "s|@HOOK@|$2|" "$1/packaging/hooks.d/vgpu-toolkit-precreate.json.in" >/usr/share/containers/oci/hooks.d/vgpu.json
	"$3" doctor --vgpu-cdi "$4" --cdi-spec "$5"' _ "$REPO" "$VGPU_HOOK" "$VGPUCTL" "$VGPU_CDI" "$SPEC" 2>&1)
check "precreate where CRI-O reads: warned, with where podman reads it" 1 "$(printf '%s\n' "$out" | grep -c \
	"^warn  hooks.d /usr/share/containers/oci/hooks.d/vgpu.json: names the precreate stage in a directory CRI-O reads, and CRI-O rejects it; fix: move it to /.*/vgpu-toolkit/hooks.d/podman ")"
check "the default directories: no wiring warning when one holds a file" "" "$(printf '%s\n' "$out" | grep 'wiring: ')"

# --- the ledger: an mdev gone behind its back, a release pending, a corrupt record
mkdir -p "$T/hooks" && sed "s|@HOOK@|$VGPU_HOOK|" "$REPO/packaging/hooks.d/vgpu-toolkit-precreate.json.in" >"$T/hooks/h.json"
gone=$("$VGPUCTL" allocate --owner gone --type i915-GVTg_V5_4)
echo 1 >"$VGPU_SYSFS_ROOT/bus/mdev/devices/$gone/remove"
expect_line "a record whose mdev is gone: warn, gc" "ledger $gone" warn \
	"mdev already gone of gone \(i915-GVTg_V5_4 0000:00:02\.0\); fix: \`vgpuctl gc\` reclaims it\$"
held=$("$VGPUCTL" allocate --owner held --type i915-GVTg_V5_4)
echo "block-remove $held" >"$VGPU_SIM_CONTROL"
"$VGPUCTL" release --owner held --timeout-ms 100 2>/dev/null
expect_line "a release pending: warn, gc" "ledger $held" warn 'release pending of held .*; fix: `vgpuctl gc` reclaims it$'
echo reset >"$VGPU_SIM_CONTROL"
bad=$("$VGPUCTL" allocate --owner bad --type i915-GVTg_V5_4)
printf '{"uuid": "%s", "own' "$bad" >"$(record_file "$bad")"
expect_line "a corrupt record: fail" "ledger $bad" fail 'the record is unreadable; fix: `vgpuctl gc` removes its mdev and the record$'
"$VGPUCTL" gc >/dev/null
expect_line "after gc the ledger is fine again" ledger ok ': 0 allocations in '
check "after gc: no mdev left" 0 "$(mdev_count)"

# --- no GPU at all (a nested simulator with an empty class/mdev_bus)
mkdir -p "$T/bundle/rootfs/dev"
echo '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"]},"linux":{}}' >"$T/bundle/config.json"
start_stub
out=$(VGPU_SIM_CONFIG=$REPO/tests/sim/no-gpu.conf "$REPO/tests/sim/with-sim" bash -c '
	"$1" doctor --hooks-dir "$2" --vgpu-cdi "$3" --cdi-spec "$4" 2>&1
	echo "rc=$?"
	printf "{\"ociVersion\":\"1.0.2\",\"id\":\"c1\",\"status\":\"creating\",\"pid\":%d,\"bundle\":\"%s\",\"annotations\":{\"intel.com/vgpu\":\"auto\"}}" "$7" "$6" |
		"$5" --no-cgroup createRuntime 2>&1
	"$3" generate --hook-path "$5" --output "$4" 2>&1
	echo "rc=$? $(ls "$4" 2>&1 | grep -c "No such file")"' _ \
	"$VGPUCTL" "$T/hooks" "$VGPU_CDI" "$T/cdi/nogpu.json" "$VGPU_HOOK" "$T/bundle" "$STUB_PID")
kill "$STUB_PID"
wait "$STUB_PID" 2>/dev/null
check "no GPU: the parents check fails with what to load and which GPUs GVT-g covers" 1 "$(printf '%s\n' "$out" | grep -c \
	'^fail  mdev parents: none in class/mdev_bus; fix: load i915 with enable_gvt=1 (kernel command line i915.enable_gvt=1) and the kvmgt module; GVT-g covers Intel GPUs of generations 5 to 10 (Broadwell to Comet Lake), later ones offer SR-IOV instead$')"
check "no GPU: exit 1" 1 "$(printf '%s\n' "$out" | grep -c '^rc=1$')"
check "no GPU: the hook points at vgpuctl doctor" 1 "$(printf '%s\n' "$out" | grep -cx 'vgpu-hook: no vGPU parent on this host (no GPU with GVT-g on, no SR-IOV PF): `vgpuctl doctor` says what is missing')"
check "no GPU: vgpu-cdi generate fails, writes no spec and points at vgpuctl doctor" 1 "$(printf '%s\n' "$out" | grep -cx \
	"vgpu-cdi: no mdev type on this host, so no spec ($T/cdi/nogpu.json not written): \`vgpuctl doctor\` says what is missing")"
check "no GPU: vgpu-cdi exit 1, no file" 1 "$(printf '%s\n' "$out" | grep -cx 'rc=1 1')"

# --- a real host's kernel checks, on a directory laid out like its sysfs
S=$T/sys
mkdir -p "$S/module/vfio" "$S/module/vfio_iommu_type1" "$S/bus/mdev/devices" "$S/class/mdev_bus" "$S/class/iommu/dmar0" \
	"$S/module/i915/parameters"
echo N >"$S/module/i915/parameters/enable_gvt"
kline() { "$VGPUCTL" doctor --sysfs-root "$S" --hooks-dir "$T/hooks" --vgpu-cdi "$VGPU_CDI" --cdi-spec "$SPEC" 2>/dev/null | grep -m1 -F "  $1: "; }
check "host: modules loaded" "ok    kernel: vfio, vfio_iommu_type1 and mdev are loaded" "$(kline kernel)"
check "host: the IOMMU unit" "ok    iommu: on (dmar0)" "$(kline iommu)"
check "host: i915 without enable_gvt" "fail  mdev parents: none in class/mdev_bus; fix: i915 runs with enable_gvt=N: add i915.enable_gvt=1 to the kernel command line and reboot, and load kvmgt" "$(kline 'mdev parents')"
echo Y >"$S/module/i915/parameters/enable_gvt"
check "host: GVT-g on, kvmgt missing" "fail  mdev parents: none in class/mdev_bus; fix: i915 has GVT-g on but kvmgt is not loaded: modprobe kvmgt (and list it in /etc/modules-load.d/)" "$(kline 'mdev parents')"
mkdir "$S/module/kvmgt"
check "host: all loaded, still no parent: the GPU generation" 1 "$(kline 'mdev parents' | grep -c 'registered no parent: GVT-g covers Intel GPUs of generations 5 to 10 only, later ones offer SR-IOV instead')"
rm -r "$S/module/i915"
check "host: no i915 at all" 1 "$(kline 'mdev parents' | grep -c 'fix: load i915 with enable_gvt=1')"
rmdir "$S/module/vfio_iommu_type1" "$S/class/iommu/dmar0"
check "host: a module missing" "fail  kernel: not loaded: vfio_iommu_type1; fix: modprobe them, and list them in /etc/modules-load.d/ to have them at boot" "$(kline kernel)"
check "host: no IOMMU: the seed's intel_iommu=on" "warn  iommu: no IOMMU unit in class/iommu; fix: turn VT-d on in the BIOS/UEFI and add intel_iommu=on to the kernel command line" "$(kline iommu)"

# --- usage
EXPECT_RC=2 expect_fail "--hooks-dir must be absolute" '^vgpuctl: --hooks-dir "rel" is not an absolute path$' "$VGPUCTL" doctor --hooks-dir rel
ok "doctor --help" "$VGPUCTL" doctor --help
finish
