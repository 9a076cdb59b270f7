# host-lib.sh — host side of the VM tier, sourced by tests/vm/run (bash).
#
# Owns: installing the packages, finding the kernel to boot, building the sample mdev drivers
# (cached per kernel version), the static helpers, the project's binaries, the initramfs, and
# booting qemu under a deadline. Every step prints one `vm: ...` line with its time.
# Expects: $repo, $here, $BUILD, $CACHE, $work, VM_ADD (SRC:DEST pairs) set by the caller;
# set -euo pipefail.

vm_packages=(linux-image-amd64 linux-headers-amd64 linux-source qemu-system-x86 busybox-static
	crun mdevctl uuid-runtime jq gcc libc6-dev make xz-utils zstd cpio kmod)
# The project's own build (only needed when its binaries are missing or stale).
vm_build_packages=(meson ninja-build pkg-config libjson-c-dev uuid-dev libseccomp-dev
	libfuse3-dev libcmocka-dev)

vm_now() { date +%s.%N; }
vm_since() { awk -v a="$1" -v b="$(vm_now)" 'BEGIN { printf "%.1f", b - a }'; }

vm_missing_packages() {
	local p
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || echo "$p"
	done
}

vm_apt_install() {
	local t0 missing
	missing=$(vm_missing_packages "$@")
	if [ -z "$missing" ]; then
		echo "vm: packages present (${#@} checked)"
		return 0
	fi
	t0=$(vm_now)
	echo "vm: installing" $missing
	apt-get update -q >"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; return 1; }
	# shellcheck disable=SC2086 # one word a package
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing \
		>>"$work/apt.log" 2>&1 || { tail -20 "$work/apt.log" >&2; return 1; }
	echo "vm: installed $(echo $missing | wc -w) packages in $(vm_since "$t0") s"
}

vm_ensure_packages() { vm_apt_install "${vm_packages[@]}"; }

# KVER is the installed linux-image-amd64's, never uname -r: the host runs another kernel.
vm_find_kernel() {
	local dep src
	dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64)
	KVER=$(sed -n 's/.*linux-image-\([0-9][^ ,]*\).*/\1/p' <<<"$dep")
	[ -n "$KVER" ] || { echo "vm: cannot read the kernel version from linux-image-amd64 ($dep)" >&2; return 1; }
	KIMAGE_VERSION=$(dpkg-query -W -f='${Version}' "linux-image-$KVER")
	src=$(dpkg-query -W -f='${Depends}' linux-source | sed -n 's/.*\(linux-source-[0-9.]*\).*/\1/p')
	KSOURCE=/usr/src/$src.tar.xz
	KSOURCE_VERSION=$(dpkg-query -W -f='${Version}' "$src")
	KIMAGE=/boot/vmlinuz-$KVER
	local f
	for f in "$KIMAGE" "/lib/modules/$KVER/build/Makefile" "$KSOURCE"; do
		[ -e "$f" ] || { echo "vm: missing $f" >&2; return 1; }
	done
	[ "$KIMAGE_VERSION" = "$KSOURCE_VERSION" ] ||
		echo "vm: warning: linux-image $KIMAGE_VERSION but linux-source $KSOURCE_VERSION"
	echo "vm: kernel $KVER ($KIMAGE_VERSION), host runs $(uname -r)"
}

