#!/bin/bash
# Crash consistency: vgpu-hook and vgpuctl SIGKILLed at every named step of
# allocation (after-lock, after-record, after-create, after-ledger, and in the
# hook after-node, after-cgroup) and of release (after-mark-releasing,
# after-remove; by poststop, `vgpuctl release --owner/--uuid` and `vgpuctl gc`
# itself), with the container gone or still alive.  After each, `vgpuctl gc`
# leaves sysfs and the ledger consistent: every mdev is the test's foreign one
# or has a record naming it and its type, no record without its mdev, no
# owner with two, no record left creating or releasing; a live container's
# retry finds its one allocation.  Power loss: an empty or truncated record
# is not trusted by `vgpuctl list` and is reclaimed by gc.
# Run as: tests/sim/with-sim tests/runtime/test-crash.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
HOOK_CRASH=$BUILD/oci-hook/vgpu-hook-crash
CTL_CRASH=$BUILD/plugin/vgpuctl-crash
export VGPU_STATE_DIR=$(mktemp -d)
B=$(mktemp -d)
CG=/sys/fs/cgroup/devices/vgpu-crash-$$
RT_DIRS+=("$VGPU_STATE_DIR" "$B")
CPID=""
FOREIGN=""
TYPES=$VGPU_SYSFS_ROOT/class/mdev_bus/0000:00:02.0/mdev_supported_types

cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$FOREIGN" ] && echo 1 > "$VGPU_SYSFS_ROOT/bus/mdev/devices/$FOREIGN/remove" 2>/dev/null
	"$VGPUCTL" gc >/dev/null 2>&1
	rmdir "$CG" 2>/dev/null
	rt_cleanup
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# The "container": a sleep in its own v1 devices cgroup, which the hook's
# cgroup step grants the nodes in.
mkdir -p "$CG" || { echo "Bail out! cannot make $CG"; exit 1; }
start_container() {
	start_stub
	CPID=$STUB_PID
	echo "$CPID" > "$CG/cgroup.procs"
}
stop_container() {
	kill "$CPID"
	wait "$CPID" 2>/dev/null
	CPID=""
}

mkdir -p "$B/rootfs/dev"
cat > "$B/config.json" <<JSON
{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"linux":{}}
JSON
state() { # ID [STATUS]
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"%s","annotations":{"intel.com/vgpu":"auto"}}' \
		"$1" "${2:-creating}" "${CPID:-0}" "$B"
}
precreate_config() { # ID
	printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"annotations":{"intel.com/vgpu":"auto"},"linux":{"cgroupsPath":"/libpod_parent/libpod-%s"}}' "$1"
}

# crashed STEP CMD...: run CMD with the crash point STEP armed; its exit status.
crashed() {
	local step=$1
	shift
	{ VGPU_CRASH_AT=$step "$@" >/dev/null 2>&1; echo $?; } 2>/dev/null
}

# What sysfs and the ledger say together: "consistent" or the problems.
consistent() {
	python3 - "$VGPU_SYSFS_ROOT" "$VGPU_STATE_DIR/ledger" "$FOREIGN" <<'PY'
import json, os, sys
sysfs, ledger, foreign = sys.argv[1:4]
bus = f"{sysfs}/bus/mdev/devices"
mdevs = set(os.listdir(bus))
recs, owners, bad = {}, {}, []
for f in sorted(os.listdir(ledger)) if os.path.isdir(ledger) else []:
    if f.startswith("."):
        continue  # a temp file of an interrupted write: never a record
    u = f[-41:-5] if f.endswith(".json") else f  # <kind>.<owner>.<uuid>.json
    try:
        r = json.load(open(os.path.join(ledger, f)))
    except Exception:
        bad.append(f"unreadable record {f}")
        continue
    if r.get("uuid") != u:
        bad.append(f"record {f} names {r.get('uuid')}")
    if r.get("state") != "active":
        bad.append(f"record {u} left {r.get('state')}")
    recs[u] = r
    owners.setdefault(r.get("owner"), []).append(u)
for m in sorted(mdevs):
    if m == foreign:
        continue
    if m not in recs:
        bad.append(f"leaked mdev {m}")
    elif os.path.basename(os.readlink(f"{bus}/{m}/mdev_type")) != recs[m].get("type"):
        bad.append(f"record {m} names another type")
for u in recs:
    if u not in mdevs:
        bad.append(f"record {u} without its mdev")
if foreign not in mdevs:
    bad.append("the foreign mdev was removed")
if foreign in recs:
    bad.append("the foreign mdev is in the ledger")
for o, us in owners.items():
    if len(us) > 1:
        bad.append(f"owner {o} holds {len(us)} mdevs")
print("; ".join(bad) or "consistent")
PY
}
ours() { echo "$(($(mdev_count) - 1)) $(ledger_count)"; }

