#!/bin/bash
# vgpuctl with SR-IOV VFs on the simulator (sriov.conf: the PF 0000:00:02.0
# under i915, seven VFs enabled and under i915): types in mdevctl's layout and
# as JSON, allocate (vf, auto, the eighth request), list, release and the
# give-back (driver_override empty, back to i915), a VF someone else bound to
# vfio-pci (never taken, never released), a held VF's release (bounded,
# releasing, reclaimed by gc), a failed claim (undone), sriov enable and
# disable, the SR-IOV config, doctor and completion.
# Run as: VGPU_SIM_CONFIG=tests/sim/sriov.conf tests/sim/with-sim tests/cli/test-sriov.sh
. "$(dirname "$0")/../lib.sh"
export VGPU_STATE_DIR=$(mktemp -d)
CONF_DIR=$(mktemp -d)
trap 'rm -rf "$VGPU_STATE_DIR" "$CONF_DIR"' EXIT
PF=0000:00:02.0
PCI=$VGPU_SYSFS_ROOT/bus/pci

ctl() { "$VGPUCTL" "$@"; }
vf() { echo "0000:00:02.$1"; }
drv() { pci_driver "$1"; }
ovr() { cat "$PCI/devices/$1/driver_override"; }
ALL_I915=$VF_ALL_I915
under_vfio() { vfio_pci_count; }
available() { ctl types --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["types"][0]["available_instances"])'; }
# the ledger id of a VF, as RFC 4122 version 5 in vgpu-toolkit's namespace (pci.h)
vf_id() { python3 -c 'import sys, uuid; print(uuid.uuid5(uuid.UUID("048b51cf-fb3f-40ea-b315-5479083d0aeb"), sys.argv[1]))' "$1"; }
sim() { printf '%b' "$1" >"$VGPU_SIM_CONTROL"; }

# --- types
check "types: mdevctl's layout, type vf on the PF" "$PF
  vf
    Available instances: 7
    Device API: vfio-pci
    Name: SR-IOV VF
    Description: virtual function of 8086:4680, 7 of 7 enabled" "$(ctl types)"
check "types --json: the PF with type vf" "$PF vf 7 0" \
	"$(ctl types --json | python3 -c 'import json,sys; p=json.load(sys.stdin)[0]; t=p["types"][0]; print(p["parent"], t["type"], t["available_instances"], t["active"])')"

