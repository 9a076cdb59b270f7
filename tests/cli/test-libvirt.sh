#!/bin/bash
# The seed's libvirt flow on the simulator: `vgpuctl allocate --uuid` (a
# chosen UUID, refused while anything has it), `vgpuctl define`/`undefine`
# in mdevctl's own format (the real mdevctl 1.2.0 lists and starts them),
# and `vgpuctl libvirt-xml`, whose XML xmllint reads and libvirt's own
# validator (virt-xml-validate) accepts in a domain.
# Run as: tests/sim/with-sim tests/cli/test-libvirt.sh
. "$(dirname "$0")/../lib.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
ctl() { "$VGPUCTL" "$@"; }
M=$T/mdevctl.d
P=0000:00:02.0
U=8f3c1d6e-2b4a-4c1e-9d7f-5a6b7c8d9e01
U2=8f3c1d6e-2b4a-4c1e-9d7f-5a6b7c8d9e02

# --- allocate --uuid
check "allocate --uuid makes the mdev with that UUID" "$U" "$(ctl allocate --owner vm1 --type i915-GVTg_V5_4 --uuid "${U^^}")"
check "it is on the bus, lowercase" "i915-GVTg_V5_4" "$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$U/mdev_type")")"
check "list shows it owned" "$U $P i915-GVTg_V5_4 owner=vm1 state=active" "$(ctl list)"
check "the same owner and UUID again: the same mdev" "$U" "$(ctl allocate --owner vm1 --type i915-GVTg_V5_4 --uuid "$U")"
expect_fail "another owner, same UUID: refused" "^vgpuctl: UUID $U is taken: the ledger holds it for vm1 \(\`vgpuctl list\`\)\$" \
	ctl allocate --owner vm2 --type i915-GVTg_V5_4 --uuid "$U"
expect_fail "the owner with another UUID: refused" "^vgpuctl: owner vm1 already holds mdev $U, not $U2\$" \
	ctl allocate --owner vm1 --type i915-GVTg_V5_4 --uuid "$U2"
foreign=$(cat /proc/sys/kernel/random/uuid)
printf %s "$foreign" >"$VGPU_SYSFS_ROOT/class/mdev_bus/$P/mdev_supported_types/i915-GVTg_V5_8/create"
expect_fail "a foreign mdev's UUID: refused" "^vgpuctl: UUID $foreign is taken: mdev $foreign of type i915-GVTg_V5_8 on $P exists\$" \
	ctl allocate --owner vm3 --type i915-GVTg_V5_4 --uuid "$foreign"
echo 1 >"$VGPU_SYSFS_ROOT/bus/mdev/devices/$foreign/remove"
EXPECT_RC=2 expect_fail "a bad --uuid is a usage error" '^vgpuctl: --uuid "8f3c-nope" is not a UUID$' \
	ctl allocate --owner vm3 --type auto --uuid 8f3c-nope
EXPECT_RC=2 expect_fail "--uuid with --count 2 is a usage error" '^vgpuctl: --uuid names one mdev, so no --count with it, in "allocate"' \
	ctl allocate --owner vm3 --type auto --uuid "$U2" --count 2
check "the refusals left one mdev and one record" "1 1" "$(mdev_count) $(ledger_count)"

# --- libvirt-xml: well formed, the seed's attributes, libvirt's schema
ctl libvirt-xml --uuid "$U" >"$T/hostdev.xml"
check "libvirt-xml exits 0" 0 "$?"
ok "the hostdev is well-formed XML" xmllint --noout "$T/hostdev.xml"
xp() { xmllint --xpath "$2" "$1" 2>&1; }
check "the hostdev: mdev, unmanaged, vfio-pci, display and ramfb on, the UUID" \
	"subsystem mdev no vfio-pci on on $U" \
	"$(for a in mode type managed model display ramfb; do printf '%s ' "$(xp "$T/hostdev.xml" "string(/hostdev/@$a)")"; done)$(xp "$T/hostdev.xml" 'string(/hostdev/source/address/@uuid)')"
check "--display off --ramfb off" "off off" \
	"$(ctl libvirt-xml --uuid "$U" --display off --ramfb off >"$T/off.xml" && echo "$(xp "$T/off.xml" 'string(/hostdev/@display)') $(xp "$T/off.xml" 'string(/hostdev/@ramfb)')")"
