#!/bin/bash
# Load: WORKERS processes each start and delete ROUNDS runc containers (hook
# at createRuntime and poststop; i915-GVTg_V5_4 or auto; alternately `runc
# run` and `runc create` + `runc delete -f` of a never-started container)
# while another process injects simulator faults at random: create failures
# with random errnos, slow creates and removes, removes blocked for up to
# 0.9 s (poststop's bound is 0.4 s, so some stay marked releasing).
# At the end, after `vgpuctl gc`, nothing is leaked, and every container that
# failed printed one `vgpu-hook: ` line saying why.  Counts go to the TAP log;
# SEED=N replays a fault sequence.
# Run as: tests/sim/with-sim tests/runtime/test-stress.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
WORKERS=${WORKERS:-4}
ROUNDS=${ROUNDS:-15}
SEED=${SEED:-$$}
export VGPU_STATE_DIR=$(mktemp -d)
OUT=$(mktemp -d)
RT_DIRS+=("$VGPU_STATE_DIR" "$OUT")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	echo reset > "$VGPU_SIM_CONTROL" 2>/dev/null
	rt_cleanup
}
trap cleanup EXIT
trap 'exit 143' TERM INT
echo "# seed $SEED, $WORKERS workers x $ROUNDS containers"

BUNDLES=()
for w in $(seq "$WORKERS"); do
	b=$(mktemp -d)
	BUNDLES[$w]=$b
	RT_DIRS+=("$b")
	make_bundle "$b" sh -c 'ls /dev/vfio' >/dev/null
	[ $((w % 2)) = 0 ] && type=auto || type=i915-GVTg_V5_4
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = '$type'"
	# a poststop bound shorter than the longest injected block: some releases
	# are left marked releasing, for gc
	bundle_edit "$b" "c['hooks'] = {'createRuntime': [$(hook_json createRuntime)], 'poststop': [$(hook_json poststop --release-timeout-ms 400)]}"
	for i in $(seq "$ROUNDS"); do rt_track runc "st-$w-$i-$$" "$b"; done
done

# worker W: its containers one after the other; OUT/W-I.{out,rc,mode}
worker() {
	local w=$1 b=${BUNDLES[$1]} i id
	for i in $(seq "$ROUNDS"); do
		id="st-$w-$i-$$"
		bundle_edit "$b" "c['linux']['cgroupsPath'] = '/$id'"
		if [ $((i % 2)) = 1 ]; then
			echo run > "$OUT/$w-$i.mode"
			(cd "$b" && timeout 60 runc run "$id" </dev/null >"$OUT/$w-$i.out" 2>&1)
			echo $? > "$OUT/$w-$i.rc"
		else
			echo create > "$OUT/$w-$i.mode"
			(cd "$b" && timeout 60 runc create "$id" </dev/null >"$OUT/$w-$i.out" 2>&1)
			echo $? > "$OUT/$w-$i.rc"
			timeout 60 runc delete -f "$id" >>"$OUT/$w-$i.out" 2>&1
		fi
	done
}

# faults until the workers are done; every fail-create is armed until a create uses it
inject() {
	local errnos=(EIO EBUSY ENOSPC EINVAL ENOMEM EAGAIN EEXIST ENODEV) n=0
	RANDOM=$SEED
	while [ ! -e "$OUT/done" ]; do
		sleep "0.$((2 + RANDOM % 5))"
		case $((RANDOM % 6)) in
		0 | 1) echo "fail-create ${errnos[RANDOM % ${#errnos[@]}]} $((1 + RANDOM % 2))" ;;
		2) echo "delay-create $((RANDOM % 4 * 100))" ;;
		3) echo "delay-remove $((RANDOM % 4 * 100))" ;;
		4) echo "block-remove all"; sleep "0.$((1 + RANDOM % 9))"; echo "unblock-remove all" ;;
		5) echo "fail-create off" ;;
		esac > "$VGPU_SIM_CONTROL" || echo "# control write failed" >&2
		n=$((n + 1))
	done
	echo "$n" > "$OUT/faults"
}

inject &
INJ=$!
PIDS+=("$INJ")
t0=$(date +%s)
WPIDS=()
for w in $(seq "$WORKERS"); do
	worker "$w" &
	WPIDS+=($!)
