#!/bin/bash
# vgpu-runtime run by hand in front of runc and crun on the simulator, for
# what the engines do not show: every other command is runc's own (state,
# list, features, --version byte for byte); accept_env false refuses env
# requests and keeps annotations; crun as the real runtime; a bundle whose
# cgroupsPath does not end in its id; a runtime that fails before it makes
# anything still leaves nothing (the shim's own release); the shim's errors
# as one line on stderr and, in runc's JSON or text form, in the --log file;
# a bad config file or runtime is one line naming it; a signal sent to the
# shim reaches the container.
# Run as: tests/sim/with-sim tests/engines/test-shim.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../runtime/lib-runtime.sh"
SHIM=$BUILD/oci-hook/vgpu-runtime
T=$(mktemp -d)
RT_DIRS+=("$T")
export VGPU_STATE_DIR=$T/state
trap rt_cleanup EXIT

shim_config "$T/shim.json"
shim() { "$SHIM" --runtime-config "$T/shim.json" "$@"; }
probe='for n in /dev/vfio/*; do case $n in */vfio) ;; *) cat $n 2>&1 | sed "s/^/OPEN /"; esac; done; true'

# --- every other command is runc's
rt_bundle t-pass-$$ sleep 600
(cd "$b" && shim create t-pass-$$ </dev/null >/dev/null 2>&1)
check "create of a container that asks for nothing" created \
	"$(runc state t-pass-$$ | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')"
check "state is runc's, byte for byte" "$(runc state t-pass-$$)" "$(shim state t-pass-$$)"
check "list is runc's" "$(runc list)" "$(shim list)"
check "features is runc's" "$(runc features)" "$(shim features)"
check "--version: the shim's line, then runc's" "vgpu-runtime 0.1.0
$(runc --version)" "$(shim --version)"
check "the packaged example config is accepted" "$(runc list)" \
	"$("$SHIM" --runtime-config "$BUILD/packaging/vgpu-runtime/vgpu-runtime.json" list)"
shim delete -f t-pass-$$
check "delete passes through" 1 "$(runc state t-pass-$$ >/dev/null 2>&1; echo $?)"

# --- accept_env false: env is no request (the hook's refusal), an annotation still is
shim_config "$T/noenv.json" '"accept_env": false'
rt_bundle t-noenv-$$ sh -c "$probe"
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto')"
cp "$b/config.json" "$T/before.json"
expect_fail "accept_env false: env INTEL_VGPU is refused with one line" \
	'^vgpu-runtime: env INTEL_VGPU=auto asks for a vGPU, but this hook takes requests from the annotation' \
	"$SHIM" --runtime-config "$T/noenv.json" create --bundle "$b" t-noenv-$$
check "accept_env false: config.json untouched, no container, nothing allocated" "1 0 0" \
	"$(cmp -s "$b/config.json" "$T/before.json" && runc state t-noenv-$$ >/dev/null 2>&1; echo $?) $(mdev_count) $(ledger_count)"
rt_bundle t-noenv2-$$ sh -c "$probe"
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto'); c['annotations'] = {'intel.com/vgpu': 'i915-GVTg_V5_2'}"
out=$(cd "$b" && "$SHIM" --runtime-config "$T/noenv.json" run t-noenv2-$$ 2>&1)
check "accept_env false: the annotation still gets a vGPU" 1 "$(printf '%s\n' "$out" | grep -c 'OPEN .*No such device or address')"
check "accept_env false: ... and it is gone after the run" "0 0" "$(mdev_count) $(ledger_count)"

# --- crun as the real runtime (wrapped on a hybrid cgroup host, lib-runtime.sh)
# (its temp file lands in $T, which goes at the end)
printf '#!/bin/bash\nexport TMPDIR=%s\n. %s/tests/runtime/lib-runtime.sh\ncrun_wrapped "$@"\n' "$T" "$REPO" >"$T/crun"
chmod +x "$T/crun"
rt_bundle t-crun-$$ sh -c "$probe"
RT_CONTAINERS+=("crun:t-crun-$$")
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto')"
out=$(cd "$b" && shim --runtime-path "$T/crun" run t-crun-$$ 2>&1)
check "crun: the container opens its node (ENXIO)" 1 "$(printf '%s\n' "$out" | grep -c 'OPEN .*No such device or address')"
check "crun: nothing left after the run" "0 0" "$(mdev_count) $(ledger_count)"
[ "$_failed" = 0 ] || printf '%s\n' "$out" | sed 's/^/#   crun: /'

