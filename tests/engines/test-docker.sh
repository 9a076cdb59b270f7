#!/bin/bash
# docker.io 20.10 (Debian's dockerd, on its own containerd 1.6) with
# vgpu-runtime on the simulator.  `vgpu-runtime configure docker` adds the
# runtime to a daemon.json with other settings, keeps them, and dockerd
# starts with it; `docker run --runtime vgpu -e INTEL_VGPU=auto` gets the
# allocated group's node (ENXIO on open, not EPERM), the env and an
# allocation bound to its pid, and `docker rm` releases it; a container that
# asks for nothing reaches runc with containerd's config.json byte for byte;
# a missing command leaves nothing; 8 containers at once for a type with 7
# instances: 7 get one, the 8th fails with the shim's line in docker's
# output, and nothing is left.
# Run as: tests/sim/with-sim tests/engines/test-docker.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-engines.sh"
engines_enter "$@"
export VGPU_STATE_DIR=$ENG/state
IMAGE=vgpu-busybox

# The shim's config file names the roots: dockerd's environment never reaches
# a runtime, and containerd's is kept free of them here.
cat >"$ENG/vgpu-runtime.json" <<EOF
{ "hook": "$VGPU_HOOK",
  "roots": { "sysfs": "$VGPU_SYSFS_ROOT", "dev": "$VGPU_DEV_ROOT", "state": "$VGPU_STATE_DIR" } }
EOF
# "probe": keeps what containerd wrote, then runs the shim (the byte-for-byte check).
cat >"$ENG/probe-runtime" <<EOF
#!/bin/sh
prev=
for a; do [ "\$prev" = --bundle ] && cp "\$a/config.json" "$ENG/before-\${a##*/}.json"; prev=\$a; done
exec $VGPU_RUNTIME "\$@"
EOF
chmod +x "$ENG/probe-runtime"
cat >"$ENG/daemon.json" <<EOF
{
  "storage-driver": "vfs",
  "bridge": "none",
  "iptables": false,
  "ip-masq": false,
  "deprecated-key-path": "$ENG/key.json",
  "cgroup-parent": "/$ENG_CGROUP",
  "labels": ["vgpu-test=kept"],
  "runtimes": { "probe": { "path": "$ENG/probe-runtime" } }
}
EOF
cp "$ENG/daemon.json" "$ENG/daemon.json.orig"

# --- configure docker
out=$("$VGPU_RUNTIME" configure docker --config "$ENG/daemon.json" --dry-run)
check "configure --dry-run writes nothing" "" "$(cmp "$ENG/daemon.json" "$ENG/daemon.json.orig" 2>&1; ls "$ENG/daemon.json.bak" 2>/dev/null)"
"$VGPU_RUNTIME" configure docker --config "$ENG/daemon.json" >"$ENG/configure.out" 2>&1
check "configure docker exits 0" 0 $?
check "configure prints what --dry-run printed" "$out" "$(cat "$ENG/daemon.json")"
check "the old daemon.json is kept as daemon.json.bak" "" "$(cmp "$ENG/daemon.json.bak" "$ENG/daemon.json.orig" 2>&1)"
kept=$(python3 - "$ENG/daemon.json.orig" "$ENG/daemon.json" "$(realpath "$VGPU_RUNTIME")" <<'PY'
import json, sys
old, new, shim = (json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3])
bad = [k for k in old if k != "runtimes" and new.get(k) != old[k]]
bad += [] if new["runtimes"].get("probe") == old["runtimes"]["probe"] else ["runtimes.probe"]
bad += [] if new["runtimes"].get("vgpu") == {"path": shim} else ["runtimes.vgpu"]
bad += [k for k in new if k not in old]
print(" ".join(bad) or "all kept")
PY
)
check "configure keeps every other setting and adds runtimes.vgpu" "all kept" "$kept"

# Roots through the config file only: containerd's environment (the one a
# runtime inherits) is kept free of them.
containerd_start -u VGPU_SYSFS_ROOT -u VGPU_DEV_ROOT -u VGPU_STATE_DIR VGPU_RUNTIME_CONFIG="$ENG/vgpu-runtime.json" &&
	dockerd_start "$ENG/daemon.json"
check "dockerd starts with the configured daemon.json" 0 $?
check "docker info lists runtime vgpu and the kept label" "vgpu-runtime vgpu-test=kept" \
	"$(docker info --format '{{range $k, $v := .Runtimes}}{{if eq $k "vgpu"}}{{$v.Path}}{{end}}{{end}} {{join .Labels ","}}' | sed 's|^[^ ]*/||')"
busybox_rootfs "$ENG/rootfs"
tar -C "$ENG/rootfs" -c . | docker import - "$IMAGE" >/dev/null
check "busybox image imported" 0 $?

# The container reports what it sees, one fact a line.
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) echo "NODE $n $(stat -c %t:%T $n)"; cat $n 2>&1 | sed "s/^/OPEN /"; esac; done'
hex2dec() { python3 -c 'import sys; a,b=sys.argv[1].split(":"); print(f"{int(a,16)}:{int(b,16)}")' "$1"; }
# field OWNER KEY: KEY of OWNER's allocation in `vgpuctl list --json`
field() {
	"$VGPUCTL" list --json | python3 -c 'import json,sys; print(" ".join(str(m[sys.argv[2]]) for m in json.load(sys.stdin) if m.get("owner") == sys.argv[1]))' "$1" "$2"
}
run() { docker run --network none "$@"; }

