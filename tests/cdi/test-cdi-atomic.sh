#!/bin/bash
# The spec file is never seen half-written: a reader parses it in a loop
# while two writers run `vgpu-cdi generate` over and over with contents that
# differ; every read must parse as JSON.  Also: mode 0644 whatever the umask,
# no temp file left, `--output -` is the same text, and a spec without
# devices is removed instead of written.
# Run as: tests/sim/with-sim tests/cdi/test-cdi-atomic.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-cdi.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
SPEC=$T/cdi/intel.com-vgpu.json
ROUNDS=${ROUNDS:-150}

ok "first generate makes the spec directory" cdi generate --hook-path "$VGPU_HOOK" --output "$SPEC"
ln -s "$VGPU_HOOK" "$T/other-hook" # a second hook path, so consecutive specs differ

python3 - "$SPEC" "$T/stop" >"$T/reads" <<'PY' &
import json, os, sys
path, stop = sys.argv[1], sys.argv[2]
good = bad = missing = 0
kinds = set()
while not os.path.exists(stop):
    try:
        with open(path) as f:
            text = f.read()
    except FileNotFoundError:
        missing += 1
        continue
    try:
        kinds.add(json.loads(text)["devices"][0]["containerEdits"]["hooks"][0]["path"])
        good += 1
    except Exception:
        bad += 1
print(good, bad, missing, len(kinds))
PY
reader=$!
writer() {
	for i in $(seq "$ROUNDS"); do
		if [ $((i % 2)) = 0 ]; then h=$VGPU_HOOK; else h=$T/other-hook; fi
		"$VGPU_CDI" generate --hook-path "$h" --output "$SPEC" || echo "generate failed in round $i"
	done
}
(umask 077; writer) >"$T/w1" 2>&1 &
w1=$!
writer >"$T/w2" 2>&1
wait "$w1"
touch "$T/stop"
wait "$reader"
read -r good bad missing kinds <"$T/reads"
check "writers: every generate succeeded" "" "$(cat "$T/w1" "$T/w2")"
check "reader: no read was half-written or missing" "0 0" "$bad $missing"
check "reader: read many times, saw both contents" "yes 2" "$([ "$good" -gt 100 ] && echo yes || echo "only $good") $kinds"
echo "# $good reads during $((2 * ROUNDS)) generates"
check "mode 0644 under umask 077, no temp file left" "644 intel.com-vgpu.json" "$(stat -c %a "$SPEC") $(ls -A "$T/cdi")"
check "--output - prints the same spec" "$(cat "$SPEC")" \
	"$("$VGPU_CDI" generate --hook-path "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["devices"][0]["containerEdits"]["hooks"][0]["path"])' "$SPEC")" --output -)"

mkdir "$T/nosys"
expect_fail "a host without mdev types: generate fails and points at vgpuctl doctor" \
	"^vgpu-cdi: no mdev type on this host, so no spec \($SPEC removed\): .vgpuctl doctor. says what is missing\$" \
	cdi generate --hook-path "$VGPU_HOOK" --sysfs-root "$T/nosys" --output "$SPEC"
check "and removes the spec instead of writing one without devices" "no" "$([ -e "$SPEC" ] && echo yes || echo no)"
expect_fail "again, with no spec there: the same, nothing written" "\($SPEC not written\): " \
	cdi generate --hook-path "$VGPU_HOOK" --sysfs-root "$T/nosys" --output "$SPEC"
check "--output - with no devices prints nothing on stdout" "" \
	"$("$VGPU_CDI" generate --hook-path "$VGPU_HOOK" --sysfs-root "$T/nosys" --output - 2>/dev/null)"
finish