EXPECT_RC=2 expect_fail "ramfb without display: usage error" '^vgpuctl: --ramfb on needs --display on, in "libvirt-xml"' \
	ctl libvirt-xml --uuid "$U" --display off
EXPECT_RC=2 expect_fail "--display yes: usage error" '^vgpuctl: --display "yes" is not on or off$' ctl libvirt-xml --uuid "$U" --display yes
expect_fail "an mdev that neither exists nor is defined" "^vgpuctl: no mdev $U2: it is neither active nor defined in $M" \
	ctl libvirt-xml --uuid "$U2" --mdevctl-dir "$M"
ctl libvirt-xml --uuid "$U" --domain >"$T/domain.xml"
check "--domain: video model none, the hostdev's UUID" "none $U" \
	"$(xp "$T/domain.xml" 'string(/domain/devices/video/model/@type)') $(xp "$T/domain.xml" 'string(/domain/devices/hostdev/source/address/@uuid)')"
if command -v virt-xml-validate >/dev/null; then
	ok "libvirt's validator accepts the --domain output" virt-xml-validate "$T/domain.xml" domain
	# a domain of the admin's own, the hostdev put in and the video model set to none
	python3 - "$T/hostdev.xml" >"$T/own.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
d = ET.fromstring('<domain type="kvm"><name>seed-vm</name><memory unit="GiB">4</memory><vcpu>4</vcpu>'
                  '<os><type arch="x86_64" machine="pc">hvm</type><boot dev="hd"/></os>'
                  '<devices><disk type="file" device="disk"><source file="/var/lib/libvirt/images/seed.qcow2"/>'
                  '<target dev="vda" bus="virtio"/></disk><graphics type="spice" autoport="yes"/>'
                  '<video><model type="qxl"/></video></devices></domain>')
d.find('devices').append(ET.parse(sys.argv[1]).getroot())
d.find('devices/video/model').attrib.clear()
d.find('devices/video/model').set('type', 'none')
print(ET.tostring(d, encoding='unicode'))
PY
	ok "libvirt's validator accepts a domain built with the hostdev" virt-xml-validate "$T/own.xml" domain
	sed 's/managed="no"/managed="maybe"/' "$T/domain.xml" >"$T/bad.xml"
	check "and the validator is not a rubber stamp (managed=\"maybe\" fails to validate)" 1 \
		"$(virt-xml-validate "$T/bad.xml" domain 2>&1 | grep -c 'fails to validate$')"
else
	skip "libvirt's schema" "virt-xml-validate (libvirt-clients) is not installed"
fi

# --- define / undefine in mdevctl's format
ok "define the active mdev, start auto" ctl define --uuid "$U" --auto --mdevctl-dir "$M"
check "the definition: <dir>/<parent>/<uuid>, mode 0644" 644 "$(stat -c %a "$M/$P/$U" 2>&1)"
check "its text" '{|  "mdev_type": "i915-GVTg_V5_4",|  "start": "auto",|  "attrs": []|}' "$(paste -sd'|' "$M/$P/$U")"
expect_fail "define an inactive mdev without parent and type" "^vgpuctl: mdev $U2 is not active: name its parent and type\$" \
	ctl define --uuid "$U2" --mdevctl-dir "$M"
EXPECT_RC=2 expect_fail "--parent without --type" '^vgpuctl: --parent and --type go together, in "define"' \
	ctl define --uuid "$U2" --parent "$P" --mdevctl-dir "$M"
ok "define an inactive mdev by parent and type, start manual" \
	ctl define --uuid "$U2" --parent "$P" --type i915-GVTg_V5_8 --mdevctl-dir "$M"
expect_fail "define it again as another type: refused" \
	"^vgpuctl: mdev $U2 is defined already as i915-GVTg_V5_8 on $P \(undefine it first\)\$" \
	ctl define --uuid "$U2" --parent "$P" --type i915-GVTg_V5_2 --mdevctl-dir "$M"
expect_fail "define the active one as another type: refused" "^vgpuctl: mdev $U is i915-GVTg_V5_4 on $P, not i915-GVTg_V5_2 on $P\$" \
	ctl define --uuid "$U" --parent "$P" --type i915-GVTg_V5_2 --mdevctl-dir "$M"
