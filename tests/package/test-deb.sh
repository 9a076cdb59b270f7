#!/bin/bash
# The Debian package, as an admin gets it: `dpkg-buildpackage -us -uc -b` on
# a fresh clone (committed HEAD) with packaging/debian as debian/, then
# `dpkg -x` into a temp root.  Checked there: FHS places and nothing else,
# every path a hooks.d file, vgpu-runtime's example config, the podman
# drop-in, the CDI spec the packaged vgpu-cdi writes, the unit and the udev
# rule name, man pages that render (`man -l`), the completion, the
# conffile, the unit left disabled, and the packaged vgpuctl doctor ok on
# the simulator with the package's files in place (overlayfs over /usr/bin
# and /usr/share in a private mount namespace).
# Run as: tests/sim/with-sim tests/package/test-deb.sh
. "$(dirname "$0")/../lib.sh"
for tool in git dpkg-buildpackage dh man xmllint unshare; do
	command -v "$tool" >/dev/null || { echo "1..0 # SKIP $tool is not installed (scripts/deps.sh installs it)"; exit 0; }
done
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
R=$T/root

git clone -q "$REPO" "$T/src" || { echo "Bail out! git clone $REPO failed"; exit 1; }
echo "# built from commit $(git -C "$T/src" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- 2>/dev/null || echo ' (the worktree has uncommitted changes, not in the clone)')"
cp -r "$T/src/packaging/debian" "$T/src/debian"
(cd "$T/src" && dpkg-buildpackage -us -uc -b) >"$T/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b succeeds" 0 "$rc$( ((rc == 0)) || tail -20 "$T/build.log" | sed 's/^/ /')"
deb=$(ls "$T"/vgpu-toolkit_*_*.deb 2>/dev/null | head -1)
check "one vgpu-toolkit .deb" 1 "$(ls "$T"/vgpu-toolkit_*_*.deb 2>/dev/null | wc -l)"
[ -n "$deb" ] || { finish; }
dpkg -x "$deb" "$R"
check "the version is meson's" "$(sed -n "s/^  version: '\(.*\)',/\1/p" "$REPO/meson.build")" "$(dpkg-deb -f "$deb" Version)"

# --- FHS places, nothing else
check "files only in FHS places" "" "$(cd "$R" && find . -type f | grep -vE '^\./(usr/bin|usr/share/(man|doc|bash-completion|vgpu-toolkit)|lib/systemd/system|lib/udev/rules\.d|usr/lib/systemd/system|usr/lib/udev/rules\.d|etc/containers/containers\.conf\.d)/')"
check "the four binaries, executable, in /usr/bin" "vgpu-cdi vgpu-hook vgpu-runtime vgpuctl" "$(cd "$R/usr/bin" && find . -type f -perm -u+x | sed 's|^\./||' | sort | paste -sd' ')"
check "no test binary or /usr/local" "" "$(cd "$R" && find . | grep -E 'vgpu-sim|-crash|/local/')"
check "the packaged vgpuctl runs" "vgpuctl $(dpkg-deb -f "$deb" Version)" "$("$R/usr/bin/vgpuctl" --version)"

# --- every path the hooks.d files name
for f in "$R"/usr/share/vgpu-toolkit/hooks.d/*/*.json; do
	rel=${f#"$R"}
	path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hook"]["path"])' "$f")
	check "$rel: its hook $path is in the package, executable" yes "$([ -x "$R$path" ] && echo yes || echo no)"
done
check "podman's directory holds the precreate file, CRI-O's the prestart one" \
	"crio/vgpu-toolkit-prestart.json:prestart,poststop podman/vgpu-toolkit-precreate.json:precreate,prestart,poststop" \
	"$(cd "$R/usr/share/vgpu-toolkit/hooks.d" && for f in */*.json; do printf '%s:%s ' "$f" "$(python3 -c 'import json,sys; print(",".join(json.load(open(sys.argv[1]))["stages"]))' "$f")"; done | sed 's/ $//')"
dropin=$R/etc/containers/containers.conf.d/50-vgpu-toolkit.conf
dirs=$(python3 -c 'import sys, tomllib; print(*tomllib.load(open(sys.argv[1], "rb"))["engine"]["hooks_dir"])' "$dropin" 2>&1)
check "the podman drop-in: podman's default and the packaged podman directory" \
	"/usr/share/containers/oci/hooks.d /usr/share/vgpu-toolkit/hooks.d/podman" "$dirs"
check "the directory the drop-in adds is in the package" yes "$([ -d "$R/usr/share/vgpu-toolkit/hooks.d/podman" ] && echo yes)"
check "no hooks.d file where CRI-O reads" "" "$(cd "$R" && find . -path '*containers/oci/hooks.d*')"
example=$R/usr/share/vgpu-toolkit/vgpu-runtime.json
path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["hook"])' "$example")
check "vgpu-runtime's example config: its hook $path is in the package, executable" yes "$([ -x "$R$path" ] && echo yes || echo no)"
check "the packaged vgpu-runtime takes its example config and runs runc" "vgpu-runtime $(dpkg-deb -f "$deb" Version)|$(runc --version | head -1)" \
	"$("$R/usr/bin/vgpu-runtime" --runtime-config "$example" --version 2>&1 | head -2 | paste -sd'|')"
