#!/bin/bash
# packaging/kubernetes: every manifest parses as YAML; the DaemonSet runs
# the image build-image.sh makes, with arguments the plugin takes, and
# mounts only host paths the plugin uses, each where the plugin looks for it
# by default (read from its --help); the example pods ask for the resource
# the plugin registers.  Run as: tests/kubelet/test-kubelet-manifests.sh
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-kubelet.sh"
K8S=$REPO/packaging/kubernetes
python3 -c 'import yaml' 2>/dev/null || {
	echo "Bail out! python3-yaml is not installed (scripts/deps.sh)"
	exit 1
}
[ -x "$VGPU_DEVICE_PLUGIN" ] || {
	echo "Bail out! $VGPU_DEVICE_PLUGIN is not built"
	exit 1
}

for f in "$K8S"/*.yaml; do
	ok "$(basename "$f") parses as YAML, one or more documents" python3 -c 'import sys, yaml; assert list(yaml.safe_load_all(open(sys.argv[1])))' "$f"
done

# doc FILE EXPR: a Python expression on the first document d
doc() { python3 -c 'import sys, yaml; d = next(yaml.safe_load_all(open(sys.argv[1]))); print(eval(sys.argv[2]))' "$1" "$2"; }
DS=$K8S/vgpu-device-plugin.yaml
C='d["spec"]["template"]["spec"]["containers"][0]'
check "a DaemonSet of apps/v1, its selector matches its pods" "DaemonSet apps/v1 True" \
	"$(doc "$DS" 'd["kind"]') $(doc "$DS" 'd["apiVersion"]') $(doc "$DS" 'd["spec"]["selector"]["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()')"
version=$("$VGPU_DEVICE_PLUGIN" --version | awk '{print $2}')
check "it runs the image build-image.sh tags for this version" "localhost/vgpu-device-plugin:$version" "$(doc "$DS" "$C[\"image\"]")"
args=$(doc "$DS" "' '.join($C['args'])")
"$VGPU_DEVICE_PLUGIN" $args --plugin-dir /nonexistent/dir --no-sandbox >/dev/null 2>&1
check "the plugin takes its arguments ($args): no usage error" 1 "$?"

help=$("$VGPU_DEVICE_PLUGIN" --help)
default() { printf '%s\n' "$help" | sed -n "s/.*--$1 .*default \([^,)]*\).*/\1/p"; }
used="$(default plugin-dir) $(default sysfs-root) $(default cdi-dir) $(default state-dir)"
check "the defaults --help gives for its directories" "/var/lib/kubelet/device-plugins /sys /var/run/cdi /run/vgpu-toolkit" "$used"
mounts=$(doc "$DS" "'\n'.join(sorted('%s %s' % (v['hostPath']['path'], m['mountPath']) for v in d['spec']['template']['spec']['volumes'] for m in $C['volumeMounts'] if m['name'] == v['name']))")
check "every volume is a hostPath mounted at its own path" "" \
	"$(printf '%s\n' "$mounts" | awk '$1 != $2')"
check "the host paths: the plugin's directories, and the VFIO nodes under its dev root (/dev)" \
	"$(printf '%s\n' /var/lib/kubelet/device-plugins /sys "$(default dev-root)/vfio" /var/run/cdi /run/vgpu-toolkit | sort)" \
	"$(printf '%s\n' "$mounts" | awk '{print $1}')"
check "as many volumes as mounts: none unused" "$(doc "$DS" 'len(d["spec"]["template"]["spec"]["volumes"])')" \
	"$(doc "$DS" "len($C['volumeMounts'])")"

for pod in pod-dynamic pod-pool; do
	check "$pod: a Pod asking for one $RESOURCE" "Pod 1" \
		"$(doc "$K8S/$pod.yaml" 'd["kind"]') $(doc "$K8S/$pod.yaml" "d['spec']['containers'][0]['resources']['limits']['$RESOURCE']")"
done
check "--help says the resource the pods ask for is its default" "$RESOURCE" "$(default resource)"
finish