# gc_consistent NAME [OURS]: gc succeeds, then sysfs + ledger agree and hold OURS (default "0 0").
gc_consistent() {
	ok "$1: vgpuctl gc" "$VGPUCTL" gc
	check "$1: sysfs and ledger consistent" consistent "$(consistent)"
	check "$1: mdevs and records of ours" "${2:-0 0}" "$(ours)"
}

# A foreign mdev, made the way an operator's mdevctl would: never touched.
FOREIGN=$(cat /proc/sys/kernel/random/uuid)
echo "$FOREIGN" > "$TYPES/i915-GVTg_V5_8/create"
check "foreign mdev made" 1 "$(mdev_count)"

ALLOC_STEPS="after-lock after-record after-create after-ledger"

# --- vgpu-hook createRuntime killed at each step, container gone or alive
for step in $ALLOC_STEPS after-node after-cgroup; do
	n="createRuntime $step, container gone"
	start_container
	check "$n: killed" 137 "$(crashed "$step" "$HOOK_CRASH" createRuntime < <(state "cr-gone-$step"))"
	stop_container
	gc_consistent "$n"
	rm -rf "$B/rootfs/dev/vfio"

	n="createRuntime $step, container alive"
	start_container
	check "$n: killed" 137 "$(crashed "$step" "$HOOK_CRASH" createRuntime < <(state "cr-live-$step"))"
	case $step in after-ledger | after-node | after-cgroup) keep="1 1" ;; *) keep="0 0" ;; esac
	gc_consistent "$n" "$keep"
	ok "$n: the runtime's retry succeeds" "$VGPU_HOOK" createRuntime < <(state "cr-live-$step")
	check "$n: one allocation, one node" "1 1 1" "$(ours) $(ls "$B/rootfs/dev/vfio" | grep -cv '^vfio$')"
	stop_container # the runtime's poststop comes once the container has ended
	ok "$n: poststop" "$VGPU_HOOK" poststop < <(state "cr-live-$step" stopped)
	check "$n: after poststop" "consistent 0 0" "$(consistent) $(ours)"
	rm -rf "$B/rootfs/dev/vfio"
done

# --- a real runc container whose createRuntime hook dies (no poststop hook: gc must reclaim)
for step in after-node after-cgroup; do
	n="runc createRuntime $step"
	b=$(mktemp -d)
	id="crash-$step-$$"
	rt_track runc "$id" "$b"
	make_bundle "$b" sh -c true
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$id'
c['hooks'] = {'createRuntime': [{'path': '$HOOK_CRASH', 'args': ['vgpu-hook', 'createRuntime'], 'timeout': 30,
  'env': ['VGPU_CRASH_AT=$step', 'VGPU_SYSFS_ROOT=$VGPU_SYSFS_ROOT', 'VGPU_DEV_ROOT=$VGPU_DEV_ROOT', 'VGPU_STATE_DIR=$VGPU_STATE_DIR']}]}"
	out=$(cd "$b" && runc create "$id" </dev/null 2>&1)
	check "$n: runc create failed on the killed hook" 1 "$(printf '%s\n' "$out" | grep -c 'signal: killed')"
	runc delete -f "$id" >/dev/null 2>&1
	gc_consistent "$n"
done

# --- precreate killed at each step: its record has no pid, poststop releases
for step in $ALLOC_STEPS; do
	n="precreate $step"
	check "$n: killed" 137 "$(crashed "$step" "$HOOK_CRASH" precreate < <(precreate_config "pc-$step"))"
	[ "$step" = after-ledger ] && keep="1 1" || keep="0 0"
	gc_consistent "$n" "$keep"
	ok "$n: poststop" "$VGPU_HOOK" poststop < <(state "pc-$step" stopped)
	check "$n: after poststop" "consistent 0 0" "$(consistent) $(ours)"
done

# --- vgpuctl allocate killed at each step, with a container pid (gone) or none (node agent)
for step in $ALLOC_STEPS; do
	n="vgpuctl allocate $step, pid gone"
	start_container
	check "$n: killed" 137 "$(crashed "$step" "$CTL_CRASH" allocate --owner "va-$step" --type auto --pid "$CPID")"
	stop_container
	gc_consistent "$n"

	n="vgpuctl allocate $step, no pid"
	check "$n: killed" 137 "$(crashed "$step" "$CTL_CRASH" allocate --owner "vn-$step" --type auto)"
	[ "$step" = after-ledger ] && keep="1 1" || keep="0 0"
	gc_consistent "$n" "$keep"
	ok "$n: allocate again" "$VGPUCTL" allocate --owner "vn-$step" --type auto
	check "$n: one allocation" "consistent 1 1" "$(consistent) $(ours)"
	ok "$n: release" "$VGPUCTL" release --owner "vn-$step"
	check "$n: after release" "consistent 0 0" "$(consistent) $(ours)"
done

