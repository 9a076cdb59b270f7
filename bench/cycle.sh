# bench/cycle.sh ROW I — one sample of one row of bench/run, run by
# `vmtime run 1 sh cycle.sh ROW I` so every row pays the same shell start.
# The rows take turns sample by sample (interleaved), on the simulator
# (bench/sim.sh) and in the real-kernel guest (bench/vm-guest.sh).  Env: W
# (work dir: states, bundles, stand-in containers), SYSFS, P (parent), TY
# (type), TRUE (a static no-op), HOOK, BASE_HOOK, VGPUCTL, CDI.
#
# Every cycle row ends a stand-in container halfway (a process started
# beforehand in a mount namespace that another process keeps, its pid in
# $W/h.ROW.I) and waits until it is gone, as a runtime's container is gone
# before its poststop: the hook needs it, and every row pays it alike.
i=$2
row=$1
# the stand-in of this sample ends
end() {
	read -r pid <"$W/h.$row.$i" && kill -9 "$pid" || return 1
	while read -r st <"/proc/$pid/stat"; do
		case $st in *") Z "* | *") X "*) break ;; esac
	done 2>/dev/null
	return 0
}
create() {
	read -r u </proc/sys/kernel/random/uuid
	echo "$u" >"$SYSFS/class/mdev_bus/$P/mdev_supported_types/$TY/create"
}
remove() { echo 1 >"$SYSFS/bus/mdev/devices/$u/remove"; }
# hook HOOK: createRuntime, the container ends, poststop
hook() {
	"$1" --type "$TY" --no-cgroup createRuntime <"$W/c.$row.$i" && end && "$1" poststop <"$W/p.$row.$i"
}
# allocs OWNER-PREFIX PARALLEL: 64 allocations, one after another or all at once
allocs() {
	k=0
	pids=
	while [ "$k" -lt 64 ]; do
		if [ "$2" = 1 ]; then
			"$VGPUCTL" allocate --owner "$1$k" --type "$TY" >/dev/null &
			pids="$pids $!"
		else
			"$VGPUCTL" allocate --owner "$1$k" --type "$TY" >/dev/null || return 1
		fi
		k=$((k + 1))
	done
	for p in $pids; do wait "$p" || return 1; done
}
case $row in
sh) end ;;
raw) create && end && remove ;;
floor) create && "$TRUE" && end && remove && "$TRUE" ;;
hook) hook "$HOOK" ;;
base-hook) hook "$BASE_HOOK" ;;
vgpuctl) "$VGPUCTL" allocate --owner "v$i" --type "$TY" >/dev/null && end && "$VGPUCTL" release --owner "v$i" ;;
seed)
	u=$(uuidgen)
	mdevctl start -u "$u" -p "$P" --type "$TY" && end && mdevctl stop -u "$u" ;;
runc) runc run --bundle "$W/runc" "rn$i" >/dev/null ;;
runc-hook) runc run --bundle "$W/runc-hook" "rh$i" >/dev/null ;;
cdi) "$CDI" generate --hook-path "$HOOK" --output "$W/spec.json" ;;
mdevctl-types) mdevctl types >/dev/null ;;
alloc-seq) allocs s 0 ;;
alloc-par) allocs p 1 ;;
*) echo "cycle.sh: unknown row $row" >&2; exit 2 ;;
esac
