#!/bin/bash
# Hostile containers: a rootfs whose /dev, /dev/vfio or /dev/vfio/<node> is
# a symlink out of the rootfs (in a real runc container and with the hook run
# directly on a state + bundle), container ids, annotations, env and bundle
# paths carrying "../", NUL bytes (\u0000), 10k strings, non-UTF-8 bytes and
# newlines, and a type that only another parent offers.  Each time: the hook
# exits 1 with one printable line naming the field and the value, no file
# outside the rootfs is created or touched (the symlinks' targets are
# snapshotted before and after), and nothing is left (0 mdevs, 0 records).
# Run as: tests/sim/with-sim tests/runtime/test-hostile.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-runtime.sh"
export VGPU_STATE_DIR=$(mktemp -d)
B=$(mktemp -d)        # bundle for the direct hook runs
T=$(mktemp -d)        # host directory the symlinks point at
RT_DIRS+=("$VGPU_STATE_DIR" "$B" "$T")
CPID=""
cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	rt_cleanup
}
trap cleanup EXIT
trap 'exit 143' TERM INT
start_stub
CPID=$STUB_PID
export B CPID VGPU_HOOK

# T holds what an escape would hit: a file, a dir, a char node with the
# numbers of /dev/vfio/vfio (so "it is already the right device" must not
# be concluded through a link).
echo precious > "$T/file"
mkdir "$T/vfio"
mknod "$T/vfio-node" c 10 196
snapshot() { find "$1" -printf '%P %y %m %s %i %T@ %C@ %l\n' | sort; }
SNAP=$(snapshot "$T")
untouched() { check "$1: nothing outside the rootfs created or touched" "$SNAP" "$(snapshot "$T")"; }
nothing_left() { check "$1: nothing left" "0 0" "$(mdev_count) $(ledger_count)"; }
state_dir_clean() {
	check "$1: the state dir holds only the lock and the ledger" "ledger lock" "$(ls "$VGPU_STATE_DIR" | xargs)"
}

reset_rootfs() {
	rm -rf "$B/rootfs"
	mkdir -p "$B/rootfs/dev"
}
reset_rootfs
cat > "$B/config.json" <<JSON
{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"linux":{}}
JSON
# state ID-JSON ANNOTATIONS-JSON [BUNDLE-JSON]: values are JSON text, so tests can put escapes in.
state() {
	printf '{"ociVersion":"1.0.2","id":%s,"status":"creating","pid":%d,"bundle":%s,"annotations":%s}' \
		"$1" "$CPID" "${3:-\"$B\"}" "$2"
}
hook() { "$VGPU_HOOK" --no-cgroup "$@"; }