# Sample drivers from linux-source, cached under $CACHE/$KVER; the stamp names both package
# versions so an upgraded image or source package rebuilds.
vm_build_samples() {
	local dir=$CACHE/$KVER stamp t0 src
	stamp="image=$KIMAGE_VERSION source=$KSOURCE_VERSION"
	SAMPLES=$dir
	if [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && [ -f "$dir/mtty.ko" ]; then
		echo "vm: sample drivers cached in $dir"
		return 0
	fi
	t0=$(vm_now)
	src=$work/samples
	mkdir -p "$src" "$dir"
	tar -xJf "$KSOURCE" --strip-components=3 -C "$src" "$(basename "$KSOURCE" .tar.xz)/samples/vfio-mdev/"
	echo "vm: extracted samples/vfio-mdev in $(vm_since "$t0") s"
	make -C "/lib/modules/$KVER/build" M="$src" CONFIG_SAMPLE_VFIO_MDEV_MTTY=m \
		CONFIG_SAMPLE_VFIO_MDEV_MDPY=m CONFIG_SAMPLE_VFIO_MDEV_MDPY_FB=m \
		CONFIG_SAMPLE_VFIO_MDEV_MBOCHS=m -j"$(nproc)" modules >"$work/samples.log" 2>&1 ||
		{ tail -30 "$work/samples.log" >&2; return 1; }
	cp "$src"/mtty.ko "$src"/mdpy.ko "$src"/mbochs.ko "$dir/"
	echo "$stamp" >"$dir/stamp"
	echo "vm: built mtty mdpy mbochs for $KVER in $(vm_since "$t0") s"
}

vm_build_helpers() {
	local out=$1 f
	mkdir -p "$out"
	for f in vfio-probe vmtime; do
		gcc -std=c11 -O2 -Wall -Wextra -Werror -static -o "$out/$f" "$here/$f.c"
	done
	HELPERS=$out
}

# The project's binaries, built with meson when a build dir or meson.build exists. A failed
# build is not fatal here: the guest checks that need a missing binary fail on their own.
vm_build_project() {
	local t0 wipe
	t0=$(vm_now)
	if [ ! -f "$BUILD/build.ninja" ]; then
		[ -f "$repo/meson.build" ] || { echo "vm: no meson.build in $repo: project binaries not built"; return 0; }
		vm_apt_install "${vm_build_packages[@]}"
		# A setup that failed before leaves meson-private/ but no build.ninja: start over.
		wipe=
		[ -d "$BUILD/meson-private" ] && wipe=--wipe
		meson setup $wipe "$BUILD" "$repo" >"$work/meson.log" 2>&1 ||
			{ echo "vm: meson setup failed:"; tail -15 "$work/meson.log"; return 0; }
	fi
	if meson compile -C "$BUILD" >>"$work/meson.log" 2>&1; then
		echo "vm: project built in $BUILD in $(vm_since "$t0") s"
	else
		echo "vm: meson compile failed (checks needing the binaries will fail):"
		tail -15 "$work/meson.log"
	fi
}

# Copy an executable and the shared libraries ldd names to the same paths under $stage.
vm_copy_exe() {
	local stage=$1 src=$2 dst=${3:-$2} lib
	mkdir -p "$stage$(dirname "$dst")"
	cp -L "$src" "$stage$dst"
	for lib in $(ldd "$src" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done
}

# Modules and their dependencies in load order, uncompressed (insmod takes no .xz/.zst).
vm_copy_modules() {
	local stage=$1 m ko name
	mkdir -p "$stage/lib/modules/vm"
	: >"$stage/vm/modules.order"
	for ko in $(for m in vfio vfio_iommu_type1 mdev nvme vfio_pci; do
		modprobe -S "$KVER" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
	done); do
		name=$(basename "$ko")
		name=${name%.xz}
		name=${name%.zst}
		grep -qx "$name" "$stage/vm/modules.order" && continue
		case $ko in
		*.xz) xz -dc "$ko" >"$stage/lib/modules/vm/$name" ;;
		*.zst) zstd -qdc "$ko" >"$stage/lib/modules/vm/$name" ;;
		*) cp "$ko" "$stage/lib/modules/vm/$name" ;;
		esac
		echo "$name" >>"$stage/vm/modules.order"
	done
	for m in mtty mdpy mbochs; do
		cp "$SAMPLES/$m.ko" "$stage/lib/modules/vm/"
		echo "$m.ko" >>"$stage/vm/modules.order"
	done
}

vm_make_initramfs() {
	local stage=$1 out=$2 guest_script=$3 t0 a b
	t0=$(vm_now)
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib64,proc,sys,dev,run,tmp,root,vm,etc/mdevctl.d/scripts.d/callouts,etc/mdevctl.d/scripts.d/notifiers,usr/lib/mdevctl/scripts.d/callouts,usr/lib/mdevctl/scripts.d/notifiers}
	cp /bin/busybox "$stage/bin/busybox"
	for a in $(/bin/busybox --list-full); do
		[ -e "$stage/$a" ] || ln -s /bin/busybox "$stage/$a"
	done
	for b in crun mdevctl uuidgen jq; do
		vm_copy_exe "$stage" "$(command -v "$b")" "/usr/bin/$b"
	done
	for b in plugin/vgpuctl oci-hook/vgpu-hook cdi/vgpu-cdi; do
		if [ -x "$BUILD/$b" ]; then
			vm_copy_exe "$stage" "$BUILD/$b" "/usr/bin/$(basename "$b")"
			echo "vm: guest gets $BUILD/$b"
		else
			echo "vm: $BUILD/$b missing: the guest checks that need it will fail"
		fi
	done
	cp "$HELPERS"/vfio-probe "$HELPERS"/vmtime "$stage/usr/bin/"
	for a in "${VM_ADD[@]}"; do
		vm_copy_exe "$stage" "${a%%:*}" "${a#*:}"
		echo "vm: guest gets ${a%%:*} as ${a#*:}"
	done
	vm_copy_modules "$stage"
	cp "$here/init" "$stage/init"
	cp "$here/guest-lib.sh" "$stage/vm/"
	cp "$guest_script" "$stage/vm/script.sh"
	chmod 755 "$stage/init" "$stage/vm/script.sh"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\n' >"$stage/etc/group"
	# The kernel opens /dev/console for init before anything can mount devtmpfs.
	mknod -m 600 "$stage/dev/console" c 5 1
	(cd "$stage" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
	INITRD_SIZE=$(stat -c %s "$out")
	echo "vm: initramfs $(awk -v s="$INITRD_SIZE" 'BEGIN { printf "%.1f", s / 1048576 }') MB gz" \
		"($(du -sm "$stage" | cut -f1) MB unpacked) in $(vm_since "$t0") s"
}

