#!/bin/bash
# Injection into real runc containers: nodes made in the container's /dev from
# its mount namespace and allowed in its device cgroup, by inject-probe (a
# createRuntime hook calling vgpu_inject_nodes + vgpu_cgroup_allow).
#
# Twice: on the host as it is (hybrid: runc enforces devices through cgroup v1,
# so the grant is a devices.allow rule), and in a private mount namespace
# where only cgroup2 is mounted at /sys/fs/cgroup (runc attaches its own BPF
# device program; the grant replaces it with BPF_F_REPLACE).  Inside, the
# granted node (a char major with no driver) opens with ENXIO; a node made but
# not granted, and the same node with --no-cgroup, stay EPERM; /dev/null,
# allowed by runc's own rules, still opens.  Containers, their cgroups and the
# temp dir go on exit, also on failure.
#
#   bash tests/runtime/test-cgroup2.sh     (root; BUILD= build dir, default build)
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"

if [ "$(id -u)" != 0 ] || ! command -v runc >/dev/null || [ ! -x /bin/busybox ]; then
	echo "1..0 # SKIP needs root, runc and busybox-static"
	exit 0
fi

T=$(mktemp -d /tmp/vgpu-test-cgroup2.XXXXXX)
V2_IDS=()

# runc in a mount namespace that sees only cgroup2 at /sys/fs/cgroup.
in_cgroup2_ns() {
	unshare -m --propagation private sh -c \
		'umount -l /sys/fs/cgroup && mount -t cgroup2 cgroup2 /sys/fs/cgroup && exec "$@"' sh "$@"
}

cleanup() {
	local id
	for id in "${V2_IDS[@]}"; do
		in_cgroup2_ns runc delete -f "$id" >/dev/null 2>&1
		rmdir "/sys/fs/cgroup/unified/$id" 2>/dev/null
	done
	rt_cleanup
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# A char major with no driver: open() of an allowed node gives ENXIO.
major=$(awk '/^Character/ {c=1; next} /^Block/ {c=0} c {u[$1]=1} END {for (m = 240; m < 255; m++) if (!(m in u)) {print m; exit}}' /proc/devices)

# The probe is built by meson (tests/runtime/meson.build) against the
# libraries; a copy in $T is what the runtime runs.
build_probe() {
	cp "$BUILD/tests/runtime/inject-probe" "$T/inject-probe"
}

# hook PROBE-ARGS...: one createRuntime entry (JSON) running inject-probe.
hook() {
	python3 -c 'import json, sys; print(json.dumps({"path": sys.argv[1], "args": ["inject-probe"] + sys.argv[2:], "timeout": 30}))' \
		"$T/inject-probe" "$@"
}

# run_container WHERE NAME HOOK-JSON...: busybox container reporting what it
# sees of /dev/vfio/42, 43 and /dev/null; output on stdout.
run_container() {
	local where=$1 name=$2 b id h
	shift 2
	b=$T/$name
	id=vgpu-cg2-$name-$$
	make_bundle "$b" sh -c 'ls -l /dev/vfio/42 2>&1 | sed "s/^/LS /"
for n in 42 43; do cat /dev/vfio/$n 2>&1 | sed "s/^/OPEN /"; done
cat /dev/null && echo NULL ok; true' >/dev/null
	bundle_edit "$b" "c['linux']['cgroupsPath'] = '/$id'"
	for h in "$@"; do bundle_edit "$b" "c.setdefault('hooks', {}).setdefault('createRuntime', []).append($h)"; done
	if [ "$where" = v2 ]; then
		V2_IDS+=("$id")
		(cd "$b" && in_cgroup2_ns runc run "$id" 2>&1)
	else
		rt_track runc "$id" "$b"
		(cd "$b" && runc run "$id" 2>&1)
	fi
}

enxio="OPEN cat: can't open '/dev/vfio/42': No such device or address"
eperm42="OPEN cat: can't open '/dev/vfio/42': Operation not permitted"
eperm43="OPEN cat: can't open '/dev/vfio/43': Operation not permitted"

ok "inject-probe (built with the libraries) is in place" build_probe

for where in v1 v2; do
	if [ "$where" = v2 ] && ! in_cgroup2_ns true 2>/dev/null; then
		skip "$where: cgroup2-only mount namespace" "cannot mount cgroup2 at /sys/fs/cgroup in a private namespace"
		continue
	fi
	log=$T/$where.log
	out=$(run_container "$where" "$where-allow" \
		"$(hook --no-cgroup "/dev/vfio/43:$major:1")" "$(hook --log "$log" "/dev/vfio/42:$major:0")")
	check "$where: the hook took the $where device cgroup path" "$where" "$(cut -c1-2 "$log" 2>/dev/null)"
	if [ "$where" = v2 ]; then
		check "v2: runc's one device program was replaced" "v2 programs=1" "$(cut -d' ' -f1-2 "$log" 2>/dev/null)"
	else
		check "v1: one devices.allow rule written" "v1 rules=1" "$(cut -d' ' -f1-2 "$log" 2>/dev/null)"
	fi
	check "$where: the node is a char device $major:0, mode 0666" "crw-rw-rw- $major, 0" \
		"$(printf '%s\n' "$out" | awk '/^LS/ {print $2, $6, $7}')"
	check "$where: open() of the granted node gives ENXIO, not EPERM" "$enxio" "$(printf '%s\n' "$out" | grep "^OPEN.*/42")"
	check "$where: a node made but not granted stays EPERM" "$eperm43" "$(printf '%s\n' "$out" | grep "^OPEN.*/43")"
	check "$where: runc's own rules still hold (/dev/null opens)" "NULL ok" "$(printf '%s\n' "$out" | grep '^NULL')"
	[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'

	out=$(run_container "$where" "$where-nocg" "$(hook --no-cgroup "/dev/vfio/42:$major:0")")
	check "$where: with --no-cgroup the node is there but EPERM" "$eperm42" "$(printf '%s\n' "$out" | grep "^OPEN.*/42")"
	out=$(run_container "$where" "$where-fail" "$(hook "/dev/vfio/../42:$major:0")")
	check "$where: a refused node fails the container with the hook's one-line reason" 1 \
		"$(printf '%s\n' "$out" | grep -c "inject-probe: device node path /dev/vfio/../42: empty, . or .. component")"
	check "$where: the failed container did not start" 0 "$(printf '%s\n' "$out" | grep -c '^OPEN')"
	check "$where: containers and their cgroups are gone after the run" "" \
		"$(ls -d /sys/fs/cgroup/unified/vgpu-cg2-* /sys/fs/cgroup/devices/vgpu-cg2-* 2>/dev/null)"
done
finish
