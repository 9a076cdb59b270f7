#!/bin/bash
# Faults a careless admin or a hostile container makes, on the simulator: a
# ledger record that is a FIFO or a directory, a state directory anyone may
# write or that is a symlink, a state whose pid is no container, a
# config.json that is a FIFO, a status that is no stage, an env request the
# admin did not allow, a bad hook config; and where a failing hook's line
# goes besides stderr (the kernel log, or the hook's log file).
# Every refusal is one line and exit 1 (2 for usage), nothing hangs, nothing
# is left.  Run as: tests/sim/with-sim tests/runtime/test-ledger-faults.sh
. "$(dirname "$0")/../lib.sh"
export VGPU_STATE_DIR=$(mktemp -d)
B=$(mktemp -d)
T=$(mktemp -d)
start_stub
CPID=$STUB_PID
trap 'kill $CPID 2>/dev/null; rm -rf "$VGPU_STATE_DIR" "$B" "$T"' EXIT
mkdir -p "$B/rootfs/dev"
cat >"$B/config.json" <<JSON
{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["sh"],"env":["PATH=/bin"]},"linux":{}}
JSON
state() { # ID [STATUS] [PID]
	printf '{"ociVersion":"1.0.2","id":"%s","status":"%s","pid":%d,"bundle":"%s","annotations":{"intel.com/vgpu":"auto"}}' \
		"$1" "${2:-creating}" "${3:-$CPID}" "$B"
}
hook() { "$VGPU_HOOK" --no-cgroup "$@"; }
# in_time SECONDS CMD...: CMD's exit status, 124 when it hung
in_time() { timeout "$1" "${@:2}" >/dev/null 2>&1; echo $?; }
nothing_left() { check "$1: nothing left" "0 0" "$(mdev_count) $(ledger_count)"; }
U=83b8f4f2-509f-382f-3c1e-e6bfe0fa10ff

# --- a record that is a FIFO: nothing opens it (that would block), gc removes it
"$VGPUCTL" list >/dev/null # makes the ledger
mkfifo "$VGPU_STATE_DIR/ledger/$U.json"
check "FIFO record: vgpuctl list does not hang, exit 0" 0 "$(in_time 10 "$VGPUCTL" list)"
check "FIFO record: list shows it corrupt, owned by nobody" "$U ? ? owner=? state=corrupt (not on the mdev bus)" \
	"$(timeout 10 "$VGPUCTL" list)"
check "FIFO record: a hook does not hang" 0 "$(in_time 10 "$VGPU_HOOK" --no-cgroup createRuntime < <(state fifo))"
kill "$CPID"; wait "$CPID" 2>/dev/null; start_stub; CPID=$STUB_PID
out=$(timeout 10 "$VGPUCTL" gc)
check "FIFO record: gc exit 0, the entry removed, no mdev touched for it" \
	"0|left $U (no regular file: entry removed, mdev left alone)" "$?|$(printf '%s\n' "$out" | grep "^left")"
check "FIFO record: gone" no "$([ -e "$VGPU_STATE_DIR/ledger/$U.json" ] && echo yes || echo no)"
rm -rf "$B/rootfs/dev/vfio"
nothing_left "FIFO record"

# --- a record that is a directory: gc does not fail on it
mkdir "$VGPU_STATE_DIR/ledger/$U.json"
out=$("$VGPUCTL" gc 2>&1)
check "directory record: gc exit 0 and removes it" "0 no" "$? $([ -e "$VGPU_STATE_DIR/ledger/$U.json" ] && echo yes || echo no)"
mkdir -p "$VGPU_STATE_DIR/ledger/$U.json/x"
out=$("$VGPUCTL" gc 2>&1)
check "a directory that is not empty: gc exit 0, says to remove it by hand" "0 1" \
	"$? $(printf '%s\n' "$out" | grep -c 'not removable: left alone (remove it by hand)')"
rm -rf "${VGPU_STATE_DIR:?}/ledger/$U.json"

# --- a state directory anyone may write, or a symlink: every command refuses
chmod 0777 "$VGPU_STATE_DIR"
re="state directory $VGPU_STATE_DIR is owned by uid 0 with mode 0777: it must be root's and writable by root alone"
expect_fail "state dir 0777: vgpuctl list refuses" "^vgpuctl: $re" "$VGPUCTL" list
expect_fail "state dir 0777: vgpuctl allocate refuses" "^vgpuctl: $re" "$VGPUCTL" allocate --owner w --type auto
expect_fail "state dir 0777: vgpuctl gc refuses" "^vgpuctl: $re" "$VGPUCTL" gc
expect_fail "state dir 0777: the hook refuses" "^vgpu-hook: $re" hook createRuntime < <(state open)
nothing_left "state dir 0777"
chmod 0700 "$VGPU_STATE_DIR"
ln -s "$VGPU_STATE_DIR" "$T/state-link"
VGPU_STATE_DIR=$T/state-link expect_fail "state dir a symlink: said so" \
	"^vgpuctl: state directory $T/state-link is a symbolic link" "$VGPUCTL" list

