#!/bin/bash
# vgpu-device-plugin's command line, and how it registers with a kubelet
# (the fake one, which calls the plugin's GetDevicePluginOptions before it
# answers Register, as the real one does): started before the kubelet it
# waits and registers when kubelet.sock appears; ListAndWatch then sends
# what `vgpuctl types` shows; a refused Register is one log line and the
# plugin registers with the next kubelet; SIGTERM stops it cleanly.
# Run as: tests/sim/with-sim tests/kubelet/test-kubelet-register.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
kb_setup

# --- the command line
out=$("$VGPU_DEVICE_PLUGIN" --help)
check "--help: exit 0, the usage" "0 Usage: vgpu-device-plugin [OPTIONS]" "$? $(printf '%s\n' "$out" | head -1)"
missing=""
for want in '--plugin-dir DIR .*\(default /var/lib/kubelet/device-plugins\)' '--mode dynamic\|pool ' '\(default dynamic\)' \
	'--type TYPE\|auto .*\(default auto' '--resource NAME .*\(default intel.com/vgpu\)' \
	'--cdi-kind VENDOR/CLASS .*\(default intel.com/vgpu\)' '--config FILE ' '--sysfs-root DIR' '--dev-root DIR' '--state-dir DIR' \
	'vgpu-toolkit-<resource with / and . as ->.sock'; do
	printf '%s\n' "$out" | grep -qE -- "$want" || missing="$missing [$want]"
done
check "--help: the flags other checks rely on, their defaults, the socket name" "" "$missing"
check "--version" "vgpu-device-plugin 0.1.0" "$("$VGPU_DEVICE_PLUGIN" --version)"
run() { "$VGPU_DEVICE_PLUGIN" --plugin-dir "$PLUGIN_DIR" "$@"; }
EXPECT_RC=2 expect_fail "an unknown flag: usage error" 'vgpu-device-plugin: unknown option or missing value in "--bogus"' run --bogus
EXPECT_RC=2 expect_fail "--mode static: the flag and the value" '^vgpu-device-plugin: --mode "static" is not dynamic or pool$' run --mode static
EXPECT_RC=2 expect_fail "--resource in kubernetes.io: refused" '--resource "kubernetes.io/vgpu" is not valid' run --resource kubernetes.io/vgpu
EXPECT_RC=2 expect_fail "--resource without a domain: refused" '--resource "vgpu" is not valid' run --resource vgpu
EXPECT_RC=2 expect_fail "--cdi-kind with a dot in the class: refused" '--cdi-kind "intel.com/v.gpu" is not valid' run --cdi-kind intel.com/v.gpu
EXPECT_RC=2 expect_fail "--pool-size 65: refused" '--pool-size "65" is not a number from 0 to 64' run --pool-size 65
EXPECT_RC=2 expect_fail "--adopt in dynamic mode: refused" 'adopt is for mode pool, not dynamic' run --adopt
EXPECT_RC=2 expect_fail "--type with a ':' in dynamic mode: refused at start" \
	'type "odd:type" is not a CDI device name as vgpu-cdi writes it unmapped' run --type odd:type
EXPECT_RC=2 expect_fail "an argument: usage error" 'unknown command "extra"' run extra
expect_fail "--config that does not exist" 'config /nonexistent/dp.json: No such file or directory' run --config /nonexistent/dp.json
printf '{"mode": "pool", "pool-sise": 2}' >"$KB_T/typo.json"
expect_fail "config: an unknown key is named" "config $KB_T/typo.json: unknown setting \"pool-sise\"" run --config "$KB_T/typo.json"
printf '{"mode": "pool",}' >"$KB_T/bad.json"
expect_fail "config: bad JSON, with the byte" "$KB_T/bad.json: config is not valid JSON at byte" run --config "$KB_T/bad.json"
printf '{"mode": ["pool"]}' >"$KB_T/array.json"
expect_fail "config: a value of the wrong type" '"mode" must be a string, a number or a boolean' run --config "$KB_T/array.json"
check "bad input left nothing: no socket, no mdev, no ledger" "0 0 0" \
	"$(ls -A "$PLUGIN_DIR" | wc -l) $(mdev_count) $(ledger_count)"

