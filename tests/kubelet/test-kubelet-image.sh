#!/bin/bash
# packaging/kubernetes/build-image.sh builds the plugin's image offline
# (podman 4.3.1, private storage, no network): FROM scratch, the binary and
# exactly the libraries ldd lists; `podman run IMAGE --help` prints the
# plugin's usage; and run as the DaemonSet runs it (its directories bind
# mounted, here the simulator's) it registers with the fake kubelet and
# offers the GPU, then stops cleanly on `podman stop`.  Prints the size.
# Run as: tests/sim/with-sim tests/kubelet/test-kubelet-image.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
command -v podman >/dev/null || {
	echo "Bail out! podman is not installed (scripts/deps.sh)"
	exit 1
}
kb_setup
P=$KB_T/podman
pm() { podman --root "$P/root" --runroot "$P/run" --tmpdir "$P/tmp" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"; }
# as tests/cdi/lib-cdi.sh runs podman here: limits the host's hard limits allow
RUN_OPTS=(--net none --ulimit nofile=20000:20000 --ulimit nproc=32768:32768)
pm_stop_all() {
	pm rm -af -t 0 >/dev/null 2>&1
	umount -R "$P/root" "$P/run" 2>/dev/null
}
KB_AT_EXIT+=(pm_stop_all)
TAG=localhost/vgpu-device-plugin:test-$$

tag=$("$REPO/packaging/kubernetes/build-image.sh" --binary "$VGPU_DEVICE_PLUGIN" --tag "$TAG" -- \
	--root "$P/root" --runroot "$P/run" --tmpdir "$P/tmp" --storage-driver vfs 2>"$KB_T/build.err")
check "build-image.sh builds offline and prints the tag" "0 $TAG" "$? $tag"
[ "$_failed" = 0 ] || sed 's/^/#   build: /' "$KB_T/build.err"
size=$(pm image inspect --format '{{.Size}}' "$TAG")
echo "# image size: $size bytes ($((size / 1024 / 1024)) MiB)"

out=$(pm run --rm "${RUN_OPTS[@]}" "$TAG" --help 2>&1)
check "podman run of the image prints the plugin's --help" "Usage: vgpu-device-plugin [OPTIONS]" "$(printf '%s\n' "$out" | head -1)"
cid=$(pm create "$TAG")
pm export "$cid" | tar -t | grep -v '/$' | sed 's|^|/|' | sort >"$KB_T/files"
pm rm "$cid" >/dev/null
want=$( (echo /usr/bin/vgpu-device-plugin
	ldd "$VGPU_DEVICE_PLUGIN" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }') | sort -u)
check "the image holds the binary and exactly the libraries it loads" "$want" \
	"$(grep -vE '^/(etc/(hosts|hostname|resolv.conf)|run/.containerenv)$' "$KB_T/files")"

# --- run as the DaemonSet runs it
kubelet_start
mkdir -p "$VGPU_STATE_DIR"
cid=$(pm run -d "${RUN_OPTS[@]}" --name "kb-image-$$" \
	-v "$PLUGIN_DIR:$PLUGIN_DIR" -v "$VGPU_SYSFS_ROOT:$VGPU_SYSFS_ROOT" -v "$VGPU_STATE_DIR:$VGPU_STATE_DIR" \
	"$TAG" --plugin-dir "$PLUGIN_DIR" --sysfs-root "$VGPU_SYSFS_ROOT" --state-dir "$VGPU_STATE_DIR" 2>&1)
check "the image runs the plugin" 0 "$?"
wait_for 20 kcount_above list 0
check "from its container it registers with the kubelet" "1 intel.com/vgpu" "$(kcount register) $(klast register resource)"
check "and offers the GPU (vgpuctl types)" "$(dynamic_expected i915-GVTg_V5_4)" "$(last_list)"
pm stop -t 10 "$cid" >/dev/null
check "podman stop: SIGTERM, exit 0, its socket gone" "0 gone" \
	"$(pm inspect --format '{{.State.ExitCode}}' "$cid") $([ -e "$SOCK" ] || echo gone)"
pm logs "$cid" >"$PLOG" 2>&1
check "its log: one line per event, ending with the stop" "vgpu-device-plugin: stopping on Terminated" "$(tail -1 "$PLOG")"
pm rmi -f "$TAG" >/dev/null 2>&1
finish