dpkg-deb --ctrl-tarfile "$deb" | tar -xf - -C "$T" ./conffiles ./postinst 2>/dev/null
check "the drop-in is a conffile" "/etc/containers/containers.conf.d/50-vgpu-toolkit.conf" "$(cat "$T/conffiles" 2>&1)"

# --- every path the unit and the udev rule name
unit=$(ls "$R"/lib/systemd/system/vgpu-cdi.service "$R"/usr/lib/systemd/system/vgpu-cdi.service 2>/dev/null | head -1)
check "the unit is in the package" yes "$([ -n "$unit" ] && echo yes)"
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
check "ExecStart names the packaged vgpu-cdi" "/usr/bin/vgpu-cdi yes" "$exec_start $([ -x "$R$exec_start" ] && echo yes)"
# the package dpkg says owns a path (merged /usr: dpkg knows /bin/x for /usr/bin/x)
owner() { { dpkg -S "$1" || dpkg -S "${1#/usr}"; } 2>/dev/null | cut -d: -f1 | head -1; }
for p in $(sed -n 's/^ExecStartPre=-\{0,1\}\([^ ]*\).*/\1/p' "$unit") $(grep -o 'RUN+="[^ "]*' "$R"/lib/udev/rules.d/90-vgpu-cdi.rules | sed 's/RUN+="//'); do
	check "$p (named by the unit or rule) comes with the system: $(owner "$p")" yes \
		"$([ -x "$p" ] && [ -n "$(owner "$p")" ] && echo yes)"
done
check "the udev rule restarts the packaged unit" 1 "$(grep -c "systemctl --no-block restart ${unit##*/}" "$R"/lib/udev/rules.d/90-vgpu-cdi.rules)"
check "the unit is left disabled: postinst enables it only when the admin had, starts nothing" "0 0" \
	"$(awk '/was-enabled/ { w = 1 } /deb-systemd-helper enable/ && !w { bad++ } END { print bad + 0 }' "$T/postinst") $(grep -c 'deb-systemd-invoke\|systemctl.*start' "$T/postinst")"

# --- man pages render, completion
for m in "$R"/usr/share/man/man*/*; do
	out=$(MANWIDTH=80 man --warnings -l "$m" 2>"$T/man.err")
	check "man -l ${m#"$R"}: renders without warnings, NAME to SEE ALSO" "0 yes yes" \
		"$(wc -c <"$T/man.err") $(printf '%s\n' "$out" | grep -q '^NAME' && echo yes) $(printf '%s\n' "$out" | grep -q '^SEE ALSO' && echo yes)"
done
check "man pages: vgpuctl(8) vgpu-hook(8) vgpu-cdi(8) vgpu-runtime(8) and two in section 5" \
	"man5/vgpu-cdi.service.5.gz man5/vgpu-toolkit-hooks.5.gz man8/vgpu-cdi.8.gz man8/vgpu-hook.8.gz man8/vgpu-runtime.8.gz man8/vgpuctl.8.gz" \
	"$(cd "$R/usr/share/man" && ls man*/* | paste -sd' ')"
for c in vgpuctl vgpu-hook vgpu-cdi; do
	check "completion for $c is the project's script" same \
		"$(cmp -s "$R/usr/share/bash-completion/completions/$c" "$REPO/packaging/completion/vgpu-toolkit.bash" && echo same)"
done

# --- the package's files in place: its CDI spec and its doctor on the simulator
if grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null; then
	unshare -m --propagation private /bin/bash -c '
		mount -t overlay overlay -o "lowerdir=$1/usr/bin:/usr/bin" /usr/bin || exit 1
		mount -t overlay overlay -o "lowerdir=$1/usr/share:/usr/share" /usr/share || exit 1
		/usr/bin/vgpu-cdi generate --output "$2/spec.json" || exit 2
		/usr/bin/vgpuctl doctor --cdi-spec "$2/spec.json" >"$2/doctor.txt" 2>&1 || exit 3' _ "$R" "$T" >"$T/ns.log" 2>&1
	rc=$?
	check "in place: the packaged vgpu-cdi wrote a spec and the packaged doctor passed" 0 \
		"$rc$( ((rc == 0)) || sed 's/^/ /' "$T/ns.log" "$T/doctor.txt" 2>/dev/null)"
	for h in $(python3 -c 'import json,sys; print(*sorted({h["path"] for d in json.load(open(sys.argv[1]))["devices"] for h in d["containerEdits"].get("hooks", [])}))' "$T/spec.json"); do
		check "the CDI spec's hook $h is in the package" yes "$([ -x "$R$h" ] && echo yes)"
	done
	check "the packaged doctor found both packaged hooks.d files, and every check is ok" \
		"2 0" "$(grep -c '^ok    hooks.d /usr/share/vgpu-toolkit/hooks.d/' "$T/doctor.txt") $(grep -vc '^ok  ' "$T/doctor.txt")"
else
	skip "the package's files in place (overlayfs)" "this kernel has no overlay filesystem"
fi
finish
