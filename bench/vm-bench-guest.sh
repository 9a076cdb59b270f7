#!/bin/sh
# vm-bench-guest.sh — guest side of bench/vm-bench (busybox sh): one method a row, each cycle
# an allocate + release of one mtty-2, timed by vmtime around `sh /tmp/cycle.sh METHOD I`.
# The methods take turns cycle by cycle, so a busy host (TCG shares its cores) slows them alike.
. /vm/guest-lib.sh

TYPE_DIR=/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2

# The cycle itself, one file so every method pays the same shell start.
write_cycle() {
	cat >/tmp/cycle.sh <<'CYCLE'
i=$2
case $1 in
sh) ;;
sysfs)
	read -r u </proc/sys/kernel/random/uuid
	echo "$u" >/sys/class/mdev_bus/mtty/mdev_supported_types/mtty-2/create &&
		echo 1 >"/sys/bus/mdev/devices/$u/remove" ;;
seed)
	u=$(uuidgen)
	mdevctl start -u "$u" -p mtty --type mtty-2 && mdevctl stop -u "$u" ;;
2xlist)
	vgpuctl list >/dev/null && vgpuctl list >/dev/null ;;
vgpuctl)
	vgpuctl allocate --owner "b$i" --type mtty-2 >/dev/null && vgpuctl release --owner "b$i" ;;
vgpu-hook)
	echo "{\"ociVersion\":\"1.0\",\"id\":\"h$i\",\"pid\":$HOLDER,\"root\":\"/bench/r$i\",\"bundle\":\"/bench/b$i\",\"status\":\"created\"}" |
		vgpu-hook --type mtty-2 --no-cgroup createRuntime &&
		echo "{\"ociVersion\":\"1.0\",\"id\":\"h$i\",\"pid\":0,\"bundle\":\"/bench/b$i\",\"status\":\"stopped\"}" |
		vgpu-hook poststop ;;
esac
CYCLE
}

# A bundle and rootfs a cycle, made before timing; the pid is a live process of this mount
# namespace, so the hook mknods into /bench/rN/dev.
fake_bundles() {
	i=0
	while [ "$i" -lt "$1" ]; do
		mkdir -p "/bench/r$i/dev" "/bench/b$i"
		printf '{"ociVersion":"1.0.2","root":{"path":"/bench/r%s"},"process":{"args":["true"],"cwd":"/"}}\n' "$i" \
			>"/bench/b$i/config.json"
		i=$((i + 1))
	done
}

vm_setup
cycles=$(sed -n 's/.*vgpu\.cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
cycles=${cycles:-30}
vm_load_modules || exit 1
write_cycle
fake_bundles "$cycles"
sleep 100000 &
HOLDER=$!
export HOLDER

methods="sh sysfs seed"
for m in vgpuctl vgpu-hook; do
	if command -v "$m" >/dev/null; then methods="$methods $m"; else note "$m: not in the guest"; fi
done
command -v vgpuctl >/dev/null && methods="$methods 2xlist"
rc=0
: >/tmp/samples
i=0
while [ "$i" -lt "$cycles" ]; do
	for m in $methods; do
		out=$(vmtime run 1 sh /tmp/cycle.sh "$m" "$i" 2>>"/tmp/err.$m" | tail -1)
		case $out in *" failed=0 "*) ;; *) rc=1 ;; esac
		echo "$m $(echo "$out" | sed -n 's/.*median=\([0-9.]*\).*/\1/p')" >>/tmp/samples
	done
	i=$((i + 1))
done
: >/tmp/rows
for m in sh sysfs seed vgpuctl vgpu-hook 2xlist; do
	awk -v m="$m" '$1 == m { print $2 }' /tmp/samples | sort -n >/tmp/s
	n=$(wc -l </tmp/s)
	if [ "$n" = 0 ]; then echo "$m" >>/tmp/rows; continue; fi
	med=$(awk -v n="$n" '{ v[NR] = $1 } END { if (n % 2) print v[(n + 1) / 2]; else printf "%.1f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }' /tmp/s)
	echo "$m $med $(head -1 /tmp/s) $(tail -1 /tmp/s)" >>/tmp/rows
	[ -s "/tmp/err.$m" ] && note "$m stderr: $(head -3 "/tmp/err.$m" | tr '\n' ' ')"
done
left=$(ls /sys/bus/mdev/devices)
[ -z "$left" ] || { note "mdevs left behind: $left"; rc=1; }
kill "$HOLDER"

seed=$(awk '$1 == "seed" { print $2 }' /tmp/rows)
report "# allocate+release of one mtty-2, $cycles cycles, guest $(uname -r) under TCG"
report "$(printf '%-10s %10s %8s %8s %9s' method 'median ms' 'min' 'max' 'vs seed')"
while read -r m med mn mx; do
	ratio=$(awk -v a="$med" -v s="$seed" 'BEGIN { if (a + 0 > 0 && s + 0 > 0) printf "%.2fx", a / s; else print "-" }')
	report "$(printf '%-10s %10s %8s %8s %9s' "$m" "${med:--}" "${mn:--}" "${mx:--}" "$ratio")"
done </tmp/rows
exit "$rc"