# One boot. The console (ttyS0) goes to the log; the guest writes its results, and a last
# `VGPU-VM-END rc=N` line, to a second serial port (ttyS1), so kernel messages never mix in.
vm_boot() {
	local initrd=$1 results=$2 log=$3 limit=$4 extra=$5 t0 waited=0
	: >"$results"
	: >"$log"
	t0=$(vm_now)
	# q35 with an emulated VT-d, and QEMU's NVMe controller as an SR-IOV PF where an iGPU sits
	# (0000:00:02.0, seven VFs at 00:02.1-7): see shared/facts/sriov.md.
	qemu-system-x86_64 -accel tcg -cpu max -m 1024 -smp 2 -nographic -monitor none -nic none \
		-machine q35 -vga none -device intel-iommu -device nvme-subsys,id=subsys0 \
		-device nvme,serial=deadbeef,subsys=subsys0,bus=pcie.0,addr=0x2,sriov_max_vfs=7,sriov_vq_flexible=14,sriov_vi_flexible=7 \
		-no-reboot -kernel "$KIMAGE" -initrd "$initrd" \
		-serial "file:$log" -serial "file:$results" \
		-append "console=ttyS0 panic=1 loglevel=4 intel_iommu=on vfio.enable_unsafe_noiommu_mode=1 $extra" \
		</dev/null >"$work/qemu.out" 2>&1 &
	qemu_pid=$!
	echo "vm: booted qemu pid $qemu_pid (timeout $limit s, host load $(cut -d" " -f1-3 /proc/loadavg)), console log $log"
	while kill -0 "$qemu_pid" 2>/dev/null; do
		if [ "$waited" -ge $((limit * 2)) ]; then
			echo "vm: guest did not finish in $limit s: killing qemu pid $qemu_pid"
			kill "$qemu_pid" 2>/dev/null || true
			break
		fi
		sleep 0.5
		waited=$((waited + 1))
	done
	wait "$qemu_pid" 2>/dev/null || true
	qemu_pid=
	[ -s "$work/qemu.out" ] && sed 's/^/vm: qemu: /' "$work/qemu.out"
	BOOT_SECONDS=$(vm_since "$t0")
	echo "vm: boot to poweroff $BOOT_SECONDS s"
}

vm_report() {
	local results=$1 log=$2 rc passed failed
	tr -d '\r' <"$results" >"$results.txt"
	grep -v '^VGPU-VM-' "$results.txt" || true
	passed=$(grep -c '^ok ' "$results.txt" || true)
	failed=$(grep -c '^not ok ' "$results.txt" || true)
	rc=$(sed -n 's/^VGPU-VM-END rc=\([0-9]*\).*/\1/p' "$results.txt" | tail -1)
	echo "vm: kernel $KVER, initramfs $INITRD_SIZE bytes, boot-to-result $BOOT_SECONDS s, log $log"
	if [ -z "$rc" ]; then
		echo "vm: the guest never reported an end; last console lines:"
		tail -40 "$log" | tr -d '\r'
		echo "vm: 0 passed, $((failed + 1)) failed"
		return 1
	fi
	if [ "$passed" = 0 ] && [ "$failed" = 0 ]; then
		echo "vm: guest script exit $rc"
		return "$((rc != 0))"
	fi
	if [ "$failed" -gt 0 ] || [ "$rc" != 0 ]; then
		echo "vm: guest script exit $rc; last console lines:"
		tail -25 "$log" | tr -d '\r'
		echo "vm: $passed passed, $failed failed"
		return 1
	fi
	echo "vm: $passed passed, 0 failed"
}
