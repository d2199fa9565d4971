#!/bin/sh
# One DeviceConfig, one meaning (contract section 6): the same YAML given as
# --config FILE and stored on the test API server (tests/peers/apiserver.py,
# which applies the CRD's defaults and prunes unknown fields as a real
# server does, tests/peers/api_crd.py) and read with --deviceconfig gives
# the same mode, devices (list --json) and labels (labels --json) on every
# scenario, and the same driver plans and verdict on the DeviceConfig
# (check) on the main ones.  Then the cases the issue names one by one.
. "${top_srcdir:-$(dirname "$0")/../..}/tests/lib.sh"
. "$top_srcdir/tests/apiserver.sh"

skip_without openssl "$PY"
"$PY" -c 'import yaml' 2>/dev/null || { echo "SKIP: $PY has no yaml module"; exit 77; }
[ -x "$MKHOST" ] || { echo "SKIP: no $MKHOST"; exit 77; }

T=$TEST_TMP
isolate_from_cluster
mkdir -p "$T/dc"

# --- the DeviceConfigs ------------------------------------------------------
# Each carries fields AMD's schema has and amdvirt ignores, and one the
# schema does not have (spec.unknownSection, pruned by the server), so that
# what the server adds and removes is in play.

# The seed's inbox-GIM path: drivers managed by nobody, no driverType.
cat >"$T/dc/inbox.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata:
  name: inbox
  namespace: kube-amd-gpu
spec:
  selector:
    feature.node.kubernetes.io/amd-vgpu: "true"
  driver:
    enable: false
  unknownSection:
    anything: 1
EOF
# VF passthrough managed by the agent, mixed naming as AMD's plugin takes it.
cat >"$T/dc/vf-managed.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata:
  name: vf-managed
  namespace: kube-amd-gpu
spec:
  driver:
    enable: true
    driverType: vf-passthrough
    version: "8.1.0.K"
    image: registry.example.com/amdgpu_kmod
    blacklist: true
    vfioConfig:
      deviceIDs:
      - "74b5"
      - "7410"
    kernelModuleConfig:
      parameters:
      - vf_num=1
  devicePlugin:
    devicePluginArguments:
      resource_naming_strategy: mixed
  metricsExporter:
    enable: false
EOF
# PF passthrough, drivers the admin's own.
cat >"$T/dc/pf.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata:
  name: pf
  namespace: kube-amd-gpu
spec:
  driver:
    enable: false
    driverType: pf-passthrough
    vfioConfig:
      deviceIDs: ["74a1", "740f"]
EOF
# spec.driver without driverType (a cluster stores container), hives and an
# extra vendor from annotations.
cat >"$T/dc/hives.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata:
  name: hives
  namespace: kube-amd-gpu
  annotations:
    amdvirt/hives: '[["0000:05:00.0","0000:25:00.0","0000:45:00.0","0000:65:00.0"],["0000:85:00.0","0000:a5:00.0","0000:c5:00.0","0000:e5:00.0"]]'
    amdvirt/vendor-ids: "1b36"
spec:
  driver:
    version: "8.1.0.K"
  devicePlugin:
    devicePluginArguments:
      resource_naming_strategy: single
EOF
DCS="inbox vf-managed pf hives"

# The API server's objects: the same YAML, as JSON.
"$PY" - "$T/dc" "$T/objects.json" $DCS <<'EOF'
import json, sys, yaml
d, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
objs = [yaml.safe_load(open("%s/%s.yaml" % (d, n))) for n in names]
# A KubeVirt CR that permits nothing yet, for kubevirt-config --apply.
kv = {"apiVersion": "kubevirt.io/v1", "kind": "KubeVirt",
      "metadata": {"name": "kubevirt", "namespace": "kubevirt"}, "spec": {"configuration": {}}}
json.dump({"deviceconfigs": objs, "kubevirts": [kv]}, open(out, "w"))
EOF

# --- the server -------------------------------------------------------------
make_certs
TOKEN="tok-deviceconfig-7c1e"
start_apiserver
write_kubeconfig "$T/kubeconfig" "$T/ca.crt" test admin

# The server stores what a cluster with the CRD stores.
check "the server defaults spec.driver.driverType to container and prunes unknown fields" \
	"$PY" - "$top_srcdir/tests/peers" "$T/dc/inbox.yaml" <<'EOF'
