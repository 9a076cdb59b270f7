#!/bin/bash
# vgpu-cdi's command line on the simulator: --help for every command, and bad
# input (kind, pool, type, claim id, combinations) as one line naming the flag
# and the value, exit 2 for usage and 1 for failure, with nothing left behind:
# no spec file, no mdev, no ledger record.
# Run as: tests/sim/with-sim tests/cdi/test-cdi-cli.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-cdi.sh"
T=$(mktemp -d)
export VGPU_STATE_DIR=$T/state
trap 'rm -rf "$T"' EXIT
D=$T/cdi
gen() { cdi generate --spec-dir "$D" --hook-path "$VGPU_HOOK" "$@"; }
prep() { cdi prepare --spec-dir "$D" "$@"; }

# nothing_left NAME: no spec file, mdev or ledger record after a refusal
nothing_left() { check "$1: nothing left behind" "0 0 0" "$(ls -A "$D" 2>/dev/null | wc -l) $(mdev_count) $(ledger_count)"; }

# --- help
for c in generate prepare unprepare list check remove; do
	out=$(cdi "$c" --help 2>&1)
	check "$c --help: exit 0, usage line" "0 Usage: vgpu-cdi [OPTIONS] $c" "$? $(printf '%s\n' "$out" | head -1 | cut -d' ' -f1-4)"
done
check "--help lists the six commands" 6 "$(cdi --help | grep -cE '^  (generate|prepare|unprepare|list|check|remove) ')"
check "--version" "vgpu-cdi 0.1.0" "$(cdi --version)"
out=$(cdi 2>&1 >/dev/null)
check "no command: the help on stderr, exit 2" "2 Usage: vgpu-cdi [OPTIONS] COMMAND [ARGS]" "$? $(printf '%s\n' "$out" | head -1)"

# --- usage errors: exit 2
EXPECT_RC=2
expect_fail "unknown command" '^vgpu-cdi: unknown command "frob"' cdi frob
expect_fail "unknown option" '^vgpu-cdi: unknown option or missing value in "--frob"' cdi generate --frob
expect_fail "option of another command" '^vgpu-cdi: option not valid for this command: "--claim"' gen --claim c1
expect_fail "bad --kind: no class" '^vgpu-cdi: --kind "intel.com": not VENDOR/CLASS \(as in intel.com/vgpu\)$' gen --kind intel.com
expect_fail "bad --kind: '.' in the class needs CDI 0.6.0" "^vgpu-cdi: --kind \"intel.com/v.gpu\": the class must not hold '.' \\(that needs cdiVersion 0.6.0\\)\$" gen --kind intel.com/v.gpu
expect_fail "bad --kind: vendor starts with a digit" '^vgpu-cdi: --kind "1ntel.com/vgpu": the vendor must start with a letter$' gen --kind 1ntel.com/vgpu
expect_fail "bad --kind: two slashes" '^vgpu-cdi: --kind "a.com/b/c": not VENDOR/CLASS' gen --kind a.com/b/c
expect_fail "bad --pool: no count" '^vgpu-cdi: --pool "i915-GVTg_V5_4" is not TYPE=COUNT' gen --pool i915-GVTg_V5_4
expect_fail "bad --pool: count 0" '^vgpu-cdi: --pool "i915-GVTg_V5_4=0": the count must be 1 to 64$' gen --pool i915-GVTg_V5_4=0
expect_fail "bad --pool: count 65" '^vgpu-cdi: --pool "i915-GVTg_V5_4=65": the count must be 1 to 64$' gen --pool i915-GVTg_V5_4=65
expect_fail "bad --pool: a path, not a type" '^vgpu-cdi: --pool "\.\./x=1" is not TYPE=COUNT' gen --pool ../x=1
expect_fail "--pool with --pool-from-existing" '^vgpu-cdi: --pool and --pool-from-existing exclude each other' gen --pool auto=1 --pool-from-existing
expect_fail "--persist without --pool" '^vgpu-cdi: --persist needs --pool' gen --persist
expect_fail "--pool N without --type" '^vgpu-cdi: --pool N needs --type TYPE, at --pool "2"' gen --pool 2
expect_fail "--type of generate without --pool N" '^vgpu-cdi: --type of generate goes with --pool N' gen --type auto
expect_fail "--output not *.json" '^vgpu-cdi: --output "/tmp/x.txt" is not a \*\.json file' gen --output /tmp/x.txt
expect_fail "--hook-path relative" '^vgpu-cdi: --hook-path "vgpu-hook" is not an absolute path$' gen --hook-path vgpu-hook
expect_fail "bad --claim: a path" '^vgpu-cdi: --claim "\.\./c1" is not a claim id' prep --claim ../c1 --type auto
expect_fail "bad --claim: ends in '-'" '^vgpu-cdi: --claim "c1-" is not a claim id' prep --claim c1- --type auto
expect_fail "bad --claim: too long" '^vgpu-cdi: --claim "a{64}\.\.\." is not a claim id' prep --claim "$(printf 'a%.0s' $(seq 119))" --type auto
expect_fail "bad --claim for unprepare" '^vgpu-cdi: --claim "a/b" is not a claim id' cdi unprepare --claim a/b
expect_fail "prepare without --claim" '^vgpu-cdi: this command needs --claim: "prepare"' prep --type auto
expect_fail "prepare without --type" '^vgpu-cdi: this command needs --type: "prepare"' prep --claim c1
expect_fail "bad --count" '^vgpu-cdi: --count "0" is not a number between 1 and 16$' prep --claim c1 --type auto --count 0
expect_fail "list --output -" '^vgpu-cdi: --output - \(stdout\) is for generate only' cdi list --output -
unset EXPECT_RC
nothing_left "usage errors"