# --- allocate and release
a=$(ctl allocate --owner a --type vf)
check "allocate --type vf: prints the VF's PCI address" "$(vf 1)" "$a"
check "the VF is under vfio-pci with driver_override vfio-pci" "vfio-pci vfio-pci" "$(drv "$a") $(ovr "$a")"
g=$(basename "$(readlink "$PCI/devices/$a/iommu_group")")
majmin=$(cat "$VGPU_SYSFS_ROOT/class/vfio/$g/dev")
check "its group node carries the numbers of class/vfio/<group>/dev" "$(printf '%x:%x' "${majmin%:*}" "${majmin#*:}")" \
	"$(stat -c %t:%T "$VGPU_DEV_ROOT/vfio/$g")"
check "the ledger record is named by its owner and the VF's id (version 5 UUID of its address)" \
	"vgpuctl.a.$(vf_id "$a").json" "$(ls "$VGPU_STATE_DIR/ledger")"
check "the record says backend vf and the device" "vf $a" \
	"$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["backend"], r["device"])' "$(record_file "$(vf_id "$a")")")"
check "list: the VF by its address, owned" "$a $PF vf owner=a state=active" "$(ctl list)"
check "types: one fewer available, one active" "6" "$(available)"
b=$(ctl allocate --owner b --type auto --json)
check "allocate --type auto picks a VF (a VF meets any resolution)" "vf $(vf 2) $PF vf" \
	"$(printf '%s' "$b" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["backend"], d["device"], d["parent"], d["type"])')"
check "the same owner again: the same VF" "$(vf 2)" "$(ctl allocate --owner b --type auto)"
expect_fail "a chosen UUID for a VF: refused, nothing left" \
	"^vgpuctl: a VF's id comes from its PCI address: no UUID can be chosen for it$" \
	ctl allocate --owner c --type vf --uuid 11111111-2222-4333-8444-555555555555
check "... nothing left of it" "2 2" "$(under_vfio) $(ledger_count)"
ok "release --owner a" ctl release --owner a
ok "release --uuid with b's PCI address" ctl release --uuid "$(vf 2)"
check "after release: nothing under vfio-pci, no record" "0 0" "$(under_vfio) $(ledger_count)"
check "after release: driver_override empty and the VFs back under i915" "$ALL_I915" "$(vf_states)"
EXPECT_RC=1 expect_fail "release --uuid of an address nobody holds" "^vgpuctl: no VF 0000:00:02.3 under vfio-pci$" \
	ctl release --uuid 0000:00:02.3

# --- the eighth request
for i in 1 2 3 4 5 6 7; do ctl allocate --owner "x$i" --type vf >/dev/null; done
check "seven allocations: seven VFs under vfio-pci, none available" "7 0" "$(under_vfio) $(available)"
expect_fail "the eighth: no VF left" \
	"^vgpuctl: no VF left on $PF \(0 available\): every enabled VF is held or not free \(\`vgpuctl list\`; \`vgpuctl sriov enable\` sets how many there are\)$" \
	ctl allocate --owner x8 --type vf
expect_fail "sriov disable while VFs are held: refused, naming one" \
	"^vgpuctl: PF $PF: VF 0000:00:02.[1-7] is held by x[1-7] \(state active\): release it first" ctl sriov disable "$PF"
check "... the VFs stay" "7" "$(ls "$VGPU_SYSFS_ROOT/devices/pci0000:00/$PF" | grep -c '^virtfn')"
for i in 1 2 3 4 5 6 7; do ctl release --owner "x$i"; done
check "all released: back to i915, driver_override empty" "0 $ALL_I915" "$(ledger_count) $(vf_states)"

# --- a VF someone else bound to vfio-pci: never taken, never released, listed unowned
f=$(vf 4)
printf vfio-pci >"$PCI/devices/$f/driver_override"
printf %s "$f" >"$PCI/drivers/i915/unbind"
printf %s "$f" >"$PCI/drivers_probe"
check "list: the foreign VF is unowned" "$f $PF vf unowned" "$(ctl list)"
check "types: it is not available" 6 "$(available)"
got=""
for i in 1 2 3 4 5 6 7; do got="$got $(ctl allocate --owner y$i --type vf 2>/dev/null)"; done
check "six allocations get every VF but the foreign one" " $(vf 1) $(vf 2) $(vf 3) $(vf 5) $(vf 6) $(vf 7) " "$got"
expect_fail "release --uuid of the foreign VF: refused" \
	"^vgpuctl: VF $f is not in the ledger: vgpu-toolkit did not claim it and leaves it alone$" ctl release --uuid "$f"
ctl gc >/dev/null
check "gc leaves it" "vfio-pci vfio-pci" "$(drv "$f") $(ovr "$f")"
for i in 1 2 3 4 5 6; do ctl release --owner y$i; done
expect_fail "sriov disable while someone else holds a VF: refused" \
	"^vgpuctl: PF $PF: VF $f is under vfio-pci for someone else \(not in the ledger\): the kernel's disable would wait until they let it go$" \
	ctl sriov disable "$PF"
printf %s "$f" >"$PCI/drivers/vfio-pci/unbind"
printf '\n' >"$PCI/devices/$f/driver_override"
printf %s "$f" >"$PCI/drivers_probe"
check "the foreign VF handed back by hand: all under i915 again" "$ALL_I915" "$(vf_states)"

# --- a held VF: the release is bounded, the record releasing, gc gives it back later
h=$(ctl allocate --owner held --type vf)
sim "block-unbind $h"
t0=$(date +%s%N)
out=$(ctl release --owner held --timeout-ms 500 2>&1)
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
check "release of a held VF: exit 1, says releasing" "1 1" \
	"$rc $(printf '%s\n' "$out" | grep -c "^vgpuctl: VF $h of held is still open after 500 ms: marked releasing, \`vgpuctl gc\` gives it back once the holder closes it$")"
check "... within the bound (well under 3 s)" 1 "$((ms < 3000))"
check "list: the held VF is releasing" "$h $PF vf owner=held state=releasing" "$(ctl list)"
n=$(ctl allocate --owner next --type vf)
check "the next allocation gets another VF" 1 "$([ -n "$n" ] && [ "$n" != "$h" ] && echo 1)"
ctl release --owner next
out=$(ctl gc --timeout-ms 300 2>&1)
check "gc while it is still held: exit 1, keeps the record, names the VF" "1 $h $PF vf owner=held state=releasing" \
	"$(printf '%s\n' "$out" | grep -c "^kept $h of held (release pending)") $(ctl list)"
sim "unblock-unbind $h"
for i in $(seq 50); do [ "$(drv "$h")" = none ] && break; sleep 0.1; done
check "after the holder lets go, gc gives it back" "released $h of held (release pending)" "$(ctl gc)"
check "... no record, back to i915, driver_override empty" "0 $ALL_I915" "$(ledger_count) $(vf_states)"

# --- a claim that fails is undone
sim 'fail-probe EINVAL'
expect_fail "vfio-pci's probe fails: the allocation fails with what happened" \
	"^vgpuctl: claiming VF $(vf 1) of $PF: vfio-pci's probe did not take it \(vfio-pci is loaded; dmesg says why" \
	ctl allocate --owner bad --type vf
check "... the VF is as it was, no record" "0 $ALL_I915" "$(ledger_count) $(vf_states)"

# --- sriov enable and disable
ok "sriov disable with nothing held" ctl sriov disable "$PF"
check "... no VF, none available" "0 0" "$(ls "$VGPU_SYSFS_ROOT/devices/pci0000:00/$PF" | grep -c '^virtfn') $(available)"
check "types says how many are enabled" "    Description: virtual function of 8086:4680, 0 of 7 enabled" "$(ctl types | grep Description)"
expect_fail "allocate with none enabled: no VF left" "^vgpuctl: no VF left on $PF \(0 available\)" ctl allocate --owner z --type vf
ok "sriov enable 3" ctl sriov enable "$PF" 3
check "... three available, under i915 (autoprobe on)" "3 i915 i915 i915" \
	"$(available) $(drv "$(vf 1)") $(drv "$(vf 2)") $(drv "$(vf 3)")"
expect_fail "another number without disabling first: refused" \
	"^vgpuctl: PF $PF has 3 VFs enabled: \`vgpuctl sriov disable $PF\` first \(the kernel changes the number only from 0\)$" \
	ctl sriov enable "$PF" 4
ok "the same number again: nothing to do" ctl sriov enable "$PF" 3
expect_fail "more than sriov_totalvfs: refused" "^vgpuctl: PF $PF has sriov_totalvfs 7: 8 VFs cannot be enabled$" \
	ctl sriov enable "$PF" 8
expect_fail "a PF vgpu-toolkit does not offer: refused" "^vgpuctl: 0000:00:09.0 is not a PF vgpu-toolkit offers VFs of" \
	ctl sriov enable 0000:00:09.0 2
EXPECT_RC=2 expect_fail "sriov without a verb: usage" '^vgpuctl: sriov wants enable PF N or disable PF, not "nothing"' ctl sriov
EXPECT_RC=2 expect_fail "sriov enable without N: usage" '^vgpuctl: sriov enable wants PF N: "0000:00:02.0"' ctl sriov enable "$PF"
EXPECT_RC=2 expect_fail "sriov enable 0: usage" '^vgpuctl: --N "0"' ctl sriov enable "$PF" 0
EXPECT_RC=2 expect_fail "sriov with a bad address: usage" '^vgpuctl: PF "0000:00:2.0" is not a PCI address \(DDDD:BB:DD.F\)$' \
	ctl sriov disable 0000:00:2.0
EXPECT_RC=2 expect_fail "another command with an argument: usage" '^vgpuctl: unexpected argument "extra"' ctl list extra
ctl sriov disable "$PF"
ok "sriov enable 7 again" ctl sriov enable "$PF" 7
check "... as the simulator started" "7 $ALL_I915" "$(available) $(vf_states)"

# --- the SR-IOV config
printf '{"pfs": [{"address": "%s", "return_driver": "none"}]}\n' "$PF" >"$CONF_DIR/sriov.json"
r=$(VGPU_SRIOV_CONFIG=$CONF_DIR/sriov.json ctl allocate --owner cfg --type vf)
VGPU_SRIOV_CONFIG=$CONF_DIR/sriov.json ctl release --owner cfg
check "return_driver none: a given-back VF stays unbound, driver_override empty" "none (null)" "$(drv "$r") $(ovr "$r")"
printf %s "$r" >"$PCI/drivers_probe"
printf '{"pfs": [{"address": "0000:00:09.0"}]}\n' >"$CONF_DIR/sriov.json"
check "a config naming other PFs: this one is no parent" "" "$(VGPU_SRIOV_CONFIG=$CONF_DIR/sriov.json ctl types)"
printf '{"pfs": [{"address": "0000:00:02"}]}\n' >"$CONF_DIR/sriov.json"
VGPU_SRIOV_CONFIG=$CONF_DIR/sriov.json expect_fail "a bad config: one line naming the field and the value" \
	"^vgpuctl: SR-IOV config $CONF_DIR/sriov.json: pfs\[0\].address \"0000:00:02\" is not a PCI address \(DDDD:BB:DD.F\)$" \
	ctl types
printf '{"pfs": [{"address": "%s", "return_driver": "vfio-pci"}]}\n' "$PF" >"$CONF_DIR/sriov.json"
VGPU_SRIOV_CONFIG=$CONF_DIR/sriov.json expect_fail "return_driver vfio-pci: refused" \
	'pfs\[0\].return_driver "vfio-pci" is not a driver name \(or "none"\)$' ctl types

# --- doctor
out=$(ctl doctor --hooks-dir "$CONF_DIR" --cdi-spec "$CONF_DIR/none.json" 2>&1)
check "doctor: the PF" "ok    SR-IOV PF $PF: 7 of 7 VFs enabled, driver i915, autoprobe on" "$(printf '%s\n' "$out" | grep "SR-IOV PF $PF")"
check "doctor: vfio-pci" "ok    vfio-pci: loaded: it takes the VFs containers get" "$(printf '%s\n' "$out" | grep ' vfio-pci:')"
check "doctor: no mdev parent, and that is fine" "ok    mdev parents: none in class/mdev_bus: the SR-IOV PFs serve" \
	"$(printf '%s\n' "$out" | grep 'mdev parents')"
check "doctor: the type" "ok    type vf on $PF: 7 available, 0 active" "$(printf '%s\n' "$out" | grep 'type vf')"
ctl sriov disable "$PF"
check "doctor: a PF without VFs is a warning that says how to enable them" \
	"warn  SR-IOV PF $PF: no VF enabled (7 possible), driver i915; fix: \`vgpuctl sriov enable $PF N\` (N up to 7)" \
	"$(ctl doctor --hooks-dir "$CONF_DIR" --cdi-spec "$CONF_DIR/none.json" 2>&1 | grep "SR-IOV PF $PF")"
ctl sriov enable "$PF" 7

# --- completion
. "$REPO/packaging/completion/vgpu-toolkit.bash"
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_vgpu_toolkit
	echo "${COMPREPLY[*]}"
}
check "completion: --type offers vf" "auto vf" "$(comp "$VGPUCTL" allocate --type "")"
check "completion: --parent offers the PF" "$PF" "$(comp "$VGPUCTL" allocate --parent "")"
check "completion: sriov's verbs" "enable disable" "$(comp "$VGPUCTL" sriov "")"
check "completion: sriov enable offers the PF" "$PF" "$(comp "$VGPUCTL" sriov enable "")"
ctl allocate --owner comp --type vf >/dev/null
check "completion: release --uuid offers the VFs under vfio-pci" "$(vf 1)" "$(comp "$VGPUCTL" release --uuid "")"
ctl release --owner comp
check "nothing left" "0 0 $ALL_I915" "$(under_vfio) $(ledger_count) $(vf_states)"
finish