# --- a container that asks: nodes, ENXIO, env, pid, release on docker rm
cid=$(run -d --runtime vgpu -e INTEL_VGPU=auto "$IMAGE" sleep 600)
check "docker run --runtime vgpu -e INTEL_VGPU=auto starts" 0 $?
out=$(docker exec "$cid" sh -c "$probe" 2>&1)
node=$(printf '%s\n' "$out" | awk '/^NODE/ {print $2; exit}')
check "one group node in the container, the allocated group's" "/dev/vfio/$(field "$cid" iommu_group)" "$node"
check "the node carries the group's major:minor" "$(field "$cid" group_dev)" \
	"$(hex2dec "$(printf '%s\n' "$out" | awk '/^NODE/ {print $3; exit}')")"
check "open() of the group node gives ENXIO, not EPERM" "OPEN cat: can't open '$node': No such device or address" \
	"$(printf '%s\n' "$out" | grep '^OPEN')"
pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
# docker exec takes Docker's env, not config.json's: the container's own process has it
check "VGPU_MDEV_UUID in the container's env names its mdev" "VGPU_MDEV_UUID=$(field "$cid" uuid)" \
	"$(tr '\0' '\n' <"/proc/$pid/environ" | grep '^VGPU_MDEV_UUID=')"
check "the allocation is bound to the container's pid" "running $pid" "$([ "$pid" -gt 0 ] && echo running) $(field "$cid" pid)"
check "daemon.json's cgroup-parent holds" 1 "$(grep -c "/$ENG_CGROUP/$cid" "/proc/$pid/cgroup" | awk '{print ($1 > 0)}')"
docker rm -f "$cid" >/dev/null
check "docker rm releases: no mdev, no ledger record" "0 0" "$(mdev_count) $(ledger_count)"

out=$(run --rm --runtime vgpu -e INTEL_VGPU=auto "$IMAGE" sh -c "$probe" 2>&1)
check "a container run to its end saw its node" 1 "$(printf '%s\n' "$out" | grep -c '^OPEN .*No such device or address')"
check "its end released the mdev" "0 0" "$(mdev_count) $(ledger_count)"

# --- no request: containerd's config.json reaches runc byte for byte
bundle_of() { echo "$ENG/containerd/state/io.containerd.runtime.v2.task/moby/$1/config.json"; }
cid=$(run -d --runtime probe "$IMAGE" sleep 600)
check "no request: config.json untouched, byte for byte" "" "$(cmp "$ENG/before-$cid.json" "$(bundle_of "$cid")" 2>&1)"
check "no request: nothing allocated" "0 0" "$(mdev_count) $(ledger_count)"
docker rm -f "$cid" >/dev/null
cid=$(run -d --runtime probe -e INTEL_VGPU=auto "$IMAGE" sleep 600)
check "with a request the same probe sees the edit (hooks added)" 1 \
	"$(python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); print(len(c["hooks"]["poststop"]))' "$(bundle_of "$cid")")"
docker rm -f "$cid" >/dev/null
check "and docker rm releases it" "0 0" "$(mdev_count) $(ledger_count)"

# --- a missing command: runc's create fails after the shim allocated
out=$(run --runtime vgpu -e INTEL_VGPU=auto "$IMAGE" /no/such/command 2>&1)
check "missing command: docker shows runc's error" 1 "$(printf '%s\n' "$out" | grep -c 'no such file or directory')"
check "missing command: nothing left" "0 0" "$(mdev_count) $(ledger_count)"
for c in $(docker ps -aq); do docker rm -f "$c" >/dev/null; done

# --- 8 at once for a type with 7 instances
check "the simulator offers 7 of i915-GVTg_V5_8" 7 "$(avail i915-GVTg_V5_8)"
runs=()
for i in 1 2 3 4 5 6 7 8; do
	run -d --name "c8-$i" --runtime vgpu -e INTEL_VGPU=i915-GVTg_V5_8 "$IMAGE" sleep 600 >"$ENG/c8-$i.out" 2>&1 &
	runs+=($!)
done
wait "${runs[@]}"
check "7 of 8 started" 7 "$(docker ps -q | wc -l)"
check "7 mdevs made" "7 7" "$(mdev_count) $(ledger_count)"
failed=$(grep -l 'Error' "$ENG"/c8-*.out)
check "the 8th got the shim's line in docker's output" 1 \
	"$(cat $failed /dev/null | grep -c 'vgpu-runtime: no instance of i915-GVTg_V5_8 left on 0000:00:02.0')"
[ "$_failed" = 0 ] || sed "s/^/#   /" $failed /dev/null
for c in $(docker ps -aq); do docker rm -f "$c" >/dev/null; done
check "after docker rm -f of all: no mdev, no ledger record" "0 0" "$(mdev_count) $(ledger_count)"
check "and every instance is back" 7 "$(avail i915-GVTg_V5_8)"

[ "$_failed" = 0 ] || sed 's/^/#   dockerd: /' "$ENG/dockerd.log" | tail -30
finish