# refused NAME ERE STDIN-TEXT [HOOK-ARGS...]: exit 1, one printable line of
# at most 600 bytes matching ERE, T untouched, nothing left.
refused() {
	local name=$1 re=$2 input=$3 err
	shift 3
	expect_fail "$name: one line naming it" "$re" hook "${@:-createRuntime}" < <(printf '%s' "$input")
	err=$(printf '%s' "$input" | hook "${@:-createRuntime}" 2>&1 >/dev/null)
	check "$name: the line is printable and short" ok \
		"$(printf '%s' "$err" | LC_ALL=C grep -q '[^[:print:]]' && echo "non-printable: $err" ||
			{ [ ${#err} -le 600 ] && echo ok || echo "${#err} bytes"; })"
	untouched "$name"
	nothing_left "$name"
}
AUTO='{"intel.com/vgpu":"auto"}'

# --- the rootfs links out of itself (direct hook: the runtime's /dev tmpfs is not there)
rm -rf "$B/rootfs/dev" && ln -s "$T" "$B/rootfs/dev"
refused "rootfs /dev -> host dir" '/dev under rootfs .*/rootfs is a symlink' "$(state '"h-dev"' "$AUTO")"
reset_rootfs
ln -s "$T/vfio" "$B/rootfs/dev/vfio"
refused "rootfs /dev/vfio -> host dir" '/dev/vfio under rootfs .*/rootfs is a symlink' "$(state '"h-vfio"' "$AUTO")"
reset_rootfs
ln -s .. "$B/rootfs/dev/vfio"
refused "rootfs /dev/vfio -> .." '/dev/vfio under rootfs .*/rootfs is a symlink' "$(state '"h-dotdot"' "$AUTO")"
reset_rootfs
mkdir "$B/rootfs/dev/vfio"
ln -s "$T/vfio-node" "$B/rootfs/dev/vfio/vfio"
refused "rootfs /dev/vfio/vfio -> host node with the right numbers" '/dev/vfio/vfio' "$(state '"h-node"' "$AUTO")"
reset_rootfs
mkdir "$B/rootfs/dev/vfio"
for g in 0 1 2 3; do ln -s "$T/file" "$B/rootfs/dev/vfio/$g"; done
refused "rootfs /dev/vfio/<group> -> host file" '/dev/vfio/[0-9]+' "$(state '"h-group"' "$AUTO")"
check "rootfs /dev/vfio/<group>: the host file still says precious" precious "$(cat "$T/file")"
reset_rootfs

# --- the same in a real runc container: runc mounts its /dev tmpfs through
# securejoin (inside the rootfs) but leaves the /dev link, and itself makes
# its /dev symlinks (fd, stdin, ...) through it.  The hook must add nothing
# there: the target looks the same as after a run without the hook.
runc_dev_link() { # ID HOOKED(0|1) TARGET
	local b
	b=$(mktemp -d)
	rt_track runc "$1" "$b"
	make_bundle "$b" sh -c 'ls /dev/vfio'
	rm -rf "$b/rootfs/dev" && ln -s "$3" "$b/rootfs/dev"
	bundle_edit "$b" "c.setdefault('annotations', {})['intel.com/vgpu'] = 'auto'; c['linux']['cgroupsPath'] = '/$1'"
	[ "$2" = 1 ] && add_hooks "$b" createRuntime
	(cd "$b" && runc run "$1" </dev/null 2>&1)
}
T1=$(mktemp -d) T2=$(mktemp -d)
RT_DIRS+=("$T1" "$T2")
runc_dev_link "h-runc-control-$$" 0 "$T1" >/dev/null
out=$(runc_dev_link "h-runc-$$" 1 "$T2")
check "runc, /dev -> host dir: the container fails on the hook's one line" 1 \
	"$(printf '%s\n' "$out" | grep -c 'stderr: vgpu-hook: directory /dev under rootfs .*/rootfs is a symlink: refusing to follow it\\n"$')"
names() { find "$1" -mindepth 1 -printf '%P %y %l\n' | sort; }
check "runc, /dev -> host dir: the hook added nothing to the target (runc's own links aside)" "$(names "$T1")" "$(names "$T2")"
check "runc, /dev -> host dir: no vfio node in the target" "" "$(find "$T2" -name 'vfio*' -o -type c)"
nothing_left "runc, /dev -> host dir"

# --- container ids
refused "id ../../../tmp/<x>" 'field "id" "\.\./\.\./\.\./tmp/hostile-[0-9]+" is not a valid container id' \
	"$(state "\"../../../tmp/hostile-$$\"" "$AUTO")"
check "id ../: no file at the traversal target" no "$([ -e "/tmp/hostile-$$" ] && echo yes || echo no)"
refused "id with a NUL" 'field "id".*NUL' "$(state '"ok\u0000/../../x"' "$AUTO")"
refused "id of 10k characters" 'field "id" "a{60,64}\.\.\." is not a valid container id' "$(state "\"$(printf 'a%.0s' $(seq 10000))\"" "$AUTO")"
refused "id with a newline" 'field "id" "a\\x0ab" is not a valid container id' "$(state '"a\nb"' "$AUTO")"
refused "id that is .." 'field "id" "\.\." is not a valid container id' "$(state '".."' "$AUTO")"
refused "id with non-UTF-8 bytes" '^vgpu-hook: OCI state is not valid JSON at byte [0-9]+' "$(state $'"a\xff\xfeb"' "$AUTO")"
refused "id as a number" 'field "id" must be a string' "$(state 42 "$AUTO")"

# --- annotations
refused "type annotation ../" 'annotation intel\.com/vgpu "\.\./\.\./\.\./etc/passwd"' \
	"$(state '"h-a1"' '{"intel.com/vgpu":"../../../etc/passwd"}')"
refused "type annotation with a NUL" 'annotation intel\.com/vgpu.*NUL' \
	"$(state '"h-a2"' '{"intel.com/vgpu":"i915-GVTg_V5_4\u0000../x"}')"
refused "type annotation of 10k" 'annotation intel\.com/vgpu "x{60,64}\.\.\."' \
	"$(state '"h-a3"' "{\"intel.com/vgpu\":\"$(printf 'x%.0s' $(seq 10000))\"}")"
refused "type annotation non-UTF-8" '^vgpu-hook: OCI state is not valid JSON at byte [0-9]+' \
	"$(state '"h-a4"' $'{"intel.com/vgpu":"i915-\xc3\x28"}')"
refused "type annotation as an object" 'annotation intel\.com/vgpu.*must be a string' \
	"$(state '"h-a5"' '{"intel.com/vgpu":{"type":"auto"}}')"
refused "parent annotation ../" 'annotation intel\.com/vgpu\.parent "\.\./\.\./\.\./\.\./tmp"' \
	"$(state '"h-a6"' '{"intel.com/vgpu":"auto","intel.com/vgpu.parent":"../../../../tmp"}')"
refused "parent annotation with a NUL" 'annotation intel\.com/vgpu\.parent.*NUL' \
	"$(state '"h-a7"' '{"intel.com/vgpu":"auto","intel.com/vgpu.parent":"0000:00:02.0\u0000/../x"}')"
refused "parent annotation of 10k" 'annotation intel\.com/vgpu\.parent "0{60,64}\.\.\."' \
	"$(state '"h-a8"' "{\"intel.com/vgpu\":\"auto\",\"intel.com/vgpu.parent\":\"$(printf '0%.0s' $(seq 10000))\"}")"
refused "min-resolution with a NUL" 'annotation intel\.com/vgpu\.min-resolution.*NUL' \
	"$(state '"h-a9"' '{"intel.com/vgpu":"auto","intel.com/vgpu.min-resolution":"1920x1200\u0000"}')"
refused "min-resolution overflow" 'annotation intel\.com/vgpu\.min-resolution "99999999999999999999x1"' \
	"$(state '"h-a10"' '{"intel.com/vgpu":"auto","intel.com/vgpu.min-resolution":"99999999999999999999x1"}')"
refused "annotations not an object" 'field "annotations" must be an object' "$(state '"h-a11"' '["intel.com/vgpu=auto"]')"

# --- env in config.json (the fallback request)
cp "$B/config.json" "$B/config.good"
bundle_edit "$B" "c['process']['env'].append('INTEL_VGPU=../../x')"
refused "env INTEL_VGPU=../" 'INTEL_VGPU "\.\./\.\./x"' "$(state '"h-e1"' '{}')"
cp "$B/config.good" "$B/config.json"
bundle_edit "$B" "c['process']['env'].append('INTEL_VGPU=' + 'y' * 10000)"
refused "env INTEL_VGPU of 10k" 'INTEL_VGPU "y{60,64}\.\.\."' "$(state '"h-e2"' '{}')"
cp "$B/config.good" "$B/config.json"
printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin","INTEL_VGPU=auto\\u0000../x"]},"linux":{}}' > "$B/config.json"
refused "env with a NUL" 'env.*NUL' "$(state '"h-e3"' '{}')"
cp "$B/config.good" "$B/config.json"
printf '{"ociVersion":"1.0.2","root":{"path":"../../../../tmp"},"process":{"args":["sh"]},"linux":{}}' > "$B/config.json"
refused "root.path with .." 'root.*path.*\.\.' "$(state '"h-e4"' "$AUTO")"
cp "$B/config.good" "$B/config.json"

# --- bundle paths
refused "bundle with .." 'bundle.*\.\.' "$(state '"h-b1"' "$AUTO" "\"$B/../../etc\"")"
refused "bundle with a NUL" 'bundle.*NUL' "$(state '"h-b2"' "$AUTO" "\"$B\\u0000/x\"")"
refused "bundle of 10k" 'bundle' "$(state '"h-b3"' "$AUTO" "\"/$(printf 'b%.0s' $(seq 10000))\"")"
refused "relative bundle" 'bundle.*absolute' "$(state '"h-b4"' "$AUTO" '"tmp/x"')"