# --- started before the kubelet: it serves, waits, and registers when kubelet.sock appears
printf '{"mode": "pool", "scan-interval-ms": 500}\n' >"$KB_T/config.json"
plugin_start --config "$KB_T/config.json" --mode dynamic
wait_for 10 plugin_logged 'waiting for the kubelet: no .*/kubelet.sock yet'
check "no kubelet: it waits, serving on vgpu-toolkit-intel-com-vgpu.sock" "socket" \
	"$([ -S "$SOCK" ] && echo socket)"
check "the flag won over the config file (mode dynamic), and one line per event" 1 \
	"$(plugin_lines '^vgpu-device-plugin: serving intel.com/vgpu on .* \(mode dynamic\)$')"
t0=$(now)
kubelet_start
wait_for 10 kcount_above list 0
check "registered once kubelet.sock appeared" "1 intel.com/vgpu vgpu-toolkit-intel-com-vgpu.sock" \
	"$(kcount register) $(klast register resource) $(klast register endpoint)"
check "its options: GetPreferredAllocation available, no PreStartContainer" \
	"{'pre_start_required': False, 'get_preferred_allocation_available': True}" "$(klast register options)"
echo "# registered $(ms "$t0" "$(klast register t)") ms after the kubelet started"
check "ListAndWatch: a device per instance the GPU holds of the type auto picks (vgpuctl types)" \
	"$(dynamic_expected i915-GVTg_V5_4)" "$(last_list)"
check "the plugin logged the registration" 0 "$(plugin_logged '^vgpu-device-plugin: registered intel.com/vgpu with the kubelet' && echo 0)"
opts=$(kcall GetDevicePluginOptions)
check "GetDevicePluginOptions" "True False" \
	"$(jget "$opts" 'r.get("get_preferred_allocation_available", False)') $(jget "$opts" 'r.get("pre_start_required", False)')"
check "PreStartContainer: an empty answer" "{}" "$(kcall PreStartContainer '{"devices_ids": ["0000:00:02.0-0"]}')"
err=$(allocate no-such-device 2>&1 >/dev/null)
check "Allocate of an id it does not offer: INVALID_ARGUMENT naming it" \
	'INVALID_ARGUMENT: device "no-such-device" is not one intel.com/vgpu offers' "$err"

# --- Register refused: one line, it keeps serving, and registers with the next kubelet
kubelet_stop
kubelet_start --refuse "resource intel.com/vgpu is taken"
wait_for 10 plugin_logged 'Register with the kubelet failed \(gRPC status 2\): resource intel.com/vgpu is taken; trying again in'
check "refused: the plugin says why in one line" 1 "$(plugin_lines 'Register with the kubelet failed')"
check "refused: it still runs and serves" "running socket" \
	"$(kill -0 "$PLUGIN_PID" && echo running) $([ -S "$SOCK" ] && echo socket)"
check "the kubelet called GetDevicePluginOptions before refusing (the real one does)" \
	"resource intel.com/vgpu is taken" "$(klast refused message)"
kubelet_stop
n=$(kcount register)
kubelet_start
wait_for 10 kcount_above register "$n"
check "the next kubelet takes it" "$((n + 1))" "$(kcount register)"
wait_for 10 list_is "$(dynamic_expected i915-GVTg_V5_4)"
check "and gets the list" "$(dynamic_expected i915-GVTg_V5_4)" "$(last_list)"

# --- SIGTERM
n=$(kcount stream-end)
plugin_stop TERM
check "SIGTERM: exit 0" 0 "$PLUGIN_RC"
check "SIGTERM: its socket is gone, the kubelet's is not" "gone kubelet.sock" \
	"$([ -e "$SOCK" ] || echo gone) $(ls "$PLUGIN_DIR")"
check "SIGTERM: logged" 1 "$(plugin_lines '^vgpu-device-plugin: stopping on Terminated$')"
wait_for 5 kcount_above stream-end "$n"
check "SIGTERM: the kubelet's ListAndWatch ended" "$((n + 1))" "$(kcount stream-end)"
check "every stderr line is the plugin's" 0 "$(grep -vc '^vgpu-device-plugin: ' "$PLOG")"
finish
