#!/bin/bash
# bench/sim.sh OUT [PHASE] — the simulator rows of bench/run.  bench/run runs it
# inside tests/sim/with-sim (VGPU_SIM_CONFIG=bench/eight-gpus.conf) and a
# private mount namespace; it appends to OUT one line a sample (`t ROW MS`),
# a peak RSS (`rss BINARY KIB COMMAND`) or a remark (`note TEXT`).  Env from
# bench/run: N (samples a row), VMTIME and TRUE (static helpers), BASE_HOOK
# (a baseline vgpu-hook, optional), BUILD.
#
# Phases, each interleaving its rows sample by sample:
#   sys     /sys is the simulator (a nested mount namespace) so mdevctl sees
#           it: sh, raw, floor, hook, base-hook, vgpuctl, seed (each with a
#           stand-in container: bench/cycle.sh), cdi, mdevctl-types
#   runc    runc run of busybox without and with the hook
#   alloc   64 allocations one after another and at once, 10 ms create delay;
#           each batch checked (64 mdevs, 64 owners, no uuid twice) and released
#   rss     peak RSS of each binary over its commands
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$1
PHASE=${2:-all}
. "$here/../tests/lib.sh"
. "$here/../tests/runtime/lib-runtime.sh"
export P=0000:00:02.0 TY=i915-GVTg_V5_4 SYSFS=$VGPU_SYSFS_ROOT HOOK=$VGPU_HOOK VGPUCTL CDI=$VGPU_CDI

# sample ROW I: one timed run of cycle.sh ROW I
sample() {
	local out
	out=$("$VMTIME" run 1 sh "$here/cycle.sh" "$1" "$2" 2>>"$W/err.$1" | tail -1) || true
	case $out in *" failed=0 "*) ;; *) echo "note $1: sample $2 failed: $(tail -1 "$W/err.$1")" >>"$OUT" ;; esac
	echo "t $1 $(echo "$out" | sed -n 's/.*median=\([0-9.]*\).*/\1/p')" >>"$OUT"
}

# interleave ROW...: N rounds, each a sample of every row in turn
interleave() {
	local i=0 r
	while [ "$i" -lt "$N" ]; do
		for r in "$@"; do sample "$r" "$i"; done
		i=$((i + 1))
	done
}

# stand_in ROW I: the stand-in container of sample I of ROW (cycle.sh ends
# it halfway): a process in the mount namespace the keeper (start_stub)
# holds, so that its end takes no namespace down; for the hook rows also the
# createRuntime and poststop states with a bundle and rootfs of their own
stand_in() {
	local b=$W/b.$1.$2 pid
	nsenter -m -t "$KEEPER" sleep 100000 &
	pid=$!
	until [ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink "/proc/$KEEPER/ns/mnt")" ]; do sleep 0.01; done
	echo "$pid" >"$W/h.$1.$2"
	case $1 in hook | base-hook) ;; *) return 0 ;; esac
	mkdir -p "$b/rootfs/dev"
	printf '{"ociVersion":"1.0.2","root":{"path":"%s"},"process":{"args":["true"],"cwd":"/"}}\n' "$b/rootfs" >"$b/config.json"
	printf '{"ociVersion":"1.0.2","id":"%s%s","pid":%d,"bundle":"%s","status":"created"}' "$1" "$2" "$pid" "$b" >"$W/c.$1.$2"
	printf '{"ociVersion":"1.0.2","id":"%s%s","pid":0,"bundle":"%s","status":"stopped"}' "$1" "$2" "$b" >"$W/p.$1.$2"
}

# stop_stand_ins: those no cycle has ended, and the keeper
stop_stand_ins() {
	local f
	for f in "$W"/h.*; do kill "$(cat "$f")" 2>/dev/null || true; done
	kill "$KEEPER" 2>/dev/null || true
}

phase_sys() {
	local i=0 r rows="sh raw floor hook vgpuctl seed"
	mount --rbind "$VGPU_SYSFS_ROOT" /sys
	mount -t tmpfs tmpfs /etc/mdevctl.d
	mkdir -p /etc/mdevctl.d/scripts.d/callouts /etc/mdevctl.d/scripts.d/notifiers
	[ -n "${BASE_HOOK:-}" ] && rows="sh raw floor hook base-hook vgpuctl seed"
	start_stub
	KEEPER=$STUB_PID
	while [ "$i" -lt "$N" ]; do
		for r in $rows; do stand_in "$r" "$i"; done
		i=$((i + 1))
	done
	# shellcheck disable=SC2086 # one word a row
	interleave $rows cdi mdevctl-types
	stop_stand_ins
	[ "$(mdev_count) $(ledger_count)" = "0 0" ] ||
		echo "note sys: after the cycles $(mdev_count) mdevs, $(ledger_count) records left" >>"$OUT"
}

