#!/bin/bash
# Restarts, in pool mode: the kubelet restarting (it deletes every socket
# in the directory and makes kubelet.sock anew) has the plugin serve again
# and re-register within 5 s; the plugin SIGKILLed and started again
# removes its stale socket, offers the same ids and makes no extra mdev;
# its socket deleted alone is served again; 50 kubelet restarts leave the
# plugin's count of open fds flat.  Prints the re-register times and fd
# counts.  Run as: tests/sim/with-sim tests/kubelet/test-kubelet-restart.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup

# reregister_ms: ms from the last kubelet start ("serving") to the
# plugin's Register after it, "" if there was none.
reregister_ms() {
	local s r
	s=$(klast serving t)
	r=$(klast register t)
	python3 -c 'import sys; s, r = map(float, sys.argv[1:]); print(round((r - s) * 1000) if r > s else "")' "$s" "$r"
}

plugin_start --mode pool --pool-size 3
kubelet_start
wait_for 10 kcount_above list 0
ids=$(last_list)
check "three mdevs, three Healthy devices" "3 3" "$(mdev_count) $(echo "$ids" | grep -c ':Healthy$')"

# --- the kubelet restarts (a new process): sockets deleted, kubelet.sock anew
served=$(plugin_lines 'socket .*vgpu-toolkit-intel-com-vgpu.sock was deleted: serving again')
kubelet_stop
n=$(kcount register)
kubelet_start
wait_for 10 kcount_above register "$n"
t=$(reregister_ms)
check "kubelet restart: re-registered within 5 s" yes "$([ -n "$t" ] && [ "$t" -le 5000 ] && echo yes)"
echo "# re-registered ${t} ms after the new kubelet.sock"
check "kubelet restart: it served again on a new socket (logged)" "$((served + 1))" \
	"$(plugin_lines 'socket .*vgpu-toolkit-intel-com-vgpu.sock was deleted: serving again')"
wait_for 5 kcount_above list "$(($(kcount list) - 1))"
check "kubelet restart: the same devices" "$ids" "$(last_list)"

# --- the plugin is SIGKILLed: its socket stays behind; started again
plugin_stop KILL
check "SIGKILL leaves the socket behind" yes "$([ -S "$SOCK" ] && echo yes)"
made=$(plugin_lines 'pool: made mdev')
n=$(kcount register)
plugin_start --mode pool --pool-size 3
wait_for 10 kcount_above register "$n"
check "restarted: the stale socket removed, one line" 1 "$(plugin_lines "^vgpu-device-plugin: removed the stale socket $SOCK$")"
check "restarted: registered again" "$((n + 1))" "$(kcount register)"
wait_for 5 list_is "$ids"
check "restarted: the same ids" "$ids" "$(last_list)"
check "restarted: no extra mdev, none made" "3 $made" "$(mdev_count) $(plugin_lines 'pool: made mdev')"

# --- only its socket deleted
n=$(kcount register)
rm "$SOCK"
wait_for 5 kcount_above register "$n"
check "socket deleted: served again and registered again" "socket $((n + 1))" \
	"$([ -S "$SOCK" ] && echo socket) $(kcount register)"

# --- 50 kubelet restarts: every one re-registered within 5 s, fds flat
fds=()
worst=0
late=0
for i in $(seq 50); do
	n=$(kcount register)
	kubelet_restart_in_place
	if ! wait_for 5 kcount_above register "$n"; then
		late=$((late + 1))
		continue
	fi
	t=$(reregister_ms)
	[ "$t" -gt "$worst" ] && worst=$t
	wait_for 5 kcount_above list "$(($(kcount list) - 1))"
	fds+=("$(open_fds "$PLUGIN_PID")")
done
check "50 kubelet restarts: re-registered after each within 5 s" 0 "$late"
echo "# 50 kubelet restarts: slowest re-registration ${worst} ms"
echo "# open fds after restarts 1, 10, 25, 50: ${fds[0]} ${fds[9]} ${fds[24]} ${fds[49]}"
# A sample may catch a connection of the moment (a few fds more); the
# fewest over the last five restarts is no more than over the first five,
# which a leak of even one fd a restart (45 more) could not pass.
min_of() { printf '%s\n' "$@" | sort -n | head -1; }
check "50 kubelet restarts: the open fds stay flat (no more at the end than at the start)" yes \
	"$([ "$(min_of "${fds[@]:45:5}")" -le "$(min_of "${fds[@]:0:5}")" ] && echo yes || echo "no: ${fds[*]}")"
check "50 kubelet restarts: still the same devices, no extra mdev" "$ids 3" "$(last_list) $(mdev_count)"
plugin_stop TERM
check "then SIGTERM: exit 0" 0 "$PLUGIN_RC"
finish
