#!/bin/bash
# containerd 1.6 (Debian's) with vgpu-runtime on the simulator, the
# non-CRI way: `ctr run --runc-binary vgpu-runtime --env INTEL_VGPU=auto`
# gets the group node (ENXIO, not EPERM) and an allocation bound to its pid;
# the vGPU stays while the task is stopped and `ctr task delete` releases it.
# The roots reach the shim through containerd's environment (the only one a
# runtime inherits) and from it the hooks it adds.  `vgpu-runtime configure
# containerd` prints a runtime handler containerd reads as written.
# Run as: tests/sim/with-sim tests/engines/test-ctr.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-engines.sh"
engines_enter "$@"
export VGPU_STATE_DIR=$ENG/state

# Only the hook's path in the file; the roots come from the environment.
echo "{ \"hook\": \"$VGPU_HOOK\" }" >"$ENG/vgpu-runtime.json"
containerd_start VGPU_RUNTIME_CONFIG="$ENG/vgpu-runtime.json"
check "containerd starts (the roots in its environment, not in the shim's file)" 0 $?
busybox_rootfs "$ENG/rootfs"

# the simulator's driverless group major, from a throwaway mdev
major=$("$VGPUCTL" allocate --owner probe-major --type auto --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["mdevs"][0]["group_dev"].split(":")[0])')
"$VGPUCTL" release --owner probe-major
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n $(stat -c %t:%T $n)"; cat $n 2>&1 | sed "s/^/OPEN /"; esac; done'
hex2dec() { python3 -c 'import sys; a,b=sys.argv[1].split(":"); print(f"{int(a,16)}:{int(b,16)}")' "$1"; }
field() {
	"$VGPUCTL" list --json | python3 -c 'import json,sys; print(" ".join(str(m[sys.argv[2]]) for m in json.load(sys.stdin) if m.get("owner") == sys.argv[1]))' "$1" "$2"
}
ctr_run() { ctr run --rootfs --runc-binary "$VGPU_RUNTIME" --env PATH=/bin "$@"; }

# --- in the foreground, removed at its end
out=$(ctr_run --rm --env INTEL_VGPU=auto "$ENG/rootfs" t-fg sh -c "$probe" 2>&1)
node=$(printf '%s\n' "$out" | awk '/^NODE/ {print $2; exit}')
check "ctr run: one group node in the container" 1 "$(printf '%s\n' "$out" | grep -c '^NODE')"
check "ctr run: the node carries the group's major:minor" "$major:${node##*/}" \
	"$(hex2dec "$(printf '%s\n' "$out" | awk '/^NODE/ {print $3; exit}')")"
check "ctr run: open() gives ENXIO, not EPERM" "OPEN cat: can't open '$node': No such device or address" \
	"$(printf '%s\n' "$out" | grep '^OPEN')"
check "ctr run --rm: nothing left" "0 0" "$(mdev_count) $(ledger_count)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   container: /'

# --- detached: the vGPU lives as long as the task
ctr_run -d --env INTEL_VGPU=auto "$ENG/rootfs" t-bg sleep 600 >/dev/null
check "ctr run -d starts" 0 $?
pid=$(ctr task ls | awk '$1 == "t-bg" {print $2}')
check "the allocation is bound to the task's pid" "running $pid" "$([ -n "$pid" ] && echo running) $(field t-bg pid)"
out=$(ctr task exec --exec-id probe t-bg sh -c "$probe" 2>&1)
check "ctr task exec (passed straight to runc) sees the node" 1 \
	"$(printf '%s\n' "$out" | grep -c "^OPEN .*No such device or address")"
ctr task kill -s KILL t-bg
wait_for 10 sh -c "\"$CTR\" --address \"$ENG/containerd.sock\" -n \"$CTR_NS\" task ls | grep -q 't-bg.*STOPPED'"
check "a stopped task keeps its vGPU" "1 1" "$(mdev_count) $(ledger_count)"
ctr task delete t-bg >/dev/null 2>&1
check "ctr task delete releases it" "0 0" "$(mdev_count) $(ledger_count)"
ctr container delete t-bg

# --- no request, and a type with no instance left: the shim's line
ctr_run --rm "$ENG/rootfs" t-none sh -c 'ls /dev/vfio 2>&1' >"$ENG/none.out" 2>&1
check "no request: no node, nothing allocated" "ls: /dev/vfio: No such file or directory|0 0" \
	"$(cat "$ENG/none.out")|$(mdev_count) $(ledger_count)"
"$VGPUCTL" allocate --owner hog --type i915-GVTg_V5_1 >/dev/null
out=$(ctr_run --rm --env INTEL_VGPU=i915-GVTg_V5_1 "$ENG/rootfs" t-full true 2>&1)
check "no instance left: ctr shows the shim's line" 1 \
	"$(printf '%s\n' "$out" | grep -c 'vgpu-runtime: no instance of i915-GVTg_V5_1 left on 0000:00:02.0')"
"$VGPUCTL" release --owner hog
check "and nothing is left" "0 0" "$(mdev_count) $(ledger_count)"

# --- configure containerd: the handler as containerd reads it
"$VGPU_RUNTIME" configure containerd --path /usr/bin/vgpu-runtime >"$ENG/snippet" 2>&1
check "configure containerd exits 0" 0 $?
sed -n '/^#/d; /^\[/,/^$/p' "$ENG/snippet" >"$ENG/handler.toml"
printf 'version = 2\n' | cat - "$ENG/handler.toml" >"$ENG/cri.toml"
dump=$("$CONTAINERD" --config "$ENG/cri.toml" config dump 2>&1)
check "containerd reads the handler: runc v2 with BinaryName vgpu-runtime" \
	'runtime_type = "io.containerd.runc.v2"|BinaryName = "/usr/bin/vgpu-runtime"' \
	"$(printf '%s\n' "$dump" | sed -n '/runtimes.vgpu\]/,/^$/p' | grep -o 'runtime_type = .*')|$(printf '%s\n' "$dump" | grep -o 'BinaryName = .*')"
check "the RuntimeClass names the handler" "handler: vgpu" "$(grep '^handler:' "$ENG/snippet")"

[ "$_failed" = 0 ] || sed 's/^/#   containerd: /' "$ENG/containerd.log" | tail -30
finish
