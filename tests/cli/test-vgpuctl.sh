#!/bin/bash
# vgpuctl on the simulator: the seed listing, the shared budget, every kernel
# errno as one clear line, nothing left behind by a failed create.
# Run as: tests/sim/with-sim tests/cli/test-vgpuctl.sh
. "$(dirname "$0")/../lib.sh"
export VGPU_STATE_DIR=$(mktemp -d)
trap 'rm -rf "$VGPU_STATE_DIR"' EXIT
ctl() { "$VGPUCTL" "$@"; }

# --- the seed listing, byte for byte in mdevctl's layout
check "types is the seed listing byte for byte" same \
	"$(ctl types | cmp -s - "$REPO/tests/sim/seed-mdevctl-types.txt" && echo same || ctl types | diff "$REPO/tests/sim/seed-mdevctl-types.txt" -)"
check "types --json lists 4 types" 4 "$(ctl types --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)[0]["types"]))')"

# --- one V5_4 lowers the shared budget
uuid=$(ctl allocate --owner budget --type i915-GVTg_V5_4)
check "allocate prints a lowercase uuid" 1 "$(printf '%s\n' "$uuid" | grep -cE '^[0-9a-f-]{36}$')"
check "counts after one V5_4 (V5_1 V5_2 V5_4 V5_8)" "1 2 4 6" \
	"$(echo $(avail i915-GVTg_V5_1) $(avail i915-GVTg_V5_2) $(avail i915-GVTg_V5_4) $(avail i915-GVTg_V5_8))"
check "types shows V5_4 with 4" "    Available instances: 4" "$(ctl types | grep -A1 'i915-GVTg_V5_4$' | tail -1)"
check "list shows the owner" "$uuid 0000:00:02.0 i915-GVTg_V5_4 owner=budget state=active" "$(ctl list)"
check "list --json marks it owned" "True budget" "$(ctl list --json | python3 -c 'import json,sys; d=json.load(sys.stdin)[0]; print(d["owned"], d["owner"])')"
g=$(ctl list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["iommu_group"])')
check "group node has the class/vfio numbers" "$(cat "$VGPU_SYSFS_ROOT/class/vfio/$g/dev")" \
	"$(stat -c '%t:%T' "$VGPU_DEV_ROOT/vfio/$g" | python3 -c 'import sys; a,b=sys.stdin.read().split(":"); print(f"{int(a,16)}:{int(b,16)}")')"
check "allocate again returns the same mdev" "$uuid" "$(ctl allocate --owner budget --type auto)"
ok "release by owner" ctl release --owner budget
check "counts are back" "1 2 5 7" \
	"$(echo $(avail i915-GVTg_V5_1) $(avail i915-GVTg_V5_2) $(avail i915-GVTg_V5_4) $(avail i915-GVTg_V5_8))"
check "nothing in sysfs or the ledger" "0 0" "$(mdev_count) $(ledger_count)"
ok "release twice is fine" ctl release --owner budget

# --- auto picks V5_4 on the seed GPU
uuid=$(ctl allocate --owner auto1 --type auto)
check "auto picks i915-GVTg_V5_4" "i915-GVTg_V5_4" "$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/mdev_type")")"
ctl release --owner auto1

# --- exhaustion (ENOSPC) is the clear "no instance left" line
for i in 1 2 3 4 5 6 7; do ctl allocate --owner full$i --type i915-GVTg_V5_8 >/dev/null || echo "allocate $i failed"; done
expect_fail "8th V5_8: no instance left" '^vgpuctl: no instance of i915-GVTg_V5_8 left on 0000:00:02.0 \(0 available\); a larger GPU aperture set in the BIOS/UEFI gives more instances$' \
	ctl allocate --owner full8 --type i915-GVTg_V5_8
check "exhaustion left 7 mdevs and 7 records" "7 7" "$(mdev_count) $(ledger_count)"
for i in 1 2 3 4 5 6 7; do ctl release --owner full$i; done