check "libvirt-xml of the defined, inactive mdev" "$U2" \
	"$(ctl libvirt-xml --uuid "$U2" --mdevctl-dir "$M" | xmllint --xpath 'string(/hostdev/source/address/@uuid)' -)"

if command -v mdevctl >/dev/null && command -v unshare >/dev/null; then
	mkdir -p "$M/scripts.d/callouts" "$M/scripts.d/notifiers"
	U3=8f3c1d6e-2b4a-4c1e-9d7f-5a6b7c8d9e03
	unshare -m --propagation private bash -c '
		mount --bind "$1" /etc/mdevctl.d || exit 1
		mount --rbind "$VGPU_SYSFS_ROOT" /sys || exit 1
		mdevctl list -d >"$2/defined.txt" || exit 2
		mdevctl start -u "$4" >"$2/start.txt" || exit 3
		mdevctl list >"$2/active.txt" || exit 4
		mdevctl stop -u "$4" || exit 5
		mdevctl define -u "$3" -p 0000:00:02.0 --type i915-GVTg_V5_4 --auto || exit 6
		cp "/etc/mdevctl.d/0000:00:02.0/$3" "$2/theirs-auto" && mdevctl undefine -u "$3" || exit 7
		mdevctl define -u "$3" -p 0000:00:02.0 --type i915-GVTg_V5_8 || exit 8
		cp "/etc/mdevctl.d/0000:00:02.0/$3" "$2/theirs-manual" && mdevctl undefine -u "$3"' _ "$M" "$T" "$U3" "$U2" >"$T/ns.log" 2>&1
	check "mdevctl ran in the namespace" 0 "$?$(sed 's/^/ /' "$T/ns.log")"
	check "mdevctl list -d shows both definitions" \
		"$(printf '%s\n' "$U $P i915-GVTg_V5_4 auto (active)" "$U2 $P i915-GVTg_V5_8 manual" | sort)" "$(grep . "$T/defined.txt" | sort)"
	check "mdevctl start makes the defined mdev from the definition (as at boot)" \
		"$U2 $P i915-GVTg_V5_8 manual (defined)" "$(grep "^$U2" "$T/active.txt")"
	ctl define --uuid "$U3" --parent "$P" --type i915-GVTg_V5_4 --auto --mdevctl-dir "$T/ours" &&
		ctl define --uuid "${U3/e03/e04}" --parent "$P" --type i915-GVTg_V5_8 --mdevctl-dir "$T/ours"
	check "define --auto: byte for byte what mdevctl define --auto writes" same \
		"$(cmp -s "$T/theirs-auto" "$T/ours/$P/$U3" && echo same || diff "$T/theirs-auto" "$T/ours/$P/$U3")"
	check "define: byte for byte what mdevctl define writes (start manual)" same \
		"$(cmp -s "$T/theirs-manual" "$T/ours/$P/${U3/e03/e04}" && echo same || diff "$T/theirs-manual" "$T/ours/$P/${U3/e03/e04}")"
else
	skip "the real mdevctl" "mdevctl or unshare is not installed"
fi

ok "undefine" ctl undefine --uuid "$U" --mdevctl-dir "$M"
check "undefine took the file; the mdev stays" "no yes" \
	"$([ -e "$M/$P/$U" ] && echo yes || echo no) $([ -e "$VGPU_SYSFS_ROOT/bus/mdev/devices/$U" ] && echo yes || echo no)"
expect_fail "undefine again: nothing to undefine" "^vgpuctl: no mdevctl definition of $U in $M\$" \
	ctl undefine --uuid "$U" --mdevctl-dir "$M"
ok "undefine the other" ctl undefine --uuid "$U2" --mdevctl-dir "$M"
check "the parent directory went with its last definition" no "$([ -e "$M/$P" ] && echo yes || echo no)"
EXPECT_RC=2 expect_fail "define without --uuid" '^vgpuctl: this command needs --uuid: "define"' ctl define --mdevctl-dir "$M"
ok "release by UUID" ctl release --uuid "$U"
check "nothing left" "0 0" "$(mdev_count) $(ledger_count)"
for c in define undefine libvirt-xml; do
	ok "$c --help" ctl "$c" --help
done
finish