# --- state input
expect_fail "a state pid in the hook's own mount namespace is refused" \
	"^vgpu-hook: OCI state pid $$ of container self is in the hook's own mount namespace: no container's process\$" \
	hook createRuntime < <(state self creating $$)
nothing_left "own namespace"
check "own namespace: no node made in the rootfs" "" "$(ls "$B/rootfs/dev")"
for status in running paused bogus; do
	expect_fail "no stage, status $status: refused, one line" \
		"^vgpu-hook: OCI state status \"$status\" of container st-$status is no stage \(creating, created or stopped\)" \
		hook < <(state "st-$status" "$status")
done
nothing_left "status"
mv "$B/config.json" "$T/config.json"
mkfifo "$B/config.json"
check "config.json a FIFO: the hook does not hang" 1 "$(in_time 10 "$VGPU_HOOK" --no-cgroup createRuntime < <(state fifo-config))"
expect_fail "config.json a FIFO: one line" "^vgpu-hook: config.json in bundle $B is not a regular file\$" \
	timeout 10 "$VGPU_HOOK" --no-cgroup createRuntime < <(state fifo-config)
rm "$B/config.json"
mv "$T/config.json" "$B/config.json"
nothing_left "config.json FIFO"

# --- the env request: refused unless the admin said so (flag or config file)
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["process"]["env"].append("INTEL_VGPU=auto"); json.dump(c, open(sys.argv[1], "w"))' "$B/config.json"
envstate() { printf '{"ociVersion":"1.0.2","id":"%s","status":"creating","pid":%d,"bundle":"%s"}' "$1" "$CPID" "$B"; }
expect_fail "env request without leave: refused" \
	'^vgpu-hook: env INTEL_VGPU=auto asks for a vGPU, but this hook takes requests from the annotation intel.com/vgpu or CDI only' \
	hook createRuntime < <(envstate env1)
nothing_left "env refused"
echo '{"accept_env": true, "unbound_after": 30}' >"$T/hook.json"
ok "env request with \"accept_env\": true in --config" hook --config "$T/hook.json" createRuntime < <(envstate env2)
check "env accepted: one vGPU" "1 1" "$(mdev_count) $(ledger_count)"
kill "$CPID"; wait "$CPID" 2>/dev/null; start_stub; CPID=$STUB_PID
ok "env accepted: poststop" hook poststop < <(envstate env2 | sed 's/"creating"/"stopped"/')
rm -rf "$B/rootfs/dev/vfio"
nothing_left "env accepted"
echo '{"accept_env": "yes"}' >"$T/bad.json"
expect_fail "hook config: a wrong type is named" "^vgpu-hook: $T/bad.json field \"accept_env\" must be a boolean\$" \
	hook --config "$T/bad.json" createRuntime < <(envstate env3)
echo '{"acept_env": true}' >"$T/typo.json"
expect_fail "hook config: an unknown key is named" "^vgpu-hook: $T/typo.json: unknown key \"acept_env\"\$" \
	hook --config "$T/typo.json" createRuntime < <(envstate env3)
expect_fail "hook config: a --config file that is missing" "^vgpu-hook: no hook config $T/none.json\$" \
	hook --config "$T/none.json" createRuntime < <(envstate env3)
nothing_left "hook config"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["process"]["env"].pop(); json.dump(c, open(sys.argv[1], "w"))' "$B/config.json"

# --- where a failure's line goes besides stderr
id="kmsg-$$-$RANDOM"
before=$(dmesg | grep -c "vgpu-hook\[[0-9]*\]: container $id: ")
hook createRuntime < <(state "$id" creating $$) 2>/dev/null
check "a failing hook's line reaches the kernel log, with the container id" 1 \
	"$(($(dmesg | grep -c "vgpu-hook\[[0-9]*\]: container $id: OCI state pid $$ of container $id is in the hook's own mount namespace") - before))"
hook --log "$T/hook.log" createRuntime < <(state logged creating $$) 2>/dev/null
check "--log FILE: the line goes there instead, with a UTC time and the container id" 1 \
	"$(grep -cE "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z vgpu-hook\[[0-9]+\]: container logged: OCI state pid $$" "$T/hook.log")"
echo "{\"log\": \"$T/conf.log\"}" >"$T/log.json"
hook --config "$T/log.json" createRuntime < <(state conf-logged creating $$) 2>/dev/null
check "\"log\" in the hook config: the same" 1 "$(grep -c 'container conf-logged: ' "$T/conf.log")"
nothing_left "logging"
finish