phase_runc() {
	make_bundle "$W/runc"
	make_bundle "$W/runc-hook"
	bundle_edit "$W/runc-hook" "c.setdefault('annotations', {})['intel.com/vgpu'] = '$TY'"
	add_hooks "$W/runc-hook" createRuntime
	interleave runc runc-hook
}

# check_batch PREFIX: 64 allocations, 64 owners, no uuid twice; then release them
check_batch() {
	local got k=0
	got=$("$VGPUCTL" list --json | python3 -c '
import json, sys
recs = [r for r in json.load(sys.stdin) if r.get("owner", "").startswith(sys.argv[1])]
print(len(recs), len({r["owner"] for r in recs}), len({r["uuid"] for r in recs}))' "$1")
	[ "$got" = "64 64 64" ] || echo "note alloc: batch $1 gave allocations, owners, uuids = $got, not 64 64 64" >>"$OUT"
	while [ "$k" -lt 64 ]; do
		"$VGPUCTL" release --owner "$1$k" || echo "note alloc: release of $1$k failed" >>"$OUT"
		k=$((k + 1))
	done
	[ "$(mdev_count) $(ledger_count)" = "0 0" ] ||
		echo "note alloc: after releasing batch $1: $(mdev_count) mdevs, $(ledger_count) records left" >>"$OUT"
}

phase_alloc() {
	local i=0
	echo "delay-create 10" >"$VGPU_SIM_CONTROL"
	while [ "$i" -lt "$N" ]; do
		sample alloc-seq "$i"
		check_batch s
		sample alloc-par "$i"
		check_batch p
		i=$((i + 1))
	done
	echo "delay-create 0" >"$VGPU_SIM_CONTROL"
}

# rss BINARY LABEL CMD...: peak RSS of CMD (stdin passed on)
rss() {
	local bin=$1 label=$2 out
	shift 2
	out=$("$VMTIME" rss "$@" 2>/dev/null | tail -1) || true
	echo "rss $bin $(echo "$out" | sed -n 's/.*rss=\([0-9]*\).*/\1/p') $label" >>"$OUT"
}

phase_rss() {
	start_stub
	KEEPER=$STUB_PID
	stand_in hook rss
	rss true "a static no-op (what vmtime itself shows)" "$TRUE"
	rss vgpu-hook createRuntime "$HOOK" --type "$TY" --no-cgroup createRuntime <"$W/c.hook.rss"
	kill -9 "$(cat "$W/h.hook.rss")"
	wait "$(cat "$W/h.hook.rss")" 2>/dev/null || true
	rss vgpu-hook poststop "$HOOK" poststop <"$W/p.hook.rss"
	rss vgpuctl types "$VGPUCTL" types >/dev/null
	rss vgpuctl allocate "$VGPUCTL" allocate --owner rss --type "$TY" >/dev/null
	rss vgpuctl list "$VGPUCTL" list >/dev/null
	rss vgpuctl release "$VGPUCTL" release --owner rss
	rss vgpu-cdi "generate (8x4)" "$CDI" generate --hook-path "$HOOK" --output "$W/spec.json"
	stop_stand_ins
	[ "$(mdev_count) $(ledger_count)" = "0 0" ] ||
		echo "note rss: $(mdev_count) mdevs, $(ledger_count) records left" >>"$OUT"
}

case $PHASE in
all)
	W=$(mktemp -d)
	export W
	mkdir -p "$W/state"
	mount -t tmpfs -o mode=0700 tmpfs "$W/state" # like /run: the ledger lives on tmpfs, root's alone
	export VGPU_STATE_DIR=$W/state
	trap 'umount "$W/state" 2>/dev/null; rm -rf "$W"' EXIT
	unshare -m --propagation private "$0" "$OUT" sys
	phase_runc
	phase_alloc
	phase_rss
	;;
sys) phase_sys ;;
*) echo "bench/sim.sh: unknown phase $PHASE" >&2; exit 2 ;;
esac