import sys, yaml
sys.path.insert(0, sys.argv[1])
import api_crd
obj = api_crd.admit_deviceconfig(yaml.safe_load(open(sys.argv[2])))
spec = obj["spec"]
sys.exit(not (spec["driver"] == {"enable": False, "driverType": "container"}
              and "unknownSection" not in spec and spec["selector"]))
EOF

# both DC OUT ARGS...: the command with --config FILE and with --deviceconfig;
# true when the exit status and stdout (and, on success, stderr) agree.
# Both runs have the same API access, so that what differs is only where
# the DeviceConfig comes from (check runs its cluster checks with access).
# The outputs are left in $T/OUT.file and $T/OUT.api.
both() {
	dc=$1 out=$2
	shift 2
	rf=0 ra=0
	"$AMDVIRT" --kubeconfig "$T/kubeconfig" --config "$T/dc/$dc.yaml" "$@" >"$T/$out.file" 2>"$T/$out.file.err" || rf=$?
	"$AMDVIRT" --kubeconfig "$T/kubeconfig" --deviceconfig "kube-amd-gpu/$dc" "$@" \
		>"$T/$out.api" 2>"$T/$out.api.err" || ra=$?
	if [ $rf -ne $ra ] || ! cmp -s "$T/$out.file" "$T/$out.api" ||
		{ [ $rf -eq 0 ] && ! cmp -s "$T/$out.file.err" "$T/$out.api.err"; }; then
		echo "# $dc: amdvirt $*: --config exit $rf, --deviceconfig exit $ra"
		diff -u "$T/$out.file" "$T/$out.api" | head -20 | sed 's/^/# /'
		diff -u "$T/$out.file.err" "$T/$out.api.err" | head -6 | sed 's/^/# /'
		return 1
	fi
}

