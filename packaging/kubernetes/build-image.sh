#!/bin/bash
# build-image.sh — the container image of vgpu-device-plugin, built offline:
# `podman build` FROM scratch with the binary and exactly the shared
# libraries it loads (the dynamic loader's list, `ldd`), nothing else: no
# shell, no package manager, no registry pull.
#
#   packaging/kubernetes/build-image.sh [--binary PATH] [--tag TAG] [-- PODMAN-OPTIONS...]
#
# PATH defaults to build/plugin/kubelet/vgpu-device-plugin, TAG to
# localhost/vgpu-device-plugin:<its --version>, the name the DaemonSet in
# this directory runs.  PODMAN-OPTIONS go before `build` (--root, --runroot,
# --storage-driver: the tests build into private storage).  Prints the tag.
# Load the image on each node (`podman save | ctr -n k8s.io images import -`)
# or push it to the cluster's registry.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
binary=$here/../../build/plugin/kubelet/vgpu-device-plugin
tag=
while [ $# -gt 0 ]; do
	case $1 in
	--binary) binary=$2; shift 2 ;;
	--tag) tag=$2; shift 2 ;;
	--) shift; break ;;
	*) echo "build-image.sh: unknown argument \"$1\" (see the comment at its top)" >&2; exit 2 ;;
	esac
done
[ -x "$binary" ] || { echo "build-image.sh: $binary is not built" >&2; exit 1; }
version=$("$binary" --version | awk '{print $2}')
tag=${tag:-localhost/vgpu-device-plugin:$version}

ctx=$(mktemp -d /tmp/vgpu-device-plugin-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
mkdir -p "$ctx/rootfs/usr/bin"
cp "$binary" "$ctx/rootfs/usr/bin/vgpu-device-plugin"
# "libx.so.N => /lib/.../libx.so.N (0x...)" and the loader "/lib64/ld-linux-x86-64.so.2 (0x...)":
# each copied, symlinks followed, to the path the loader looks it up at.
ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u >"$ctx/libs"
grep -q . "$ctx/libs" || { echo "build-image.sh: ldd found no libraries in $binary" >&2; exit 1; }
while read -r lib; do
	mkdir -p "$ctx/rootfs$(dirname "$lib")"
	cp -L "$lib" "$ctx/rootfs$lib"
done <"$ctx/libs"
cat >"$ctx/Containerfile" <<CF
FROM scratch
COPY rootfs/ /
LABEL org.opencontainers.image.title="vgpu-device-plugin" org.opencontainers.image.version="$version"
ENTRYPOINT ["/usr/bin/vgpu-device-plugin"]
CF
podman "$@" build --quiet --network none --pull=never --tag "$tag" --file "$ctx/Containerfile" "$ctx" >/dev/null
echo "$tag"
