# bash completion for vgpuctl, vgpu-hook and vgpu-cdi (installed once per
# command name).  Commands and options are read from the program's own
# --help, so the completion follows the program it completes; values come
# from the host where there is a list (types, parents, mdevs, SR-IOV PFs and
# their VFs).

# _vgpu_help_options PROG [COMMAND]: the long options its help names, in
# the usage line or the option list, one a line.
_vgpu_help_options() {
	local help
	help=$("$@" --help 2>/dev/null)
	{
		printf '%s\n' "$help" | grep '^Usage:' | grep -o -- '--[a-z][a-z0-9-]*'
		printf '%s\n' "$help" | sed -n 's/^  \(-h, \)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p'
	} | sort -u
}

# The commands in PROG --help's "Commands:" section.
_vgpu_help_commands() {
	"$1" --help 2>/dev/null | sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# _vgpu_takes_value OPTION PROG [COMMAND]: its help line shows an argument after it.
_vgpu_takes_value() {
	local opt=$1
	shift
	"$@" --help 2>/dev/null | grep -Eq -- "^  $opt [A-Za-z|/]"
}

# The Intel display-class PFs with SR-IOV (vgpuctl's own choice when no
# sriov.json names PFs), one a line.
_vgpu_pfs() {
	local d
	for d in "${VGPU_SYSFS_ROOT:-/sys}"/bus/pci/devices/*; do
		[ -e "$d/sriov_totalvfs" ] && [ "$(cat "$d/vendor" 2>/dev/null)" = 0x8086 ] &&
			[[ $(cat "$d/class" 2>/dev/null) == 0x03* ]] && echo "${d##*/}"
	done
}

_vgpu_values() { # OPTION
	local sysfs=${VGPU_SYSFS_ROOT:-/sys} t d
	case $1 in
	--display | --ramfb) echo "on off" ;;
	--type)
		echo auto
		for t in "$sysfs"/class/mdev_bus/*/mdev_supported_types/*; do
			[ -e "$t" ] && echo "${t##*/}"
		done | sort -u
		[ -n "$(_vgpu_pfs)" ] && echo vf
		;;
	--parent) { ls "$sysfs/class/mdev_bus" 2>/dev/null; _vgpu_pfs; } | sort -u ;;
	--uuid)
		ls "$sysfs/bus/mdev/devices" 2>/dev/null
		for d in $(_vgpu_pfs); do
			for t in "$sysfs/bus/pci/devices/$d"/virtfn*; do
				[ "$(basename "$(readlink "$t/driver" 2>/dev/null)")" = vfio-pci ] && basename "$(readlink "$t")"
			done
		done
		;;
	esac
}

_vgpu_toolkit() {
	local prog=${COMP_WORDS[0]} cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local cmd="" i words
	COMPREPLY=()
	# the command is the first word that is neither an option nor an option's value
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--sysfs-root | --dev-root | --state-dir | --kind | --spec-dir) ((i++)) ;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			break
			;;
		esac
	done
	[ "${prog##*/}" = vgpu-hook ] && cmd=""
	if [[ $prev == --* ]]; then
		if _vgpu_takes_value "$prev" "$prog" ${cmd:+"$cmd"}; then
			words=$(_vgpu_values "$prev")
			if [ -n "$words" ]; then
				mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			else
				mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			fi
			return 0
		fi
	fi
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_vgpu_help_options "$prog" ${cmd:+"$cmd"})" -- "$cur")
	elif [ "$cmd" = sriov ]; then # sriov enable PF N | sriov disable PF
		case $prev in
		sriov) mapfile -t COMPREPLY < <(compgen -W "enable disable" -- "$cur") ;;
		enable | disable) mapfile -t COMPREPLY < <(compgen -W "$(_vgpu_pfs)" -- "$cur") ;;
		esac
	elif [ "${prog##*/}" = vgpu-hook ]; then
		mapfile -t COMPREPLY < <(compgen -W "precreate prestart createRuntime poststop" -- "$cur")
	elif [ -z "$cmd" ]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_vgpu_help_commands "$prog")" -- "$cur")
	fi
	return 0
}
complete -F _vgpu_toolkit vgpuctl vgpu-hook vgpu-cdi