done
PIDS+=("${WPIDS[@]}")
wait "${WPIDS[@]}"
touch "$OUT/done"
wait "$INJ"
echo reset > "$VGPU_SIM_CONTROL"
secs=$(($(date +%s) - t0))

# only a release still blocked past its bound may leave work for gc
left="$(mdev_count) $(ledger_count)"
pending=$(grep -l 'marked releasing' "$OUT"/*.out 2>/dev/null | wc -l)
check "before gc: leftovers only from releases past their bound" yes \
	"$([ "$left" = "0 0" ] || [ "$pending" -gt 0 ] && echo yes || echo "no: $left left, $pending pending")"
gc=$("$VGPUCTL" gc 2>&1)
check "vgpuctl gc after the load" 0 $?
[ -n "$gc" ] && printf '%s\n' "$gc" | sed 's/^/# gc: /'
check "nothing leaked: no mdev, no ledger record" "0 0" "$(mdev_count) $(ledger_count)"
check "budget back: V5_1 V5_2 V5_4 V5_8 available" "1 2 5 7" \
	"$(echo $(avail i915-GVTg_V5_1) $(avail i915-GVTg_V5_2) $(avail i915-GVTg_V5_4) $(avail i915-GVTg_V5_8))"

total=$((WORKERS * ROUNDS))
check "every container ran to an exit status" "$total" "$(ls "$OUT" | grep -c '\.rc$')"
# Each failed container's runc output must carry the hook's stderr, and that
# must be exactly one line "vgpu-hook: SENTENCE\n".  Prints "started failed",
# then the failures by errno and the unclear ones.
python3 - "$OUT" > "$OUT/summary" <<'PY'
import collections, errno, glob, os, re, sys
out = sys.argv[1]
by_text = {os.strerror(e): name for e, name in errno.errorcode.items()}
started, failed, by, unclear = 0, 0, collections.Counter(), []
for rc in sorted(glob.glob(f"{out}/*.rc")):
    base = rc[:-3]
    if open(rc).read().strip() == "0":
        started += 1
        continue
    failed += 1
    text = open(base + ".out", errors="replace").read()
    hooks = [l for l in text.splitlines() if "vgpu-hook: " in l]
    m = re.search(r'stderr: (.*)"$', hooks[0]) if len(hooks) == 1 else None
    stderr = m and m.group(1).encode().decode("unicode_escape")
    if not stderr or not stderr.startswith("vgpu-hook: ") or stderr.count("\n") != 1 or not stderr.endswith("\n"):
        unclear.append(f"{os.path.basename(base)}: {text[:500]!r}")
        continue
    msg = stderr.strip()
    if "no instance of" in msg:
        by["ENOSPC"] += 1
    elif "already exists" in msg:
        by["EEXIST"] += 1
    elif "rejected UUID" in msg:
        by["EINVAL"] += 1
    else:
        by[by_text.get(msg.rsplit(": ", 1)[-1], "other: " + msg)] += 1
print(started, failed)
print(", ".join(f"{k} {v}" for k, v in by.most_common()) or "none")
print("\n".join(unclear))
PY
read -r started failed < "$OUT/summary"
check "every failure printed one clear vgpu-hook line" "" "$(tail -n +3 "$OUT/summary")"
check "started + failed = $total" "$total" "$((started + failed))"
check "some containers started under load" yes "$([ "$started" -gt 0 ] && echo yes || echo no)"
check "the injected faults failed some containers" yes "$([ "$failed" -gt 0 ] && echo yes || echo no)"
runs=0 seen=0
for m in $(grep -lx run "$OUT"/*.mode); do
	b=${m%.mode}
	[ "$(cat "$b.rc")" = 0 ] || continue
	runs=$((runs + 1))
	grep -qxE '[0-9]+' "$b.out" && seen=$((seen + 1))
done
check "every container that ran saw its group node" "$runs" "$seen"
echo "# $total containers in ${secs}s, $(cat "$OUT/faults") faults injected: started $started, failed $failed, $pending releases past their bound"
echo "# failed by errno: $(sed -n 2p "$OUT/summary")"
finish
