#!/bin/bash
# `generate --pool ... --persist` writes mdevctl definitions for the pool
# mdevs; the real mdevctl (1.2.0) lists them with `mdevctl list -d
# --dumpjson`, run in a private mount namespace with the definitions bound
# over /etc/mdevctl.d and the simulator over /sys, and `mdevctl define`
# writes byte for byte the same file.  Shrinking the pool and `remove` take
# the definitions away again.
# Run as: tests/sim/with-sim tests/cdi/test-cdi-mdevctl.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-cdi.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
M=$T/mdevctl.d
P=0000:00:02.0
SPEC=$T/cdi/intel.com-vgpu.json
pool_uuid() { "$VGPUCTL" list | awk -v o="owner=cdi-pool.$1" '$4 == o { print $1 }'; }

ok "generate a persistent pool of two V5_4" cdi generate --pool i915-GVTg_V5_4=2 --persist --mdevctl-dir "$M" --output "$SPEC"
u0=$(pool_uuid 0)
u1=$(pool_uuid 1)
check "a definition per pool mdev, mode 0644, under <dir>/<parent>/<uuid>" "644 644" \
	"$(stat -c %a "$M/$P/$u0" 2>&1) $(stat -c %a "$M/$P/$u1" 2>&1)"
check "the definition in mdevctl's documented format" \
	'{|  "mdev_type": "i915-GVTg_V5_4",|  "start": "auto",|  "attrs": []|}' "$(paste -sd'|' "$M/$P/$u0")"

if command -v mdevctl >/dev/null && command -v unshare >/dev/null; then
	mkdir -p "$M/scripts.d/callouts" "$M/scripts.d/notifiers"
	new=11111111-2222-3333-4444-555555555555
	unshare -m --propagation private bash -c '
		mount --bind "$1" /etc/mdevctl.d || exit 1
		mount --rbind "$VGPU_SYSFS_ROOT" /sys || exit 1
		mdevctl list -d --dumpjson >"$2/dump.json" || exit 2
		mdevctl list -d >"$2/list.txt" || exit 3
		mdevctl list >"$2/active.txt" || exit 4
		mdevctl define -u "$3" -p 0000:00:02.0 --type i915-GVTg_V5_4 --auto || exit 5
		cp "/etc/mdevctl.d/0000:00:02.0/$3" "$2/theirs" && mdevctl undefine -u "$3"' _ "$M" "$T" "$new" >"$T/ns.log" 2>&1
	check "mdevctl ran in the namespace" "0" "$?$(sed 's/^/ /' "$T/ns.log")"
	check "mdevctl list -d --dumpjson lists both, field for field" \
		"$(printf '%s\n' "$P $u0 i915-GVTg_V5_4 auto []" "$P $u1 i915-GVTg_V5_4 auto []" | sort)" \
		"$(python3 - "$T/dump.json" <<'PY'
import json, sys
for parent in json.load(open(sys.argv[1])):
    for p, devs in parent.items():
        for d in devs:
            for u, c in d.items():
                print(p, u, c["mdev_type"], c["start"], json.dumps(c["attrs"]))
PY
)"
	check "mdevctl list -d: defined, start auto, and active" \
		"$(printf '%s\n' "$u0 $P i915-GVTg_V5_4 auto (active)" "$u1 $P i915-GVTg_V5_4 auto (active)" | sort)" "$(grep . "$T/list.txt" | sort)"
	check "mdevctl list sees them active and defined" 2 "$(grep -cE "^($u0|$u1) $P i915-GVTg_V5_4 auto \(defined\)\$" "$T/active.txt")"
	check "mdevctl define writes byte for byte what vgpu-cdi writes" "same" "$(cmp -s "$T/theirs" "$M/$P/$u0" && echo same || diff "$T/theirs" "$M/$P/$u0")"
	check "mdevctl undefine left our two alone" "$(printf '%s\n' "$u0" "$u1" | sort)" "$(ls "$M/$P" | sort)"
else
	skip "real mdevctl comparison" "mdevctl or unshare is not installed"
fi

ok "shrink the pool to one" cdi generate --pool i915-GVTg_V5_4=1 --persist --mdevctl-dir "$M" --output "$SPEC"
check "the released mdev's definition went with it" "$u0" "$(ls "$M/$P")"
ok "remove the spec" cdi remove --output "$SPEC" --mdevctl-dir "$M"
check "remove: definitions, parent directory, mdevs and records gone" "no 0 0" \
	"$([ -e "$M/$P" ] && echo yes || echo no) $(mdev_count) $(ledger_count)"

# A foreign mdev (not in the ledger) is adopted by --pool-from-existing, never released.
f=$("$VGPUCTL" allocate --owner tmp --type i915-GVTg_V5_8)
rm -f "$(record_file "$f")"
ok "adopt the active mdevs" cdi generate --pool-from-existing --output "$SPEC"
check "the foreign mdev is named by index and UUID" "intel.com/vgpu=0 intel.com/vgpu=$f" "$(cdi list --output "$SPEC" | paste -sd' ')"
ok "remove the adopted spec" cdi remove --output "$SPEC"
check "the foreign mdev is left alone, still not in the ledger" "yes 0" "$(mdev_exists "$f" && echo yes) $(ledger_count)"

# A dynamic spec that replaces a pool spec releases the pool mdevs it named.
ok "a persistent pool spec again" cdi generate --pool i915-GVTg_V5_4=1 --persist --mdevctl-dir "$M" --output "$SPEC"
ok "replaced by the dynamic spec" cdi generate --hook-path "$VGPU_HOOK" --mdevctl-dir "$M" --output "$SPEC"
check "the pool mdev and its definition went; the foreign mdev stays" "1 yes no 0" \
	"$(mdev_count) $(mdev_exists "$f" && echo yes) $([ -e "$M/$P" ] && echo yes || echo no) $(ledger_count)"
finish