# --- cgroupsPath that does not end in the id (or none): the id still holds
rt_bundle t-cg-$$ sh -c "$probe"
bundle_edit "$b" "del c['linux']['cgroupsPath']; c['process']['env'].append('INTEL_VGPU=auto')"
(cd "$b" && shim create t-cg-$$ </dev/null >/dev/null 2>"$T/err")
out=$(cat "$T/err")
check "no cgroupsPath: created" "" "$out"
check "no cgroupsPath: the allocation is the container's" 1 "$("$VGPUCTL" list | grep -c "owner=t-cg-$$")"
check "no cgroupsPath: config.json still has none" False \
	"$(python3 -c 'import json,sys; print("cgroupsPath" in json.load(open(sys.argv[1]))["linux"])' "$b/config.json")"
shim delete -f t-cg-$$
check "no cgroupsPath: delete releases" "0 0" "$(mdev_count) $(ledger_count)"

# --- the runtime fails before it makes anything: runc runs no poststop, the shim releases
rt_bundle t-early-$$ true
bundle_edit "$b" "c['process']['env'].append('INTEL_VGPU=auto')"
touch "$T/not-a-dir"
(cd "$b" && shim --root "$T/not-a-dir/runc" --log "$T/early.log" --log-format json create t-early-$$ >/dev/null 2>&1)
check "runc fails on a --root it cannot make" 1 $?
check "runc's own error is the log's last line" error \
	"$(tail -1 "$T/early.log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["level"])')"
check "nothing left: the shim released what it made" "0 0" "$(mdev_count) $(ledger_count)"

# --- the shim's own failure: one line, in the log as runc writes it, nothing made
rt_bundle t-bad-$$ true
bundle_edit "$b" "c['annotations'] = {'intel.com/vgpu': 'i915-GVTg_V9_9'}"
cp "$b/config.json" "$T/before.json"
line='vgpu-runtime: unknown type i915-GVTg_V9_9'
expect_fail "unknown type: one line on stderr, exit 1" "^$line" shim --log "$T/bad.log" --log-format json create --bundle "$b" t-bad-$$
check "unknown type: runc's JSON line in --log" "error|$line" \
	"$(python3 -c 'import json,sys; l=json.loads(open(sys.argv[1]).read()); print(l["level"] + "|" + l["msg"][:len(sys.argv[2])])' "$T/bad.log" "$line")"
check "unknown type: config.json untouched, no container, nothing left" "1 0 0" \
	"$(cmp -s "$b/config.json" "$T/before.json" && runc state t-bad-$$ >/dev/null 2>&1; echo $?) $(mdev_count) $(ledger_count)"
shim --log "$T/bad.txt" create -b "$b" t-bad-$$ 2>/dev/null
check "without --log-format json: logrus' text line" 1 "$(grep -c "level=error msg=\"$line" "$T/bad.txt")"

# --- configuration errors: one line naming what is wrong
echo '{ "accept-env": false }' >"$T/typo.json"
EXPECT_RC=1 expect_fail "a misspelt key is refused, named" 'config file .*typo.json has an unknown key "accept-env"' \
	"$SHIM" --runtime-config "$T/typo.json" state x
EXPECT_RC=1 expect_fail "a runtime that is not there" 'runtime "no-such-runtime" is not an executable in /usr/local/sbin' \
	"$SHIM" --runtime-config "$T/shim.json" --runtime-path no-such-runtime state x
EXPECT_RC=1 expect_fail "the shim as its own runtime is a loop" 'is vgpu-runtime itself' \
	"$SHIM" --runtime-config "$T/shim.json" --runtime-path "$SHIM" state x
EXPECT_RC=1 expect_fail "a named config file must exist" 'config file /nonexistent.json: No such file' \
	"$SHIM" --runtime-config /nonexistent.json state x
EXPECT_RC=2 expect_fail "a shim option without its value" 'missing value for "--runtime-path"' "$SHIM" --runtime-path

# --- a signal sent to the shim reaches the container through runc
rt_bundle t-sig-$$ sh -c 'trap "echo got-term; exit 3" TERM; echo ready; sleep 100 & wait'
(cd "$b" && exec "$SHIM" --runtime-config "$T/shim.json" run t-sig-$$ >"$T/sig.out" 2>&1) &
spid=$!
wait_ready() { grep -q ready "$T/sig.out"; }
for _ in $(seq 100); do wait_ready && break; sleep 0.1; done
kill -TERM "$spid"
wait "$spid"
rc=$?
check "SIGTERM to the shim reaches the container; the shim exits with its status" "got-term 3" \
	"$(grep -o got-term "$T/sig.out") $rc"

finish