# --- every scenario: mode, devices, labels --------------------------------------
# Labels on every scenario for the two whose meaning depends on what the
# server adds (the default driverType) and keeps (annotations); the main
# scenarios below have them for all four.
MAIN="mi300x-vf mi300x-pf mi210-hives mi300x-container mixed none"
for f in "$SCENARIOS"/*.json; do
	name=$(basename "$f" .json)
	H=$(build_host "$name")
	for dc in $DCS; do
		what="$name, $dc: list --json agrees from a file and from the API"
		case "$dc $MAIN " in
		inbox* | hives* | *" $name "*) what="$name, $dc: list --json and labels --json agree from a file and from the API" ;;
		esac
		if both "$dc" list --root "$H" list --json &&
			case "$what" in *labels*) both "$dc" labels --root "$H" labels --json ;; esac; then
			ok "$what"
		else
			not_ok "$what"
		fi
	done
	case " $MAIN " in *" $name "*) ;; *) rm -rf "$H" ;; esac
done

# --- the main scenarios: driver plans and the verdict on the DeviceConfig -------
for name in $MAIN; do
	H=$(build_host "$name")
	for dc in $DCS; do
		check "$name, $dc: bind --all --dry-run --json agrees" both "$dc" plan --root "$H" bind --all --dry-run --json
		check "$name, $dc: gim load --dry-run --json agrees" both "$dc" plan --root "$H" gim load --dry-run --json
		check "$name, $dc: check --json agrees" both "$dc" check --root "$H" check --json
	done
done

# q FILE EXPR: a Python expression over the JSON document d in FILE.
q() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not eval(sys.argv[2]))' "$1" "$2"
}
# res OUT: the resource a list --json output advertises (empty without).
res() { "$PY" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["resources"]))' "$1"; }

# --- the issue's case: spec.driver without driverType on a VF host ---------------
H=$(build_host mi300x-vf)
both hives list --root "$H" list --json
check "spec.driver without driverType on a vf host: vf-passthrough from a file" \
	q "$T/list.file" 'd["mode"] == "vf-passthrough" and d["mode_source"] == "auto"'
check "... and from the API (where driverType container was stored)" \
	q "$T/list.api" 'd["mode"] == "vf-passthrough" and d["mode_source"] == "auto"'
check "... with its 8 devices both ways" \
	sh -c "cmp -s '$T/list.file' '$T/list.api' && $PY -c 'import json,sys; sys.exit(len(json.load(open(sys.argv[1]))[\"devices\"]) != 8)' '$T/list.api'"
both hives labels --root "$H" labels --json
check "... labelled vf-passthrough both ways" \
	sh -c "cmp -s '$T/labels.file' '$T/labels.api' && $PY -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))[\"amd.com/gpu.mode\"] != \"vf-passthrough\")' '$T/labels.api'"
# The seed's inbox path: no driver management, the VFs advertised.
both inbox list --root "$H" list --json
check "inbox GIM (enable false, no driverType): vf-passthrough with 8 devices both ways" \
	q "$T/list.api" 'd["mode"] == "vf-passthrough" and len(d["devices"]) == 8'

# Every command reads --deviceconfig the same way: list and labels agree.
"$AMDVIRT" --root "$H" --kubeconfig "$T/kubeconfig" --deviceconfig kube-amd-gpu/inbox list --json >"$T/l.json" || true
"$AMDVIRT" --root "$H" --kubeconfig "$T/kubeconfig" --deviceconfig kube-amd-gpu/inbox labels --json >"$T/b.json" || true
check "list and labels with the same --deviceconfig report the same mode" \
	"$PY" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["mode"] != json.load(open(sys.argv[2]))["amd.com/gpu.mode"])' \
	"$T/l.json" "$T/b.json"

# --- resource naming from devicePluginArguments ---------------------------------
both vf-managed list --root "$H" list --json
check "resource_naming_strategy mixed: amd.com/gpu_vf from a file" test "$(res "$T/list.file")" = amd.com/gpu_vf
check "... and from the API" test "$(res "$T/list.api")" = amd.com/gpu_vf
both vf-managed list --root "$H" --resource-naming single list --json
check "--resource-naming single wins over the DeviceConfig" test "$(res "$T/list.api")" = amd.com/gpu
check "... both ways" cmp -s "$T/list.file" "$T/list.api"

# kubevirt-config takes the configuration through the same path: the patch
# and what --apply writes name the DeviceConfig's resource.
both vf-managed kvc --root "$H" kubevirt-config --json
check "kubevirt-config: the same patch from a file and from the API, for amd.com/gpu_vf" \
	q "$T/kvc.api" '[e["resourceName"] for e in d["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]] == ["amd.com/gpu_vf"]'
rc=0
"$AMDVIRT" --root "$H" --kubeconfig "$T/kubeconfig" --deviceconfig kube-amd-gpu/vf-managed \
	kubevirt-config --apply >"$T/kva.out" 2>"$T/kva.err" || rc=$?
check "kubevirt-config --apply --deviceconfig: exit 0" test $rc -eq 0
check "... the KubeVirt CR on the server permits amd.com/gpu_vf, the DeviceConfig's naming" \
	"$PY" - "https://127.0.0.1:$PORT" "$T/ca.crt" "$TOKEN" <<'EOF'
import json, ssl, sys, urllib.request
url, ca, token = sys.argv[1:]
req = urllib.request.Request(url + "/apis/kubevirt.io/v1/namespaces/kubevirt/kubevirts/kubevirt",
                             headers={"Authorization": "Bearer " + token})
cr = json.load(urllib.request.urlopen(req, context=ssl.create_default_context(cafile=ca)))
pci = cr["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]
sys.exit(not ([(e["pciVendorSelector"], e["resourceName"], e["externalResourceProvider"]) for e in pci]
              == [("1002:74b5", "amd.com/gpu_vf", True)]))
EOF

# --- a passthrough driverType the host contradicts ---------------------------------
both pf check --root "$H" check --json
check "pf-passthrough on a host with GPUs on gim: check config.driver-type fails, both ways" \
	q "$T/check.api" 'any(r["id"] == "config.driver-type" and r["status"] == "fail" and "spec.driver.driverType is pf-passthrough" in r["message"] and r["hint"] for r in d["checks"])'
check "... and check exits 1" sh -c "'$AMDVIRT' --root '$H' --config '$T/dc/pf.yaml' check >/dev/null 2>&1; [ \$? -eq 1 ]"
PH=$(build_host mi300x-pf)
both vf-managed check --root "$PH" check --json
check "vf-passthrough (managed) on a host whose PFs are on vfio-pci: fails naming the PF" \
	q "$T/check.api" 'any(r["id"] == "config.driver-type" and r["status"] == "fail" and "on vfio-pci" in r["message"] for r in d["checks"])'
both pf check --root "$PH" check --json
check "pf-passthrough on a pf host: config.driver-type passes" \
	q "$T/check.api" 'any(r["id"] == "config.driver-type" and r["status"] == "pass" for r in d["checks"])'

# --- hives from the annotation -------------------------------------------------------
both hives list --root "$PH" list --json
check "amdvirt/hives: two hives of 4 from the annotation, both ways" \
	q "$T/list.api" '[(h["source"], len(h["gpus"])) for h in d["hives"]] == [("config", 4), ("config", 4)]'

# --- spec.amdvirt is file-only ---------------------------------------------------------
cat >"$T/dc/own.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata: {name: own, namespace: kube-amd-gpu}
spec:
  amdvirt:
    resourceNaming: mixed
EOF
"$AMDVIRT" --root "$H" --config "$T/dc/own.yaml" list --json >"$T/own.json" || true
check "spec.amdvirt.resourceNaming is still read from a file" test "$(res "$T/own.json")" = amd.com/gpu_vf

# --- bad annotations: one line naming the annotation and the object ----------------------
cat >"$T/dc/bad.yaml" <<'EOF'
apiVersion: amd.com/v1alpha1
kind: DeviceConfig
metadata:
  name: bad
  namespace: kube-amd-gpu
  annotations:
    amdvirt/hives: '[["0000:05:00.0", "nope"]]'
EOF
rc=0
"$AMDVIRT" --root "$H" --config "$T/dc/bad.yaml" list >"$T/out" 2>"$T/err" || rc=$?
check "a bad amdvirt/hives is a usage error (exit 2)" test $rc -eq 2
check "... one line naming the annotation, the object and the value" \
	sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'annotation amdvirt/hives of DeviceConfig kube-amd-gpu/bad.*nope' '$T/err'"
sed -i 's|amdvirt/hives:.*|amdvirt/vendor-ids: "1b36,zz"|' "$T/dc/bad.yaml"
rc=0
"$AMDVIRT" --root "$H" --config "$T/dc/bad.yaml" list >"$T/out" 2>"$T/err" || rc=$?
check "a bad amdvirt/vendor-ids is a usage error naming the annotation, its object and the value" \
	sh -c "[ $rc -eq 2 ] && grep -q \"annotation amdvirt/vendor-ids of DeviceConfig kube-amd-gpu/bad: 'zz'\" '$T/err'"

# --- YAML as kubectl gives it ---------------------------------------------------------
"$PY" - "$T/dc/vf-managed.yaml" "$T/list.yaml" <<'EOF'
import sys, yaml
obj = yaml.safe_load(open(sys.argv[1]))
obj["metadata"].update({"resourceVersion": "123", "uid": "u", "generation": 2})
yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [obj], "metadata": {"resourceVersion": ""}},
               open(sys.argv[2], "w"))
EOF
"$AMDVIRT" --root "$H" --config "$T/list.yaml" list --json >"$T/fromlist.json" || true
check "a List of one DeviceConfig (kubectl get -o yaml) reads as that DeviceConfig" \
	sh -c "'$AMDVIRT' --root '$H' --config '$T/dc/vf-managed.yaml' list --json | cmp -s - '$T/fromlist.json'"
printf 'apiVersion: v1\nkind: List\nitems: [{kind: DeviceConfig}, {kind: DeviceConfig}]\n' >"$T/two.yaml"
rc=0
"$AMDVIRT" --root "$H" --config "$T/two.yaml" list >"$T/out" 2>"$T/err" || rc=$?
check "a List of two is refused (exit 2), saying so" \
	sh -c "[ $rc -eq 2 ] && grep -q 'a List of 2 items; amdvirt reads one DeviceConfig' '$T/err'"
printf 'kind: DeviceConfig\n---\nkind: DeviceConfig\n' >"$T/docs.yaml"
"$AMDVIRT" --root "$H" --config "$T/docs.yaml" list >"$T/out" 2>"$T/err" || true
check "two YAML documents: exit 2, naming FILE:LINE" \
	sh -c "grep -q '^amdvirt: $T/docs.yaml:2: a second YAML document' '$T/err'"
printf 'spec:\n  driver:\n    enable: false\n   driverType: x\n' >"$T/syntax.yaml"
"$AMDVIRT" --root "$H" --config "$T/syntax.yaml" list >"$T/out" 2>"$T/err" || true
check "a YAML syntax error: one line naming FILE:LINE" \
	sh -c "[ \$(wc -l <'$T/err') -eq 1 ] && grep -q '^amdvirt: $T/syntax.yaml:4: not valid YAML' '$T/err'"
printf 'spec:\n  driver:\n    vfioConfig:\n      deviceIDs: [7410]\n' >"$T/num.yaml"
"$AMDVIRT" --root "$H" --config "$T/num.yaml" list >"$T/out" 2>"$T/err" || true
check "an unquoted numeric device ID is refused, asking for quotes" \
	grep -q 'spec.driver.vfioConfig.deviceIDs\[0\] must be a string (in YAML, quote it' "$T/err"

finish
