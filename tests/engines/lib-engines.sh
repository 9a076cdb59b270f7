# tests/engines/lib-engines.sh — Debian's dockerd 20.10 and containerd 1.6,
# started for one test on private roots and always stopped.  Needs lib.sh
# sourced first, and root.
#
#   engines_enter "$@"   first thing in a test: skips the test (with the
#                        reason) when an engine is not installed, else re-runs
#                        the script in a private mount namespace with a tmpfs
#                        on /run (containerd puts its shims' sockets under
#                        /run/containerd/s and ctr's runc state under
#                        /run/containerd/runc whatever its config says), makes
#                        $ENG and sets the EXIT trap that stops everything
#   containerd_start [ENV ARGS...]
#                        containerd on $ENG (no CRI plugin), run through
#                        env(1) with ENV ARGS (-u NAME, NAME=VALUE): its
#                        environment is what reaches the runtimes it starts
#                        (shared/facts/kubernetes.md)
#   dockerd_start FILE   dockerd with daemon.json FILE on that containerd; the
#                        roots, pidfile and socket flags are given here, so FILE
#                        must not set them
#   busybox_rootfs DIR   a busybox-static root filesystem
#   docker ARGS...       the docker CLI of this dockerd (never another on PATH)
#   ctr ARGS...          ctr on this containerd, namespace $CTR_NS
#
# Containers get cgroups under $ENG_CGROUP (docker: daemon.json cgroup-parent;
# ctr: its namespace), removed at the end with everything under $ENG.
DOCKERD=/usr/sbin/dockerd
DOCKER_CLI=/usr/bin/docker
CONTAINERD=/usr/bin/containerd
CTR=/usr/bin/ctr
VGPU_RUNTIME=$BUILD/oci-hook/vgpu-runtime
ENG_CGROUP=vgpu-engines-$$
CTR_NS=$ENG_CGROUP
_eng_pids=()

engines_enter() {
	local p
	for p in "$DOCKERD" "$DOCKER_CLI" "$CONTAINERD" "$CTR"; do
		if [ ! -x "$p" ]; then
			echo "1..0 # SKIP $p is not installed (Debian: apt-get install docker.io containerd; scripts/deps.sh)"
			exit 0
		fi
	done
	if [ -z "${ENG_IN_NS:-}" ]; then
		ENG_IN_NS=1 exec unshare -m --propagation private bash "$0" "$@"
	fi
	mount -t tmpfs -o mode=0755 vgpu-engines /run || exit 1
	ENG=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-engines.XXXXXX")
	export DOCKER_CONFIG=$ENG/docker-cli
	trap engines_stop EXIT
}

docker() { "$DOCKER_CLI" -H "unix://$ENG/docker.sock" "$@"; }
ctr() { "$CTR" --address "$ENG/containerd.sock" -n "$CTR_NS" "$@"; }

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

containerd_start() {
	mkdir -p "$ENG/containerd"
	cat >"$ENG/containerd.toml" <<EOF
version = 2
root = "$ENG/containerd/root"
state = "$ENG/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$ENG/containerd.sock"
[ttrpc]
  address = "$ENG/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$ENG/containerd/opt"
EOF
	env "$@" "$CONTAINERD" --config "$ENG/containerd.toml" >"$ENG/containerd.log" 2>&1 &
	_eng_pids+=($!)
	if ! wait_for 20 ctr version; then
		echo "# containerd did not come up:"
		sed 's/^/#   /' "$ENG/containerd.log" | tail -20
		return 1
	fi
}

dockerd_start() {
	"$DOCKERD" --config-file "$1" --containerd "$ENG/containerd.sock" --data-root "$ENG/docker" \
		--exec-root "$ENG/docker-exec" --pidfile "$ENG/docker.pid" --host "unix://$ENG/docker.sock" \
		>"$ENG/dockerd.log" 2>&1 &
	_eng_pids+=($!)
	if ! wait_for 60 docker version; then
		echo "# dockerd did not come up:"
		sed 's/^/#   /' "$ENG/dockerd.log" | tail -20
		return 1
	fi
}

busybox_rootfs() {
	local c
	mkdir -p "$1/bin" "$1/dev" "$1/proc" "$1/sys" "$1/tmp" "$1/etc"
	cp /bin/busybox "$1/bin/busybox"
	for c in sh ls cat stat env echo sleep head grep true; do ln -sf busybox "$1/bin/$c"; done
}

# Stop what is running, whatever state the test left: containers first (so
# their shims exit and poststop runs), then dockerd and containerd; a shim
# an engine lost track of still carries $ENG in its command line.
engines_stop() {
	local status=$? p i d
	trap - EXIT
	if [ -S "$ENG/docker.sock" ]; then
		for c in $(docker ps -aq 2>/dev/null); do docker rm -f "$c" >/dev/null 2>&1; done
	fi
	if [ -S "$ENG/containerd.sock" ]; then
		for c in $(ctr task ls -q 2>/dev/null); do ctr task kill -s KILL "$c" >/dev/null 2>&1; done
		for c in $(ctr task ls -q 2>/dev/null); do wait_for 5 ctr task delete "$c"; done
		for c in $(ctr container ls -q 2>/dev/null); do ctr container delete "$c" >/dev/null 2>&1; done
	fi
	for ((i = ${#_eng_pids[@]} - 1; i >= 0; i--)); do
		p=${_eng_pids[$i]}
		kill -TERM "$p" 2>/dev/null || continue
		wait_for 20 sh -c "! kill -0 $p" || kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$ENG/"; then kill -KILL "${p#/proc/}" 2>/dev/null; fi
	done
	for d in /sys/fs/cgroup/*/"$ENG_CGROUP" /sys/fs/cgroup/"$ENG_CGROUP"; do
		[ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf --one-file-system "$ENG"
	exit "$status"
}