# --- precreate: config.json on stdin, container id from linux.cgroupsPath
pc() { # CGROUPS-PATH-JSON ANNOTATIONS-JSON
	printf '{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"annotations":%s,"linux":{"cgroupsPath":%s}}' "$2" "$1"
}
refused "precreate: cgroupsPath id ../" 'linux\.cgroupsPath "machine\.slice:libpod:\.\./x" does not end in a container id' "$(pc '"machine.slice:libpod:../x"' "$AUTO")" precreate
refused "precreate: cgroupsPath with a NUL" 'cgroupsPath.*NUL' "$(pc '"/libpod_parent/libpod-a\u0000b"' "$AUTO")" precreate
refused "precreate: type annotation ../" 'annotation intel\.com/vgpu "\.\./x"' "$(pc '"/libpod_parent/libpod-pc1"' '{"intel.com/vgpu":"../x"}')" precreate
state_dir_clean "after every refusal"

# --- a type only another parent offers
TWO=$(mktemp)
RT_DIRS+=("$TWO")
cat > "$TWO" <<'CONF'
parent 0000:00:02.0 pci0000:00/0000:00:02.0
driver intel_vgpu_mdev
budget 640 2816 28
gvt-type i915-GVTg_V5_4 128 512 4 4 1920x1200
gvt-type i915-GVTg_V5_8 64 384 4 2 1024x768
parent 0000:03:00.0 pci0000:00/0000:00:1c.0/0000:03:00.0
driver intel_vgpu_mdev
budget 896 3840 32
gvt-type i915-GVTg_V5_1 512 2048 4 16 1920x1200
gvt-type i915-GVTg_V5_2 256 1024 4 8 1920x1200
CONF
# other_parent ANNOTATIONS-JSON: on a fresh simulator with that table, "rc|stderr|mdevs records";
# its own stand-in container ends before the poststop, as a runtime's does.
other_parent() {
	start_stub
	VGPU_SIM_CONFIG=$TWO "$REPO/tests/sim/with-sim" bash -c '
		export VGPU_STATE_DIR=$(mktemp -d)
		err=$(printf "{\"ociVersion\":\"1.0.2\",\"id\":\"h-p\",\"status\":\"creating\",\"pid\":%d,\"bundle\":\"%s\",\"annotations\":%s}" \
			"$2" "$B" "$1" | "$VGPU_HOOK" --no-cgroup createRuntime 2>&1 >/dev/null)
		rc=$?
		kill "$2"
		while ! grep -q ") Z " "/proc/$2/stat" 2>/dev/null && [ -e "/proc/$2" ]; do sleep 0.01; done
		[ $rc = 0 ] && printf "{\"ociVersion\":\"1.0.2\",\"id\":\"h-p\",\"status\":\"stopped\",\"bundle\":\"%s\"}" "$B" |
			"$VGPU_HOOK" poststop >/dev/null 2>&1
		echo "$rc|$err|$(ls "$VGPU_SYSFS_ROOT/bus/mdev/devices" | wc -l) $(ls "$VGPU_STATE_DIR/ledger" | wc -l)"
		rm -rf "$VGPU_STATE_DIR"' other "$1" "$STUB_PID"
	wait "$STUB_PID" 2>/dev/null
}
out=$(other_parent '{"intel.com/vgpu":"i915-GVTg_V5_2","intel.com/vgpu.parent":"0000:00:02.0"}')
check "type only on the other parent: exit 1" 1 "${out%%|*}"
err=${out#*|}
err=${err%|*}
check "type only on the other parent: one line naming type, parent and who has it" \
	"vgpu-hook: type i915-GVTg_V5_2 is not offered by parent 0000:00:02.0 (0000:03:00.0 offers it)" "$err"
check "type only on the other parent: nothing left" "0 0" "${out##*|}"
out=$(other_parent '{"intel.com/vgpu":"auto","intel.com/vgpu.parent":"0000:00:02.0","intel.com/vgpu.min-resolution":"2560x1600"}')
check "no type on that parent meets the resolution: refused, nothing left" "1|vgpu-hook: no mdev type on 0000:00:02.0 meets the minimum resolution 2560x1600|0 0" "$out"
out=$(other_parent '{"intel.com/vgpu":"i915-GVTg_V5_2"}')
check "the same type without a parent: given on the other parent, released" "0||0 0" "$out"
untouched "after all"
nothing_left "after all"
finish
