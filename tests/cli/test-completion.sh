#!/bin/bash
# bash completion (packaging/completion/vgpu-toolkit.bash) for the three
# CLIs: it offers each program's commands and each command's options, as
# their --help lists them, and values from the host (the simulator here).
# Run as: tests/sim/with-sim tests/cli/test-completion.sh
. "$(dirname "$0")/../lib.sh"
export VGPU_STATE_DIR=$(mktemp -d)
trap 'rm -rf "$VGPU_STATE_DIR"' EXIT
# shellcheck source=../../packaging/completion/vgpu-toolkit.bash
. "$REPO/packaging/completion/vgpu-toolkit.bash"

# comp WORD...: what completing the last word offers, space-separated
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	_vgpu_toolkit
	echo "${COMPREPLY[*]}"
}

check "registered for the three programs" "vgpuctl vgpu-hook vgpu-cdi" \
	"$(complete -p | sed -n 's/^complete -F _vgpu_toolkit //p' | tr ' ' '\n' | sort -r | paste -sd' ')"
check "vgpuctl: every command" "types list allocate release gc doctor define undefine libvirt-xml sriov" "$(comp "$VGPUCTL" "")"
check "vgpuctl: a prefix" "define doctor" "$(comp "$VGPUCTL" d | tr ' ' '\n' | sort | paste -sd' ')"
check "vgpuctl: the command after a global option and its value" "types" "$(comp "$VGPUCTL" --state-dir /tmp ty)"
check "vgpuctl: global options before the command" "--dev-root --help --no-sandbox --state-dir --sysfs-root --version" "$(comp "$VGPUCTL" --)"
check "vgpuctl allocate: its options and the global ones" \
	"--count --dev-root --help --json --min-resolution --no-sandbox --owner --parent --pid --stage --state-dir --sysfs-root --type --uuid" \
	"$(comp "$VGPUCTL" allocate --)"
check "vgpuctl libvirt-xml: its options and the global ones" "--dev-root --display --domain" "$(comp "$VGPUCTL" libvirt-xml --d)"
check "vgpuctl doctor: its options" "--cdi-spec --dev-root --help --hooks-dir --json --no-sandbox --state-dir --sysfs-root --vgpu-cdi" \
	"$(comp "$VGPUCTL" doctor --)"
check "--display: on or off" "on off" "$(comp "$VGPUCTL" libvirt-xml --display "")"
check "--type: auto and the host's types" "auto i915-GVTg_V5_1 i915-GVTg_V5_2 i915-GVTg_V5_4 i915-GVTg_V5_8" "$(comp "$VGPUCTL" allocate --owner a --type "")"
check "--parent: the host's parents" "0000:00:02.0" "$(comp "$VGPUCTL" allocate --parent "")"
u=$("$VGPUCTL" allocate --owner comp --type i915-GVTg_V5_8)
check "--uuid: the active mdevs" "$u" "$(comp "$VGPUCTL" libvirt-xml --uuid "")"
"$VGPUCTL" release --owner comp
check "--mdevctl-dir: file names" "$REPO/packaging" "$(comp "$VGPUCTL" define --mdevctl-dir "$REPO/packag")"
check "vgpu-cdi: every command" "generate prepare unprepare list check remove" "$(comp "$VGPU_CDI" "")"
check "vgpu-cdi generate: its options" "--persist --pool --pool-from-existing" "$(comp "$VGPU_CDI" generate --p)"
check "vgpu-cdi prepare: its options" "--claim --count" "$(comp "$VGPU_CDI" --kind a.b/c prepare --c)"
check "vgpu-hook: the stages" "precreate prestart createRuntime poststop" "$(comp "$VGPU_HOOK" "")"
check "vgpu-hook: its options" "--release-timeout-ms" "$(comp "$VGPU_HOOK" --re)"
check "vgpu-hook: the stage after an option" "poststop precreate prestart" "$(comp "$VGPU_HOOK" --type auto p | tr ' ' '\n' | sort | paste -sd' ')"
finish
