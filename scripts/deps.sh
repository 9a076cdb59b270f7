# scripts/deps.sh — install what is missing on Debian 12 (as root); sourced.
# deps_install PKG...: apt-get install only the packages not yet installed.
deps_install() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
BUILD_DEPS=(gcc meson ninja-build pkg-config libjson-c-dev uuid-dev libseccomp-dev libfuse3-dev fuse3 libcmocka-dev
	libgrpc-dev libprotobuf-c-dev protobuf-c-compiler)
RUNTIME_DEPS=(runc crun podman busybox-static python3 mdevctl uuid-runtime util-linux iproute2
	python3-grpcio python3-protobuf protobuf-compiler protobuf-compiler-grpc python3-yaml)
# The engines suite (tests/engines): dockerd 20.10 and containerd 1.6 with vgpu-runtime.
ENGINE_DEPS=(docker.io containerd)
FUZZ_DEPS=(clang libclang-rt-14-dev clang-format)
# libvirt's validator and xmllint (libvirt-xml), man pages and completion,
# the .deb built on a fresh clone and the RPM spec (tests/package)
PACKAGE_DEPS=(libvirt-clients libxml2-utils scdoc bash-completion man-db git dpkg-dev debhelper rpm)
