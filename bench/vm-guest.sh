#!/bin/sh
# bench/vm-guest.sh — the guest side of `bench/run --vm` (busybox sh, in the real-kernel
# guest of tests/vm): the cycle rows of bench/cycle.sh with one mtty-2 a cycle, the rows taking
# turns sample by sample (TCG shares the host's cores, so host load hits them alike), each
# sample timed by vmtime around `sh cycle.sh ROW I`.  Writes `t ROW MS`, `rss BINARY KIB
# LABEL`, `info TEXT` and `note TEXT` lines to the results port for bench/run's table.
. /vm/guest-lib.sh

export W=/bench SYSFS=/sys P=mtty TY=mtty-2 TRUE=/usr/bin/true-static HOOK=/usr/bin/vgpu-hook \
	VGPUCTL=/usr/bin/vgpuctl BASE_HOOK=
[ -x /baseline/vgpu-hook ] && BASE_HOOK=/baseline/vgpu-hook

# stand_in ROW I: the stand-in container of sample I of ROW (cycle.sh ends it halfway), a
# process in the copy of this mount namespace that KEEPER holds (the rootfs is the same, and
# its end takes no namespace down), and for the hook rows the createRuntime and poststop
# states with a bundle and rootfs of their own
stand_in() {
	nsenter -m -t "$KEEPER" sleep 100000 &
	pid=$!
	until [ "$(readlink "/proc/$pid/ns/mnt")" = "$(readlink "/proc/$KEEPER/ns/mnt")" ]; do sleep 0.01; done
	echo "$pid" >"$W/h.$1.$2"
	case $1 in hook | base-hook) ;; *) return 0 ;; esac
	b=$W/b.$1.$2
	mkdir -p "$b/rootfs/dev"
	printf '{"ociVersion":"1.0.2","root":{"path":"%s"},"process":{"args":["true"],"cwd":"/"}}\n' "$b/rootfs" \
		>"$b/config.json"
	printf '{"ociVersion":"1.0.2","id":"%s%s","pid":%d,"bundle":"%s","status":"created"}' "$1" "$2" "$pid" "$b" \
		>"$W/c.$1.$2"
	printf '{"ociVersion":"1.0.2","id":"%s%s","pid":0,"bundle":"%s","status":"stopped"}' "$1" "$2" "$b" >"$W/p.$1.$2"
}

vm_setup
n=$(sed -n 's/.*vgpu\.samples=\([0-9]*\).*/\1/p' /proc/cmdline)
n=${n:-30}
vm_load_modules || exit 1
report "info guest: kernel $(uname -r) under qemu TCG (-smp 2 -m 1024), $n samples a row"
unshare -m sleep 100000 &
KEEPER=$!
while [ "$(readlink "/proc/$KEEPER/ns/mnt")" = "$(readlink /proc/self/ns/mnt)" ]; do sleep 0.01; done
rows="sh raw floor hook vgpuctl seed"
[ -n "$BASE_HOOK" ] && rows="sh raw floor hook base-hook vgpuctl seed"
i=0
while [ "$i" -lt "$n" ]; do
	for r in $rows; do stand_in "$r" "$i"; done
	i=$((i + 1))
done
rc=0
i=0
while [ "$i" -lt "$n" ]; do
	for r in $rows; do
		out=$(vmtime run 1 sh "$W/cycle.sh" "$r" "$i" 2>>"/tmp/err.$r" | tail -1)
		case $out in *" failed=0 "*) ;; *) report "note $r: sample $i failed: $(tail -1 "/tmp/err.$r")"; rc=1 ;; esac
		report "t $r $(echo "$out" | sed -n 's/.*median=\([0-9.]*\).*/\1/p')"
	done
	i=$((i + 1))
done
stand_in hook rss
rss() { # LABEL CMD...: peak RSS of CMD, stdin passed on
	label=$1
	shift
	out=$(vmtime rss "$@" | tail -1)
	report "rss vgpu-hook(guest) $(echo "$out" | sed -n 's/.*rss=\([0-9]*\).*/\1/p') $label"
}
rss createRuntime "$HOOK" --type "$TY" --no-cgroup createRuntime <"$W/c.hook.rss"
kill -9 "$(cat "$W/h.hook.rss")"
wait "$(cat "$W/h.hook.rss")" 2>/dev/null
rss poststop "$HOOK" poststop <"$W/p.hook.rss"
left=$(ls /sys/bus/mdev/devices)
[ -z "$left" ] || { report "note mdevs left behind: $left"; rc=1; }
for f in "$W"/h.*; do kill "$(cat "$f")" 2>/dev/null; done
kill "$KEEPER"
exit "$rc"
