#!/bin/bash
# Type ids that cannot be CDI device names are mapped, not dropped (cdi/cdi-spec.h:
# vgpu_cdi_map_name), and podman 4.3.1 resolves the mapped names: the hook
# still gets the real type.  Runs on tests/cdi/odd-types.conf.
# Run as: VGPU_SIM_CONFIG=tests/cdi/odd-types.conf tests/sim/with-sim tests/cdi/test-cdi-names.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
. "$(dirname "$0")/lib-cdi.sh"
cdi_private_ns "$@"
cdi_setup

ok "generate on a GPU with odd type ids" cdi generate --hook-path "$VGPU_HOOK"
check "every type has a device; the odd ones mapped; no auto (no type meets 1920x1200)" \
	"intel.com/vgpu=x::2dlead intel.com/vgpu=odd:2btype intel.com/vgpu=plain_V1 intel.com/vgpu=trail:2d intel.com/vgpu=x:3ay" \
	"$(cdi list | tr '\n' ' ' | sed 's/ $//')"
check "no field podman 4.3.1 rejects" "" "$(spec_fields "$CDI_SPEC")"
ok "check: fresh (types matched through the mapping)" cdi check
for pair in "x::2dlead -lead" "x:3ay x:y" "trail:2d trail-" "odd:2btype odd+type"; do
	set -- $pair
	out=$(pm_run --rm --device "intel.com/vgpu=$1" -- sh -c "$PROBE" 2>&1)
	check "podman resolves intel.com/vgpu=$1; the container gets a group node" "0 1" \
		"$(printf '%s\n' "$out" | grep -c unresolvable) $(printf '%s\n' "$out" | grep -c '^NODE /dev/vfio/[0-9]')"
	[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   podman: /'
done
check "and every mdev went with its container" "0 0" "$(mdev_count) $(ledger_count)"
cid=$(pm_run -d --device "intel.com/vgpu=x::2dlead" -- sh -c 'sleep 300' 2>&1)
uuid=$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices")
check "the hook made an mdev of the real type -lead" "-lead" "$(basename "$(readlink "$VGPU_SYSFS_ROOT/bus/mdev/devices/$uuid/mdev_type")")"
pm rm -f -t 0 "$cid" >/dev/null 2>&1
check "gone after podman rm" "0 0" "$(mdev_count) $(ledger_count)"
finish