# --- failures: exit 1
expect_fail "--pool of a type the host lacks" '^vgpu-cdi: --pool i915-GVTg_V9_9=1: unknown type i915-GVTg_V9_9$' gen --pool i915-GVTg_V9_9=1
expect_fail "a good --pool beside a bad one makes nothing" '^vgpu-cdi: --pool i915-GVTg_V9_9=2: unknown type i915-GVTg_V9_9$' \
	gen --pool i915-GVTg_V5_4=1 --pool i915-GVTg_V9_9=2
nothing_left "unknown pool type"
expect_fail "a pool larger than the GPU: rolled back" \
	'^vgpu-cdi: pool of i915-GVTg_V5_4: no instance of i915-GVTg_V5_4 left on 0000:00:02.0 \(0 available\)' gen --pool i915-GVTg_V5_4=6
nothing_left "pool too large"
expect_fail "prepare of a type the host lacks" '^vgpu-cdi: --type i915-GVTg_V9_9: unknown type i915-GVTg_V9_9$' prep --claim c1 --type i915-GVTg_V9_9
expect_fail "prepare on a parent the host lacks" '^vgpu-cdi: --type auto --parent 0000:00:09.0: unknown parent 0000:00:09.0' \
	prep --claim c1 --type auto --parent 0000:00:09.0
expect_fail "prepare more than the GPU has: rolled back" '^vgpu-cdi: no instance of i915-GVTg_V5_1 left on 0000:00:02.0' \
	prep --claim c1 --type i915-GVTg_V5_1 --count 2
nothing_left "refused prepares"
expect_fail "a hook that is not there" "^vgpu-cdi: hook $T/nohook: No such file or directory\$" gen --hook-path "$T/nohook"
expect_fail "an output directory that cannot be made" "^vgpu-cdi: spec file $T/a/b/x.json: no directory $T/a to make it in\$" \
	gen --output "$T/a/b/x.json" --pool i915-GVTg_V5_4=1
nothing_left "bad hook and output"
expect_fail "list without a spec" "^vgpu-cdi: no spec file $D/intel.com-vgpu.json\$" cdi list --spec-dir "$D"
expect_fail "check without a spec: stale" "^vgpu-cdi: no spec file $D/intel.com-vgpu.json\$" cdi check --spec-dir "$D"
echo '{"cdiVersion": "0.5.0", "kind": "intel.com/vgpu", "devices": [' > "$T/bad.json"
expect_fail "list of a broken spec: names the file and the byte" "^vgpu-cdi: $T/bad.json: CDI spec is not valid JSON: unexpected end at byte 63\$" \
	cdi list --output "$T/bad.json"

# --- `--pool N --type T` is `--pool T=N`
ok "generate --pool 2 --type i915-GVTg_V5_4" gen --pool 2 --type i915-GVTg_V5_4
check "two pool devices of that type, in the pool's own default file" "2 2" \
	"$(cdi list --output "$D/intel.com-vgpu-pool.json" | grep -c '=[0-9]$') $(ledger_count)"
ok "remove the pool spec" cdi remove --output "$D/intel.com-vgpu-pool.json"
nothing_left "pool N --type T"

# --- a custom kind names the file and the devices
ok "generate --kind example.com/gpu" gen --kind example.com/gpu
check "the file is <vendor>-<class>.json" "example.com-gpu.json" "$(ls "$D")"
check "its names carry the kind" "example.com/gpu=auto" "$(cdi list --spec-dir "$D" --kind example.com/gpu | tail -1)"
finish