# --- kernel errnos at create, injected by the simulator
# A kernel that refuses an instance it lists (ENOSPC) once has lost a race
# to another allocation: picked again, it succeeds.
echo "fail-create ENOSPC 1" > "$VGPU_SIM_CONTROL"
ok "one ENOSPC (a lost race): picked again, allocated" ctl allocate --owner race --type i915-GVTg_V5_4
check "one ENOSPC: one mdev, one record" "1 1" "$(mdev_count) $(ledger_count)"
ctl release --owner race
for e in ENOSPC EEXIST EINVAL EIO; do
	# a kernel that keeps refusing says so once the picks are spent
	echo "fail-create $e $([ $e = ENOSPC ] && echo 100 || echo 1)" > "$VGPU_SIM_CONTROL"
	case $e in
	ENOSPC) re='no instance of i915-GVTg_V5_4 left on 0000:00:02.0 \([0-9]+ available\); a larger GPU aperture set in the BIOS/UEFI gives more instances' ;;
	EEXIST) re='mdev [0-9a-f-]{36} already exists \(UUIDs are unique across all parents and types\)' ;;
	EINVAL) re='the kernel rejected UUID "[0-9a-f-]{36}" for type i915-GVTg_V5_4 on 0000:00:02.0 as invalid' ;;
	EIO) re='creating mdev [0-9a-f-]{36} of type i915-GVTg_V5_4 on 0000:00:02.0: Input/output error' ;;
	esac
	expect_fail "create fails $e: clear message" "^vgpuctl: $re\$" ctl allocate --owner err$e --type i915-GVTg_V5_4
	check "create fails $e: nothing left" "0 0 5" "$(mdev_count) $(ledger_count) $(avail i915-GVTg_V5_4)"
	echo "fail-create off" > "$VGPU_SIM_CONTROL"
done
echo reset > "$VGPU_SIM_CONTROL"
expect_fail "unknown type (ENOENT)" '^vgpuctl: unknown type i915-GVTg_V9_9$' ctl allocate --owner x --type i915-GVTg_V9_9
expect_fail "unknown parent (ENOENT)" '^vgpuctl: unknown parent 0000:00:09.0' ctl allocate --owner x --type auto --parent 0000:00:09.0
expect_fail "traversal owner refused" 'owner "\.\./\.\./etc/x" is not a valid container id' ctl allocate --owner ../../etc/x --type auto
check "nothing left after refusals" "0 0" "$(mdev_count) $(ledger_count)"

# --- a device without an IOMMU group is removed again
echo "hide-iommu-group on" > "$VGPU_SIM_CONTROL"
expect_fail "no IOMMU group: clear message" 'got no IOMMU group within' ctl allocate --owner nogroup --type i915-GVTg_V5_4
echo reset > "$VGPU_SIM_CONTROL"
check "no IOMMU group: nothing left" "0 0 5" "$(mdev_count) $(ledger_count) $(avail i915-GVTg_V5_4)"

# --- release of an mdev the ledger does not own is refused
foreign=$(cat /proc/sys/kernel/random/uuid)
printf %s "$foreign" > "$VGPU_SYSFS_ROOT/class/mdev_bus/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_2/create"
check "foreign mdev listed as unowned" "$foreign 0000:00:02.0 i915-GVTg_V5_2 unowned" "$(ctl list)"
expect_fail "release of a foreign mdev refused" "mdev $foreign is not in the ledger" ctl release --uuid "$foreign"
ok "gc leaves a foreign mdev alone" ctl gc
check "foreign mdev still there" 1 "$(mdev_count)"
echo 1 > "$VGPU_SYSFS_ROOT/bus/mdev/devices/$foreign/remove"

# --- usage errors: one line, exit 2
EXPECT_RC=2 expect_fail "unknown flag" '^vgpuctl: unknown option or missing value in "--bogus"' ctl types --bogus
EXPECT_RC=2 expect_fail "flag of another command" 'option not valid for this command: "--owner"' ctl types --owner x
EXPECT_RC=2 expect_fail "unknown command" '^vgpuctl: unknown command "frobnicate"' ctl frobnicate
EXPECT_RC=2 expect_fail "bad count" '^vgpuctl: --count "0" is not a number between 1 and 16$' ctl allocate --owner a --type auto --count 0
EXPECT_RC=2 expect_fail "bad resolution" '^vgpuctl: --min-resolution "19x" is not WIDTHxHEIGHT$' ctl allocate --owner a --type auto --min-resolution 19x
EXPECT_RC=2 expect_fail "allocate without --type" '^vgpuctl: this command needs --owner and --type: "allocate"' ctl allocate --owner a
EXPECT_RC=2 expect_fail "release with both --owner and --uuid" '^vgpuctl: this command needs exactly one of --owner and --uuid: "release"' \
	ctl release --owner a --uuid 83b8f4f2-509f-382f-3c1e-e6bfe0fa1001
for c in types list allocate release gc doctor define undefine libvirt-xml; do
	ok "$c --help" ctl $c --help
	# every option of the usage line has a line of its own that says what it does
	undescribed=""
	for f in $(ctl $c --help | grep '^Usage:' | grep -o -- '--[a-z][a-z-]*' | sort -u); do
		ctl $c --help | grep -Eq -- "^  $f( [^ ]+)? +[A-Za-z(]" || undescribed+=" $f"
	done
	check "$c --help describes each of its options" "" "$undescribed"
done
check "allocate --help: --uuid and --count say what they do" \
	"  --count N             how many mdevs (default 1, at most 16)|  --uuid UUID           the mdev's UUID (a libvirt domain names it); refused while" \
	"$(ctl allocate --help | grep -E '^  --(count|uuid) ' | paste -sd'|')"
finish