# --- release killed after marking releasing and after the remove
uuid_of() { "$VGPUCTL" list | awk -v o="owner=$1" '$4 == o {print $1}'; }
for step in after-mark-releasing after-remove; do
	for how in poststop release-owner release-uuid gc; do
		n="$how killed $step"
		owner="rel-$how-$step"
		start_container
		ok "$n: allocate" "$VGPU_HOOK" --no-cgroup createRuntime < <(state "$owner")
		u=$(uuid_of "$owner")
		stop_container # a running container's vGPU is released only by force
		case $how in
		poststop) rc=$(crashed "$step" "$HOOK_CRASH" poststop < <(state "$owner" stopped)) ;;
		release-owner) rc=$(crashed "$step" "$CTL_CRASH" release --owner "$owner") ;;
		release-uuid) rc=$(crashed "$step" "$CTL_CRASH" release --uuid "$u") ;;
		gc) rc=$(crashed "$step" "$CTL_CRASH" gc) ;;
		esac
		check "$n: killed" 137 "$rc"
		if [ $step = after-remove ]; then
			check "$n: list shows the record releasing, off the bus" 1 \
				"$("$VGPUCTL" list | grep -c "^$u .*owner=$owner state=releasing (not on the mdev bus)")"
		else
			check "$n: list shows the mdev releasing" 1 "$("$VGPUCTL" list | grep -c "^$u .*owner=$owner state=releasing$")"
		fi
		case $how in
		poststop) ok "$n: poststop again finishes it" "$VGPU_HOOK" poststop < <(state "$owner" stopped) ;;
		release-owner) ok "$n: release again finishes it" "$VGPUCTL" release --owner "$owner" ;;
		esac
		gc_consistent "$n"
		[ -n "$CPID" ] && stop_container
		rm -rf "$B/rootfs/dev/vfio"
	done
done

# --- power loss: empty and truncated records for mdevs that exist, and one without its mdev
"$VGPUCTL" allocate --owner pl-empty --type auto >/dev/null
"$VGPUCTL" allocate --owner pl-trunc --type auto >/dev/null
"$VGPUCTL" allocate --owner pl-gone --type auto >/dev/null
"$VGPUCTL" allocate --owner pl-good --type auto >/dev/null
E=$(uuid_of pl-empty) T=$(uuid_of pl-trunc) G=$(uuid_of pl-gone)
: > "$(record_file "$E")"
f=$(record_file "$T") && head -c 60 "$f" > "$f.tmp" && mv "$f.tmp" "$f"
f=$(record_file "$G") && head -c 100 "$f" > "$f.tmp" && mv "$f.tmp" "$f"
echo 1 > "$VGPU_SYSFS_ROOT/bus/mdev/devices/$G/remove"
# an interrupted atomic write leaves a temp file: never read as a record
sh -c true & dead=$!; wait $dead # a writer that is gone
printf '{"uuid":"%s","own' "$E" > "$VGPU_STATE_DIR/ledger/.$E.json.tmp$dead"
list=$("$VGPUCTL" list)
check "power loss: an empty record shows as corrupt, not as owned or foreign" "$E 0000:00:02.0 i915-GVTg_V5_4 owner=? state=corrupt" "$(printf '%s\n' "$list" | grep "^$E ")"
check "power loss: a truncated record shows as corrupt, with no owner" 1 "$(printf '%s\n' "$list" | grep -c "^$T .* owner=? state=corrupt$")"
check "power loss: a truncated record of a gone mdev shows as corrupt and off the bus" "$G ? ? owner=? state=corrupt (not on the mdev bus)" "$(printf '%s\n' "$list" | grep "^$G ")"
check "power loss: list still shows the good record" 1 "$(printf '%s\n' "$list" | grep -c 'owner=pl-good state=active$')"
list_json=$("$VGPUCTL" list --json)
check "power loss: list --json is valid JSON" ok "$(printf '%s' "$list_json" | python3 -c 'import json,sys; json.load(sys.stdin); print("ok")' 2>&1)"
EXPECT_RC=1 expect_fail "power loss: release --uuid refuses the empty record, naming it" "ledger record vgpuctl.pl-empty.$E.json" \
	"$VGPUCTL" release --uuid "$E"
ok "power loss: allocation still works beside corrupt records" "$VGPUCTL" allocate --owner pl-new --type auto
gc=$("$VGPUCTL" gc 2>&1)
check "power loss: gc exit 0" 0 $?
check "power loss: gc reclaims the three corrupt records" 3 "$(printf '%s\n' "$gc" | grep -c 'corrupt ledger record')"
check "power loss: after gc" "consistent 2 2" "$(consistent) $(ours)"
check "power loss: gc swept the dead writer's temp file" "" "$(ls -A "$VGPU_STATE_DIR/ledger" | grep '\.tmp')"
check "power loss: the good records kept" "pl-good pl-new" "$("$VGPUCTL" list | grep -o 'owner=[a-z-]*' | cut -d= -f2 | sort | xargs)"
"$VGPUCTL" release --owner pl-good >/dev/null
"$VGPUCTL" release --owner pl-new >/dev/null
check "power loss: released" "consistent 0 0" "$(consistent) $(ours)"
check "the foreign mdev is still there, untouched" 1 "$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | grep -c "^$FOREIGN$")"
finish
